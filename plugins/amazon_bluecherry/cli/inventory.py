"""``amazon-bluecherry inventory ...``: what stock_to_846 would publish, by hand.

``inventory plan`` is a contract (other tools call it): the options, the JSON shape
``{"items": [{"upc", "warehouse", "ats", "buffer", "published", "rule"}], "refused": null}``
and the exit codes (0 planned, 1 the snapshot is stale and nothing may be published,
2 bad input, named by file, line and column) must not change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from amazon_bluecherry.cli import CommandError

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2


def register(subparsers) -> None:
    inventory = subparsers.add_parser("inventory", help="BlueCherry available-to-sell -> Amazon 846 (stock_to_846)")
    commands = inventory.add_subparsers(dest="inventory_command", metavar="ACTION", required=True)
    plan = commands.add_parser(
        "plan", help="what an ATS sheet and a buffer policy would publish (no side effects)",
        description="Apply the buffer policy to an ATS sheet (CSV with the columns style,color,size,upc,"
        "warehouse,on_hand,allocated,on_hold,incoming,snapshot_at) and print, per UPC and warehouse, the "
        "available stock, the buffer held back, what would be published and the rule. Exit 1 when the "
        "snapshot is stale, 2 on bad input.")
    plan.add_argument("--ats", type=Path, required=True, metavar="FILE.csv", help="the ATS sheet")
    plan.add_argument("--buffer", type=Path, required=True, metavar="FILE.yaml", help="the buffer policy")
    plan.add_argument("--now", metavar="ISO", help="judge the snapshot's age at this time (default: now)")
    plan.add_argument("--max-age-minutes", type=float, metavar="N",
                      help="refuse a snapshot older than this (default AB_INVENTORY_MAX_AGE_MINUTES)")
    plan.add_argument("--warehouses", metavar="A,B", help="keep only these warehouses (default: every one in the file)")
    plan.add_argument("--json", action="store_true", help="print the JSON report")
    plan.set_defaults(handler=_plan)


def _plan(args) -> int:
    from amazon_bluecherry.flows.stock_inputs import InputFileError, load_buffer_policy, read_ats_sheet
    from amazon_bluecherry.flows.stock_to_846 import plan_stock, refusal_reason
    from amazon_bluecherry.settings import get_settings

    settings = get_settings()
    now = _now(args.now)
    max_age = args.max_age_minutes if args.max_age_minutes is not None else settings.inventory_max_age_minutes
    if max_age <= 0:
        raise CommandError(f"--max-age-minutes must be positive, got {max_age:g}", exit_code=EXIT_BAD_INPUT)
    warehouses = [code.strip() for code in args.warehouses.split(",") if code.strip()] if args.warehouses else None
    if args.warehouses is not None and not warehouses:
        raise CommandError("--warehouses names no warehouse", exit_code=EXIT_BAD_INPUT)
    try:
        policy = load_buffer_policy(args.buffer)
        sheet = read_ats_sheet(args.ats)
    except InputFileError as exc:
        raise CommandError(str(exc), exit_code=EXIT_BAD_INPUT) from exc

    reason = refusal_reason(sheet.snapshot_at, now=now, max_age=timedelta(minutes=max_age))
    if reason is not None:
        report = {"items": [], "refused": reason}
    else:
        planned = plan_stock(sheet.frame, policy, include_incoming=settings.inventory_include_incoming,
                             warehouses=warehouses)
        report = {
            "items": [
                {"upc": upc, "warehouse": warehouse, "ats": int(ats), "buffer": int(buffer),
                 "published": int(published), "rule": rule}
                for upc, warehouse, ats, buffer, published, rule in zip(
                    planned["upc"], planned["warehouse"], planned["ats"], planned["buffer"],
                    planned["published"], planned["rule"], strict=True)
            ],
            "refused": None,
        }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_human(report, sheet.snapshot_at)
    return EXIT_REFUSED if report["refused"] else 0


def _now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now {text!r} is not an ISO 8601 time (e.g. 2026-11-30T10:00:00Z)",
                           exit_code=EXIT_BAD_INPUT) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _print_human(report: dict, snapshot_at: datetime) -> None:
    if report["refused"]:
        print(f"REFUSED: {report['refused']}; nothing would be published")
        return
    print(f"{'UPC':<14} {'warehouse':<9} {'ATS':>7} {'buffer':>7} {'published':>9}  rule")
    for item in report["items"]:
        print(f"{item['upc']:<14} {item['warehouse']:<9} {item['ats']:>7} {item['buffer']:>7} "
              f"{item['published']:>9}  {item['rule']}")
    items = report["items"]
    print(f"{len(items)} item(s) from the snapshot of {snapshot_at.isoformat(timespec='seconds')}: "
          f"{sum(i['ats'] for i in items)} available, {sum(i['buffer'] for i in items)} held back, "
          f"{sum(i['published'] for i in items)} published")
