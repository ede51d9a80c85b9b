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

    show = commands.add_parser("show", help="a remittance in the store: status, lines, postings, exceptions")
    show.add_argument("trace_number", help="TRN02 of the 820 (see `trace` for its documents)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    retry = commands.add_parser(
        "retry", help="classify a blocked remittance again on the next remit_to_journals run (after a fix)")
    retry.add_argument("trace_number")
    retry.add_argument("--note", required=True, help="what was fixed (kept in the audit trail)")
    retry.set_defaults(handler=_retry)

    reconcile = commands.add_parser(
        "reconcile", help="month-end reconciliation against BlueCherry: HTML and CSV (exit 1 if it does not tie out)")
    reconcile.add_argument("--period", required=True, help="YYYY-MM")
    reconcile.add_argument("--as-of", help="ISO instant (default: the end of the period, or now if sooner)")
    reconcile.add_argument("--out", type=Path, help="folder for the report (default AB_REPORTS_DIR/reconciliation/<period>)")
    reconcile.add_argument("--json", action="store_true", help="print the totals and tie-outs as JSON")
    reconcile.set_defaults(handler=_reconcile)

    packet = commands.add_parser(
        "packet", help="the dispute packet of a shortage claim or chargeback: PDF + raw documents + labels")
    packet.add_argument("claim_reference", help="the deduction's reference on the 820 (e.g. INV0000001SC)")
    packet.add_argument("--out", type=Path, required=True, help="folder; the packet is written to <out>/<claim>/")
    packet.add_argument("--json", action="store_true", help="print the manifest as JSON")
    packet.set_defaults(handler=_packet)
    for action, status, what in (("dispute", "disputed", "a case was opened with Amazon"),
                                 ("accept", "accepted", "the deduction stands, no dispute")):
        close = commands.add_parser(action, help=f"record that {what}: the claim's deadline alerts stop")
        close.add_argument("claim_reference")
        close.add_argument("--note", required=True, help="case number, who decided and why (audit trail)")
        close.set_defaults(handler=_close_claim, status=status)


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
    from decimal import Decimal

    for remittance in report["remittances"]:
        verdict = "balanced"
        if not remittance["balanced"]:
            total = sum((Decimal(line["amount"]) for line in remittance["lines"]), Decimal("0"))
            verdict = (f"NOT BALANCED: its lines add up to {total}, not the payment (BPR02); the 820 itself does "
                       "not add up and would be blocked, nothing posted")
        print(f"remittance {remittance['trace_number']}: payment {remittance['payment_amount']}, "
              f"{len(remittance['lines'])} line(s), {verdict}")
        for line in remittance["lines"]:
            flag = "  <- UNRECOGNISED (suspense)" if line["deduction_type"] == "unrecognised" else ""
            print(f"  {line['reference']:<40} {line['amount']:>12}  {line['deduction_type']:<26} "
                  f"{line['gl_account']:<6} {line['owner']}{flag}")
        print("  journals:")
        for journal in remittance["journals"]:
            print(f"    {journal['deduction_type']:<26} {journal['gl_account']:<6} {journal['amount']:>12}")


def _show(args) -> int:
    from sqlalchemy import select

    from amazon_bluecherry.store import get_store
    from amazon_bluecherry.store.models import Remittance, RemittanceLine, RemittancePosting

    store = get_store()
    with store.session() as db:
        remittances = list(db.scalars(select(Remittance).where(Remittance.trace_number == args.trace_number)
                                      .order_by(Remittance.id)))
        if not remittances:
            raise CommandError(f"no remittance with trace number {args.trace_number}", exit_code=1)
        shown = []
        for remittance in remittances:
            lines = db.scalars(select(RemittanceLine).where(RemittanceLine.remittance_id == remittance.id)
                               .order_by(RemittanceLine.line_number))
            postings = db.scalars(select(RemittancePosting).where(RemittancePosting.remittance_id == remittance.id)
                                  .order_by(RemittancePosting.id))
            shown.append({
                "id": remittance.id, "trace_number": remittance.trace_number, "status": remittance.status,
                "payment_amount": str(remittance.payment_amount),
                "payment_date": remittance.payment_date.isoformat() if remittance.payment_date else None,
                "transaction_id": remittance.transaction_id, "raw_document_id": remittance.raw_document_id,
                "blocked_reason": remittance.blocked_reason, "unmatched": (remittance.plan or {}).get("unmatched", []),
                "lines": [{"line_number": x.line_number, "reference": x.reference, "amount": str(x.amount),
                           "deduction_type": x.deduction_type, "gl_account": x.gl_account, "owner": x.owner,
                           "rule_line": x.rule_line, "match_status": x.match_status,
                           "invoice_number": x.invoice_number, "shipment_id": x.shipment_id,
                           "purchase_order": x.purchase_order, "description": x.description} for x in lines],
                "postings": [{"kind": p.kind, "deduction_type": p.deduction_type, "reference": p.reference,
                              "amount": str(p.amount), "status": p.status, "document_number": p.document_number,
                              "error": p.error} for p in postings],
            })
    if args.json:
        print(json.dumps(shown, indent=2))
        return 0
    for remittance in shown:
        print(f"remittance {remittance['trace_number']} (id {remittance['id']}): {remittance['status']}, payment "
              f"{remittance['payment_amount']} on {remittance['payment_date']}, 820 transaction "
              f"{remittance['transaction_id']}, raw document {remittance['raw_document_id']}")
        if remittance["blocked_reason"]:
            print(f"  blocked: {remittance['blocked_reason']}")
        for line in remittance["lines"]:
            rule = f"remit_codes.csv line {line['rule_line']}" if line["rule_line"] else "no row"
            print(f"  {line['line_number']:>5} {line['reference']:<36} {line['amount']:>12} {line['deduction_type']:<26}"
                  f" {line['gl_account']:<6} {line['match_status']:<10} ({rule})")
        for posting in remittance["postings"]:
            print(f"  posting {posting['kind']:<12} {posting['deduction_type'] or '-':<26} {posting['reference']:<28} "
                  f"{posting['amount']:>12} {posting['status']:<8} {posting['document_number'] or ''}"
                  f"{'  ' + posting['error'] if posting['error'] else ''}")
    return 0


