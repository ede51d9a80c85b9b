"""``amazon-bluecherry`` command line.

Each sub-module contributes a group with ``register(subparsers)``; packages outside the
product (the sandbox) contribute theirs through the ``amazon_bluecherry.commands`` entry
point, so the product never imports them. Handlers return an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from importlib.metadata import entry_points

# Product command groups, imported lazily so `--help` stays fast.
_GROUPS = [
    "amazon_bluecherry.cli.db",
    "amazon_bluecherry.cli.edi",
    "amazon_bluecherry.cli.orders",
    "amazon_bluecherry.cli.ops",
    "amazon_bluecherry.cli.remit",
    "amazon_bluecherry.cli.inventory",
    "amazon_bluecherry.cli.asn",  # fulfilment_to_asn: asn lint
    "amazon_bluecherry.cli.operations",  # issue 12: outbound resend, quality report
]


class CommandError(Exception):
    """A user-facing failure: printed as one line on stderr, exit code attached."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def terminal_safe(text: str) -> str:
    """``text`` with everything but printable ASCII escaped (``\\x1b``, ``\\u202e``...), newlines kept.

    What we print may quote input (file names, bad values): raw bytes must never reach a
    terminal, where escape sequences would move the cursor or rewrite earlier output.
    """
    if text.isascii() and text.isprintable():
        return text
    return "\n".join(
        "".join(char if " " <= char <= "~" else char.encode("unicode_escape").decode("ascii") for char in line)
        for line in text.split("\n")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amazon-bluecherry",
        description="Amazon Vendor Central <-> CGS BlueCherry integration layer.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _GROUPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a group not built yet must not break the others
            if exc.name != module_name:
                raise
            continue
        module.register(subparsers)
    for entry in entry_points(group="amazon_bluecherry.commands"):
        try:
            entry.load()(subparsers)
        except ImportError as exc:  # sandbox extras not installed: product commands still work
            logging.getLogger(__name__).debug("command group %s unavailable: %s", entry.name, exc)
    return parser


def _quiet_great_expectations(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith("great_expectations")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:  # GX logs a few hundred INFO lines about itself (and pins some loggers at INFO)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_great_expectations)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args) or 0)
    except CommandError as exc:
        print(f"error: {terminal_safe(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; say nothing more, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        problem = store_problem(exc)
        if problem is None:
            raise
        print(f"error: {terminal_safe(problem)}", file=sys.stderr)
        return 2


def store_problem(exc: BaseException) -> str | None:
    """What to tell a person when the integration store cannot answer (else None: a real bug).

    A store never migrated (a new AB_HOME, a new database) is the common case: say the command.
    """
    if not type(exc).__module__.startswith("sqlalchemy") or type(exc).__name__ not in (
            "OperationalError", "ProgrammingError"):
        return None
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if "no such table" in cause or ("relation" in cause and "does not exist" in cause):
        return (f"the integration store (AB_DATABASE_URL) has no tables yet ({cause}): run "
                "`amazon-bluecherry db upgrade` once, then this command again")
    return f"the integration store (AB_DATABASE_URL) cannot be used: {cause}"
