"""``amazon-bluecherry orders ...``: the order path, by hand."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

from amazon_bluecherry.cli import CommandError, terminal_safe


def register(subparsers) -> None:
    orders = subparsers.add_parser("orders", help="Amazon purchase orders -> BlueCherry sales orders")
    commands = orders.add_subparsers(dest="orders_command", metavar="ACTION", required=True)
    translate = commands.add_parser(
        "translate", help="dry run: show the sales orders and exceptions an 850 file would produce (no side effects)"
    )
    translate.add_argument("file", type=Path, help="X12 file with 850 purchase orders")
    translate.add_argument("--mappings", type=Path, required=True, help="folder with items.csv and ship_to.csv")
    translate.add_argument("--json", action="store_true", help="print the JSON report")
    translate.set_defaults(handler=_translate)
    retranslate = commands.add_parser(
        "retranslate", help="send a held PO through translation again on the next po_to_so run (after a mapping fix)"
    )
    retranslate.add_argument("po_number")
    retranslate.set_defaults(handler=_retranslate)
    accept = commands.add_parser(
        "accept-price", help="wholesale's decision: load a PO held for price_mismatch at Amazon's prices"
    )
    accept.add_argument("po_number")
    accept.add_argument("--note", required=True, help="who decided and why (kept with the exception and events)")
    accept.set_defaults(handler=_accept_price)


def _translate(args) -> int:
    from datetime import UTC, datetime

    from amazon_bluecherry.edi.reader import X12Error
    from amazon_bluecherry.flows.mappings import MappingError, load_mappings
    from amazon_bluecherry.flows.po_to_so import TranslationPolicy, translate_file
    from amazon_bluecherry.settings import get_settings

    if not args.file.is_file():
        raise CommandError(f"{args.file}: no such file")
    try:
        mappings = load_mappings(args.mappings)
    except MappingError as exc:
        raise CommandError(str(exc)) from exc
    settings = get_settings()
    policy = TranslationPolicy(price_tolerance=settings.price_tolerance,
                               hold_on_price_mismatch=settings.hold_on_price_mismatch)
    try:
        report = translate_file(args.file, mappings, policy, received_on=datetime.now(UTC).date())
    except (X12Error, OSError) as exc:
        raise CommandError(f"{args.file}: {exc}") from exc
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_human(report)
        if not report["sales_orders"] and not report["exceptions"]:
            print(terminal_safe(f"no 850 purchase order in {args.file}: {_set_counts(args.file) or 'no sets'}"))
    return 0  # exceptions are part of the report, not a failure of the command


def _set_counts(path: Path) -> str:
    """What a file holds instead, e.g. ``810 x2, 997 x1``."""
    from collections import Counter

    from amazon_bluecherry.edi.reader import iter_transaction_sets

    counts = Counter(transaction_set.set_id.strip() for _, _, transaction_set in iter_transaction_sets(path))
    return ", ".join(f"{set_id} x{count}" for set_id, count in sorted(counts.items()))


def _print_human(report: dict) -> None:
    def print(text: str = "") -> None:  # noqa: A001 - every line quotes the input: escape it
        builtins.print(terminal_safe(text))

    for order in report["sales_orders"]:
        window = order["ship_window"]
        print(f"PO {order['customer_po']} -> {order['bc_customer']}/{order['bc_store']} "
              f"warehouse {order['bc_warehouse']}, window {window['start']}..{window['end']}")
        for line in order["lines"]:
            print(f"  {line['line_number']:>4} {line['product_id']:<16} {line['style']}-{line['color']}-{line['size']:<6}"
                  f" {line['amazon_qty']} {line['amazon_uom']} = {line['qty_eaches']} ea @ {line['unit_price']}")
    for issue in report["exceptions"]:
        where = f" line {issue['line_number']}" if issue["line_number"] is not None else ""
        said = f"PO {issue['po']}{where}: "
        message = issue["message"] if issue["message"].startswith(said) else said + issue["message"]
        print(f"EXCEPTION {issue['type']} (owner {issue['owner']}) {message}")
    print(f"{len(report['sales_orders'])} sales order(s), {len(report['exceptions'])} exception(s)")




def _retranslate(args) -> int:
    _requeue(args.po_number, event="purchase_order.retranslate")
    print(f"PO {args.po_number} will be translated again by the next po_to_so run")
    return 0


def _accept_price(args) -> int:
    from amazon_bluecherry.store import get_store

    store = get_store()
    transaction_id = _requeue(args.po_number, event="purchase_order.price_accepted", note=args.note,
                              data={"accept_amazon_price": True})
    for record in store.list_exceptions(status="open", type="price_mismatch"):
        if record.transaction_id == transaction_id:
            store.update_exception(record.id, status="resolved", note=f"Amazon's price accepted: {args.note}")
    print(f"PO {args.po_number} will be loaded at Amazon's prices by the next po_to_so run")
    return 0


def _requeue(po_number: str, *, event: str, note: str | None = None, data: dict | None = None) -> int:
    """Put the newest copy of a held PO back to ``received`` (optionally with a decision)."""
    import getpass

    from amazon_bluecherry.flows.operations import OperationRefused, requeue_purchase_order
    from amazon_bluecherry.store import get_store

    try:
        return requeue_purchase_order(get_store(), po_number, event=event, actor=f"cli:{getpass.getuser()}",
                                      note=note, data=data)
    except OperationRefused as exc:
        raise CommandError(str(exc), exit_code=1) from exc