def _retry(args) -> int:
    from amazon_bluecherry.flows.remit_to_journals_steps import requeue_remittance
    from amazon_bluecherry.store import get_store

    try:
        requeue_remittance(get_store(), args.trace_number, note=args.note)
    except ValueError as exc:
        raise CommandError(str(exc), exit_code=1) from exc
    print(f"remittance {args.trace_number} will be classified again by the next remit_to_journals run")
    return 0


def _reconcile(args) -> int:
    import re
    from datetime import UTC, datetime, timedelta

    from amazon_bluecherry.bluecherry.gateway import GatewayError
    from amazon_bluecherry.flows.reconciliation import month_bounds, run_reconciliation
    from amazon_bluecherry.settings import get_settings
    from amazon_bluecherry.store import get_store

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.period):
        raise CommandError(f"--period must be YYYY-MM, not {args.period!r}")
    last = month_bounds(args.period)[1]
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    try:
        as_of = datetime.fromisoformat(args.as_of) if args.as_of else min(end, datetime.now(UTC))
    except ValueError as exc:
        raise CommandError(f"--as-of must be an ISO date-time: {exc}") from exc
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    settings = get_settings()
    with _gateway(settings) as gateway:
        try:
            result = run_reconciliation(get_store(), gateway, settings, period=args.period, as_of=as_of,
                                        run_key="cli", folder=args.out)
        except GatewayError as exc:
            raise CommandError(f"BlueCherry: {exc}", exit_code=1) from exc
    reconciliation = result.reconciliation
    if args.json:
        print(json.dumps({"period": args.period, "as_of": as_of.isoformat(), "report": str(result.paths["html"]),
                          "csv": str(result.paths["csv"]), **reconciliation.totals()}, indent=2))
    else:
        for tie in reconciliation.ties:
            print(f"{'ok ' if tie.ok else 'DIFF'} {tie.name:<36} {tie.left:>14.2f} {tie.right:>14.2f} "
                  f"{tie.difference:>10.2f}")
        print(f"{reconciliation.summary['automatically_matched_and_posted_percent']}% of remittance dollars "
              f"matched and posted automatically; report {result.paths['html']}")
    return 0 if reconciliation.ties_out else 1


class _gateway:
    """The BlueCherry gateway of the Airflow connection ``AB_BLUECHERRY_CONN_ID`` (closed on exit)."""

    def __init__(self, settings):
        self.conn_id = settings.bluecherry_conn_id
        self.hook = None

    def __enter__(self):
        import contextlib
        import sys

        # Airflow logs its configuration on stdout when first imported: keep stdout for our output.
        with contextlib.redirect_stdout(sys.stderr):
            from amazon_bluecherry.hooks.bluecherry import BlueCherryHook

            self.hook = BlueCherryHook(bluecherry_conn_id=self.conn_id)
            try:
                return self.hook.get_conn()
            except Exception as exc:  # noqa: BLE001 - no connection configured, unreachable: one clear line
                raise CommandError(f"cannot reach BlueCherry through connection {self.conn_id!r}: {exc}",
                                   exit_code=1) from exc

    def __exit__(self, *exc_info) -> None:
        if self.hook is not None:
            self.hook.close()


def _packet(args) -> int:
    from sqlalchemy import select

    from amazon_bluecherry.flows.dispute_packets import assemble_packet, open_claims
    from amazon_bluecherry.settings import get_settings
    from amazon_bluecherry.store import get_store
    from amazon_bluecherry.store.models import DisputeClaim

    store, settings = get_store(), get_settings()

    def find():
        with store.session() as db:
            return db.scalar(select(DisputeClaim.id).where(DisputeClaim.claim_reference == args.claim_reference)
                             .order_by(DisputeClaim.id.desc()).limit(1))

    claim_id = find()
    if claim_id is None:  # posted since the last run: its claim is opened now
        open_claims(store, settings, now=datetime_now())
        claim_id = find()
    if claim_id is None:
        raise CommandError(f"no shortage claim or chargeback {args.claim_reference} on a posted remittance "
                           "(see `remit show <trace>`)", exit_code=1)
    packet = assemble_packet(store, claim_id, args.out)
    if args.json:
        print((packet.folder / "manifest.json").read_text(encoding="utf-8"))
        return 0
    print(f"dispute packet for {args.claim_reference}: {packet.folder}")
    for name in sorted(packet.files):
        print(f"  {name}")
    for missing in packet.facts["missing"]:
        print(f"  not found: {missing}")
    print(f"dispute by {packet.facts['claim']['due']}")
    return 0


def datetime_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _close_claim(args) -> int:
    from amazon_bluecherry.flows.dispute_packets import close_claim
    from amazon_bluecherry.store import get_store

    try:
        close_claim(get_store(), args.claim_reference, status=args.status, note=args.note)
    except ValueError as exc:
        raise CommandError(str(exc), exit_code=1) from exc
    print(f"claim {args.claim_reference} {args.status}; its deadline alerts stop")
    return 0
