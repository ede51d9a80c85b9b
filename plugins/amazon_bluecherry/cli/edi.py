"""``amazon-bluecherry edi ...``: X12 tools (validate; parse is added alongside).

Each subcommand has its own ``_register_<name>(commands)`` so adding one is a small,
separate edit to :func:`register`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from amazon_bluecherry.cli import CommandError, terminal_safe


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("edi", help="X12 EDI tools: validate files, write acknowledgments")
    commands = group.add_subparsers(dest="edi_command", metavar="EDI_COMMAND")
    group.set_defaults(handler=lambda args: _help(group))
    _register_validate(commands)
    _register_parse(commands)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


# ---- validate ------------------------------------------------------------------------------


def _register_validate(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "validate",
        help="validate an X12 file against the implementation guides",
        description=(
            "Validate FILE. Exit 0 when every transaction set is accepted, 1 when any set is "
            "rejected or accepted with errors or the interchange is broken, 2 when the input "
            "is not X12 or cannot be read."
        ),
    )
    p.add_argument("file", metavar="FILE", help="X12 file to validate")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--ack", metavar="OUT.edi", help="write the 997 (and TA1 if due) to this file")
    p.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    from amazon_bluecherry.edi.ack import build_997
    from amazon_bluecherry.edi.reader import X12Error
    from amazon_bluecherry.edi.validator import validate_file
    from amazon_bluecherry.edi.writer import InMemoryControlNumbers

    path = Path(args.file)
    if path.is_dir():
        raise CommandError(f"{path} is a directory, not an X12 file", exit_code=2)
    try:
        report = validate_file(path)
    except X12Error as exc:
        raise CommandError(f"{path}: not a readable X12 file: {exc}", exit_code=2) from exc
    if args.ack:
        # Standalone use: numbers from the clock keep ISA13 unique enough between runs;
        # the pipeline uses the store's persistent sequences instead.
        import time

        seed = int(time.time()) % 900_000_000
        ack = build_997(
            report, control_numbers=InMemoryControlNumbers(start={"ISA": seed, "GS": seed, "ST": 0})
        )
        try:
            Path(args.ack).write_bytes(ack)
        except OSError as exc:
            raise CommandError(f"cannot write {args.ack}: {exc.strerror or exc}", exit_code=2) from exc
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_summary(report)
    return report.exit_code


class _SafeWriter:
    """Writes through :func:`terminal_safe`: values quoted from the input are escaped."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> None:
        self._stream.write(terminal_safe(text))


def _print_summary(report) -> None:
    out = _SafeWriter(sys.stdout)
    out.write(f"{report.source}: {report.segment_count} segments\n")
    for interchange in report.interchanges:
        out.write(
            f"interchange {interchange.control_number} from {interchange.sender} to {interchange.receiver}: "
            f"{'REJECTED - ' + interchange.error if interchange.error else 'envelope ok'}\n"
        )
        for ta1 in interchange.acknowledgements:
            v = ta1 + [""] * 6
            out.write(f"  TA1 for interchange {v[1]} of {v[2]} {v[3]}: {_STATUS.get(v[4], v[4])}, note code {v[5]}\n")
        for group in interchange.groups:
            extra = f" ({'; '.join(group.messages)})" if group.messages else ""
            out.write(
                f"  group {group.functional_id} {group.control_number} version {group.version}: "
                f"{_STATUS.get(group.status, group.status)}, {group.accepted}/{group.received} sets accepted{extra}\n"
            )
            for ts in group.transactions:
                out.write(f"    {ts.set_id} {ts.control_number}: {_STATUS.get(ts.status, ts.status)}")
                out.write(f" (AK5 {' '.join(ts.ak5_codes)})\n" if ts.ak5_codes else "\n")
                for issue in ts.errors[:50]:
                    out.write(f"      [{issue.level} {issue.code}] {issue.message}\n")
                if len(ts.errors) > 50:
                    out.write(f"      ... {len(ts.errors) - 50} more (use --json)\n")
    verdict = "OK" if report.exit_code == 0 else "FAILED"
    out.write(f"{verdict}\n")


_STATUS = {"A": "accepted", "E": "accepted with errors", "R": "rejected", "P": "partially accepted"}


# ---- parse ---------------------------------------------------------------------------------


def _register_parse(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "parse",
        help="print the typed documents of an X12 file as JSON",
        description=(
            "Parse FILE into typed documents (850, 855, 856, 810, 846, 820, 997) and print them "
            "as a JSON list, each with a 'type'; decimals are strings, dates ISO. Exit 1 when a "
            "transaction set cannot be mapped, 2 when the input is not X12 or cannot be read."
        ),
    )
    p.add_argument("file", metavar="FILE", help="X12 file to parse")
    p.add_argument(
        "--skip-unsupported", action="store_true", help="skip transaction sets that have no document model"
    )
    p.set_defaults(handler=_parse)


def _parse(args: argparse.Namespace) -> int:
    from amazon_bluecherry.edi.documents import documents_to_json
    from amazon_bluecherry.edi.parse import DocumentError, parse_file
    from amazon_bluecherry.edi.reader import X12Error

    path = Path(args.file)
    if path.is_dir():
        raise CommandError(f"{path} is a directory, not an X12 file", exit_code=2)
    try:
        documents = parse_file(path, skip_unsupported=args.skip_unsupported)
    except X12Error as exc:
        raise CommandError(f"{path}: not a readable X12 file: {exc}", exit_code=2) from exc
    except OSError as exc:
        raise CommandError(f"{path}: cannot read: {exc.strerror or exc}", exit_code=2) from exc
    except DocumentError as exc:
        raise CommandError(f"{path}: {exc}", exit_code=1) from exc
    # ASCII-only JSON (same data): a control character from the input never reaches a terminal raw.
    sys.stdout.write(json.dumps(json.loads(documents_to_json(documents)), indent=2) + "\n")
    return 0
