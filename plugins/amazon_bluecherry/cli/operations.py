"""``amazon-bluecherry outbound resend ID`` and ``quality report --date D --out FILE.html``."""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from amazon_bluecherry.cli import CommandError


def register(subparsers) -> None:
    outbound = subparsers.add_parser("outbound", help="documents we send to Amazon")
    commands = outbound.add_subparsers(dest="outbound_command", metavar="ACTION", required=True)
    resend = commands.add_parser("resend", help="send an outbound file again with the next upload of its type "
                                                "(recorded in the audit trail)")
    resend.add_argument("outbound_document_id", type=int)
    resend.add_argument("--note", help="why (kept in the audit trail)")
    resend.set_defaults(handler=_resend)

    quality = subparsers.add_parser("quality", help="data quality")
    quality_commands = quality.add_subparsers(dest="quality_command", metavar="ACTION", required=True)
    report = quality_commands.add_parser("report", help="the daily data-quality report of one day, as HTML")
    report.add_argument("--date", type=date.fromisoformat, help="the day (UTC), YYYY-MM-DD; default yesterday")
    report.add_argument("--out", type=Path, required=True, help="HTML file to write")
    report.set_defaults(handler=_report)


def _resend(args) -> int:
    from amazon_bluecherry.flows.operations import OperationRefused, resend_outbound
    from amazon_bluecherry.store import get_store

    try:
        resent = resend_outbound(get_store(), args.outbound_document_id, actor=f"cli:{getpass.getuser()}",
                                 note=args.note)
    except OperationRefused as exc:
        raise CommandError(str(exc), exit_code=1) from exc
    print(f"{resent.file_name} ({resent.doc_type}, was {resent.was}) will be sent again by the next upload "
          f"of {resent.doc_type} files")
    return 0


def _report(args) -> int:
    from amazon_bluecherry.quality.report import build_report
    from amazon_bluecherry.settings import get_settings
    from amazon_bluecherry.store import get_store

    day = args.date or (datetime.now(UTC).date() - timedelta(days=1))
    report = build_report(get_store(), day, get_settings())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.html, encoding="utf-8")
    print(f"data-quality report of {day.isoformat()}: {args.out} ({len(report.flags)} flag(s))")
    for flag in report.flags:
        print(f"  ! {flag}")
    return 0
