"""``amazon-bluecherry exceptions ...`` and ``trace``: the exception queue and the data path."""

from __future__ import annotations

import json

from amazon_bluecherry.cli import CommandError, terminal_safe

STATUSES = ("open", "acknowledged", "resolved")
OWNERS = ("finance", "warehouse", "wholesale", "integration")


def register(subparsers) -> None:
    exceptions = subparsers.add_parser("exceptions", help="the exception queue: list, acknowledge, resolve")
    commands = exceptions.add_subparsers(dest="exceptions_command", metavar="ACTION", required=True)
    listing = commands.add_parser("list", help="exceptions, newest last")
    listing.add_argument("--owner", choices=OWNERS)
    listing.add_argument("--status", choices=STATUSES, default="open")
    listing.add_argument("--type", dest="exception_type")
    listing.add_argument("--all", action="store_true", help="every status")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    for action, status in (("acknowledge", "acknowledged"), ("resolve", "resolved")):
        command = commands.add_parser(action, help=f"mark an exception {status}")
        command.add_argument("exception_id", type=int)
        command.add_argument("--note", required=action == "resolve", help="what was done (kept in the audit trail)")
        command.set_defaults(handler=_update, status=status)

    trace = subparsers.add_parser("trace", help="the data path of a document: 850 -> sales order -> 855 -> ...")
    trace.add_argument("business_key", help="PO number, shipment id, invoice number, remittance trace ...")
    trace.add_argument("--json", action="store_true")
    trace.set_defaults(handler=_trace)


def _list(args) -> int:
    from amazon_bluecherry.store import get_store

    records = get_store().list_exceptions(status=None if args.all else args.status, owner=args.owner,
                                          type=args.exception_type)
    rows = [{"id": r.id, "type": r.type, "owner": r.owner, "severity": r.severity, "status": r.status,
             "business_key": r.business_key, "message": r.message, "runbook": r.runbook,
             "created_at": r.created_at.isoformat(), "raw_document_id": r.raw_document_id,
             "transaction_id": r.transaction_id, "resolution_note": r.resolution_note} for r in records]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(terminal_safe(f"#{row['id']:<5} {row['status']:<12} {row['severity']:<8} {row['owner']:<11} "
                            f"{row['type']:<26} {row['business_key'] or '':<14} {row['message']}"))
    print(f"{len(rows)} exception(s)")
    return 0


def _update(args) -> int:
    from amazon_bluecherry.store import StoreError, get_store

    try:
        import getpass

        get_store().update_exception(args.exception_id, status=args.status, note=args.note,
                                     actor=f"cli:{getpass.getuser()}")
    except StoreError as exc:
        raise CommandError(str(exc), exit_code=1) from exc
    print(f"exception {args.exception_id} {args.status}")
    return 0


def _trace(args) -> int:
    from sqlalchemy import select

    from amazon_bluecherry.store import get_store
    from amazon_bluecherry.store.models import Transaction

    store = get_store()
    with store.session() as db:
        starts = list(db.scalars(select(Transaction.id).where(Transaction.business_key == args.business_key)))
    if not starts:
        raise CommandError(f"no document with business key {args.business_key!r}", exit_code=1)
    seen, paths = set(), []
    for start in starts:
        if start in seen:
            continue
        path = store.data_path(start)
        seen.update(row["id"] for row in path)
        paths.append(path)
    if args.json:
        print(json.dumps(paths, indent=2, default=str))
        return 0
    for path in paths:
        for row in path:
            print(terminal_safe(
                f"{row['doc_type']:<12} {row['direction']:<4} {row['business_key'] or '':<16} {row['status']:<20} "
                f"transaction {row['id']}, raw document {row['raw_document_id']}, ISA13 {row['isa13'] or '-'}"))
        print()
    return 0
