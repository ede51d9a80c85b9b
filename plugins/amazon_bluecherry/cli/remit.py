"""``amazon-bluecherry remit ...``: Amazon's 820 remittances, by hand.

``classify`` is a dry run other tools call: its JSON shape and exit codes are fixed
(0 every line recognised, 1 some line unrecognised, 2 unreadable input).
"""

from __future__ import annotations

import json
from pathlib import Path

from amazon_bluecherry.cli import CommandError


def register(subparsers) -> None:
    remit = subparsers.add_parser("remit", help="Amazon 820 remittances -> BlueCherry cash and GL journals")
    commands = remit.add_subparsers(dest="remit_command", metavar="ACTION", required=True)

    classify = commands.add_parser(
        "classify", help="dry run: classify every line of an 820 file (exit 1 if any line is unrecognised)")
    classify.add_argument("file", type=Path, help="X12 file with 820 remittances")
    classify.add_argument("--mappings", type=Path, help="folder with remit_codes.csv (default AB_MAPPINGS_DIR)")
    classify.add_argument("--json", action="store_true", help="print the JSON report")
    classify.set_defaults(handler=_classify)


def _classify(args) -> int:
    from amazon_bluecherry.edi.parse import DocumentError
    from amazon_bluecherry.edi.reader import X12Error
    from amazon_bluecherry.flows.mappings import MappingError
    from amazon_bluecherry.flows.remit_codes import load_remit_codes
    from amazon_bluecherry.flows.remit_to_journals import classify_file
    from amazon_bluecherry.settings import get_settings

    settings = get_settings()
    try:
        codes = load_remit_codes(args.mappings or settings.mappings_dir)
    except MappingError as exc:
        raise CommandError(str(exc)) from exc
    if not args.file.is_file():
        raise CommandError(f"{args.file}: no such file")
    try:
        remittances = classify_file(args.file.read_bytes(), codes, settings.posting_policy)
    except (X12Error, DocumentError, OSError, ValueError) as exc:
        raise CommandError(f"{args.file}: cannot be read: {exc}") from exc
    if not remittances:
        raise CommandError(f"{args.file}: no 820 remittance in the file")
    report = {"remittances": [remittance.to_report() for remittance in remittances]}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_classification(report)
    unrecognised = any(line["deduction_type"] == "unrecognised" for r in report["remittances"] for line in r["lines"])
    return 1 if unrecognised else 0


def _print_classification(report: dict) -> None:
    for remittance in report["remittances"]:
        print(f"remittance {remittance['trace_number']}: payment {remittance['payment_amount']}, "
              f"{len(remittance['lines'])} line(s), {'balanced' if remittance['balanced'] else 'NOT BALANCED'}")
        for line in remittance["lines"]:
            flag = "  <- UNRECOGNISED (suspense)" if line["deduction_type"] == "unrecognised" else ""
            print(f"  {line['reference']:<40} {line['amount']:>12}  {line['deduction_type']:<26} "
                  f"{line['gl_account']:<6} {line['owner']}{flag}")
        print("  journals:")
        for journal in remittance["journals"]:
            print(f"    {journal['deduction_type']:<26} {journal['gl_account']:<6} {journal['amount']:>12}")
