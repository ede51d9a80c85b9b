"""``amazon-bluecherry sandbox amazon ...``: play Amazon (the SFTP mailbox and the trading partner).

One ``_register_<action>`` function per action; ``register`` calls them all. The simulator
actions share ``--state DIR`` (Amazon's state, kept between runs) and, where files are
exchanged, ``--mailbox-root DIR`` (the folder ``serve-mailbox`` serves). Time: a state made
with ``--clock simulated`` (or by ``simulate-month``) keeps its simulated clock, moved on
with ``--advance HOURS``; otherwise the wall clock (UTC) is used.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading


def register(subparsers) -> None:
    amazon = subparsers.add_parser("amazon", help="play Amazon: the SFTP mailbox and the trading partner")
    actions = amazon.add_subparsers(dest="amazon_command", metavar="ACTION", required=True)
    _register_serve_mailbox(actions)
    _register_send_pos(actions)
    _register_process_uploads(actions)
    _register_record_delivery(actions)
    _register_deliver(actions)
    _register_run_receiving(actions)
    _register_issue_remittance(actions)
    _register_ledger(actions)
    _register_findings(actions)
    _register_inventory(actions)
    _register_simulate_month(actions)


# --- serve-mailbox -----------------------------------------------------------------------
def _register_serve_mailbox(actions) -> None:
    serve = actions.add_parser(
        "serve-mailbox",
        help="run the loopback SFTP mailbox in the foreground and print its connections as JSON",
    )
    serve.add_argument("--root", required=True, help="folder for the mailbox (keys are kept and reused)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--conn-timeout", type=int, default=10, help="seconds, written into the connections")
    serve.set_defaults(handler=_serve_mailbox)


def _serve_mailbox(args, *, stop: threading.Event | None = None) -> int:
    from amazon_bluecherry.cli import CommandError
    from sandbox.amazon.sftp_server import start_mailbox_server

    try:
        server = start_mailbox_server(args.root, host=args.host, port=args.port)
    except (OSError, RuntimeError) as exc:
        raise CommandError(f"cannot start the mailbox server: {exc}", 1) from exc
    stop = stop or threading.Event()
    with server:
        info = {
            "host": server.host,
            "port": server.port,
            "host_key": server.host_key_line,
            "download_dir": str(server.download_dir),
            "upload_dir": str(server.upload_dir),
            "env": server.airflow_env(conn_timeout=args.conn_timeout),
        }
        print(json.dumps(info, indent=2), flush=True)
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
        stop.wait()
    return 0


# --- shared by the simulator actions -----------------------------------------------------
def _simulator_arguments(parser, *, mailbox: bool) -> None:
    parser.add_argument("--state", required=True, help="folder of Amazon's state (created if needed)")
    if mailbox:
        parser.add_argument("--mailbox-root", required=True, help="the mailbox root (as for serve-mailbox)")
    parser.add_argument(
        "--clock",
        choices=("auto", "wall", "simulated"),
        default="auto",
        help="auto: the state's simulated clock if it has one, else the wall clock",
    )
    parser.add_argument("--start", help="ISO date-time where a new simulated clock starts")
    parser.add_argument("--advance", type=float, default=0, help="hours to move the simulated clock first")
    parser.add_argument(
        "--mappings", help="order from items.csv/ship_to.csv in this folder, not the emulator seed"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _parse_time(text: str, what: str) -> dt.datetime:
    from amazon_bluecherry.cli import CommandError

    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"{what} must be an ISO date or date-time, not {text!r}", 2) from exc


def _simulator(args, *, rulebook=None):
    from amazon_bluecherry.cli import CommandError
    from sandbox.amazon.catalogue import ItemCatalogue
    from sandbox.amazon.clock import SimulatedClock, WallClock
    from sandbox.amazon.partner import AmazonSimulator
    from sandbox.amazon.state import StateStore

    try:
        saved = StateStore(args.state).load().clock
    except RuntimeError as exc:
        raise CommandError(str(exc), 1) from exc
    if args.clock == "wall" or (args.clock == "auto" and saved is None and not args.start):
        if args.advance:
            raise CommandError("--advance needs a simulated clock (--clock simulated)", 2)
        clock = WallClock()
    else:
        clock = SimulatedClock(saved or (_parse_time(args.start, "--start") if args.start else None))
        if args.advance:
            clock.advance(hours=args.advance)
    try:
        catalogue = ItemCatalogue.from_mappings(args.mappings) if args.mappings else None
    except (OSError, KeyError, ValueError) as exc:
        raise CommandError(f"cannot read the mappings in {args.mappings}: {exc}", 1) from exc
    return AmazonSimulator(
        args.state, getattr(args, "mailbox_root", None), clock, catalogue, rulebook=rulebook
    )


def _print(args, rows: list[dict], columns: list[str], payload=None) -> None:
    if args.json:
        print(json.dumps(payload if payload is not None else rows, indent=2, default=str))
        return
    if not rows:
        print("(nothing)")
        return
    widths = {c: min(48, max(len(c), *(len(str(r.get(c, ""))) for r in rows))) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, ""))[: widths[c]].ljust(widths[c]) for c in columns))


def _finding_rows(findings) -> list[dict]:
    return [
        {
            "id": f.finding_id,
            "at": f.at.strftime("%Y-%m-%d %H:%M"),
            "rule": f.rule,
            "document": f.document,
            "chargeback": f.chargeback or "",
            "detail": f.detail,
        }
        for f in findings
    ]


# --- send-pos ----------------------------------------------------------------------------
def _register_send_pos(actions) -> None:
    parser = actions.add_parser(
        "send-pos", help="send N purchase orders (850) into the vendor's download folder"
    )
    _simulator_arguments(parser, mailbox=True)
    parser.add_argument("-n", type=int, required=True, help="how many purchase orders")
    parser.add_argument(
        "--defects", type=float, default=0.0, help="share of POs with a deliberate defect (0-1)"
    )
    parser.add_argument(
        "--defect-kinds",
        help="comma list of unknown_upc, wrong_case_pack, price_off, resent_po, invalid_file, item_cancel (default: the mix in traffic.yaml)",
    )
    parser.add_argument("--seed", type=int)
    parser.set_defaults(handler=_send_pos)


def _send_pos(args) -> int:
    from amazon_bluecherry.cli import CommandError

    if args.n < 0:
        raise CommandError("-n must be 0 or more", 2)
    kinds = [k.strip() for k in args.defect_kinds.split(",") if k.strip()] if args.defect_kinds else None
    sim = _simulator(args)
    try:
        sent = sim.send_purchase_orders(args.n, defects_rate=args.defects, defect_kinds=kinds, seed=args.seed)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc
    rows = [
        {
            "purchase_order": s.purchase_order,
            "file": s.file_name,
            "lines": len(s.document.lines),
            "resend": "yes" if s.resend else "",
            "defects": "; ".join(d.kind for d in s.defects),
        }
        for s in sent
    ]
    _print(args, rows, ["purchase_order", "file", "lines", "resend", "defects"])
    return 0


# --- process-uploads ---------------------------------------------------------------------
def _register_process_uploads(actions) -> None:
    parser = actions.add_parser(
        "process-uploads", help="read the vendor's uploads, return 997s, apply Amazon's rules"
    )
    _simulator_arguments(parser, mailbox=True)
    parser.set_defaults(handler=_process_uploads)


def _process_uploads(args) -> int:
    sim = _simulator(args)
    result = sim.process_uploads()
    payload = {
        "files": result.files,
        "documents": dict(result.documents),
        "rejected_sets": result.rejected_sets,
        "acks_sent": result.acks_sent,
        "findings": [f.model_dump(mode="json") for f in result.findings],
    }
    if not args.json:
        print(
            f"{len(result.files)} file(s), documents {dict(result.documents)}, "
            f"{len(result.rejected_sets)} set(s) rejected, {len(result.acks_sent)} 997(s) sent"
        )
    _print(args, _finding_rows(result.findings), ["id", "rule", "document", "chargeback", "detail"], payload)
    return 0


# --- record-delivery ---------------------------------------------------------------------
def _register_record_delivery(actions) -> None:
    parser = actions.add_parser(
        "record-delivery", help="a truck with goods for a PO arrives at the FC (with or without an ASN)"
    )
    _simulator_arguments(parser, mailbox=False)
    parser.add_argument("--po", required=True, help="purchase order number (BEG03)")
    parser.add_argument("--cartons", type=int, default=1)
    parser.set_defaults(handler=_record_delivery)


def _record_delivery(args) -> int:
    from amazon_bluecherry.cli import CommandError

    sim = _simulator(args)
    try:
        sim.record_delivery(args.po, cartons=args.cartons)
    except KeyError as exc:
        raise CommandError(str(exc.args[0]), 1) from exc
    print(f"delivery for PO {args.po} recorded at {sim.clock.now():%Y-%m-%d %H:%M}")
    return 0


# --- deliver -----------------------------------------------------------------------------
def _register_deliver(actions) -> None:
    parser = actions.add_parser(
        "deliver",
        help="a shipment's truck arrives: its cartons as BlueCherry packed them, wearing the labels "
        "the integration stored with the ASN (scanned by run-receiving)",
    )
    _simulator_arguments(parser, mailbox=False)
    parser.add_argument("--shipment", required=True, help="the shipment id (BSN02 of the 856)")
    parser.add_argument("--bluecherry-db", required=True, help="the BlueCherry emulator's SQLite file")
    parser.add_argument(
        "--database-url", help="the integration's store holding the labels (default: AB_DATABASE_URL)"
    )
    parser.add_argument("--labels", choices=("pdf", "zpl"), default="pdf", help="which printed label is on")
    parser.add_argument(
        "--short-pack", action="append", default=[], metavar="CARTON:UNITS", help="carton n lacks UNITS units"
    )
    parser.add_argument("--unlabelled", action="append", type=int, default=[], metavar="CARTON")
    parser.add_argument(
        "--relabel", action="append", default=[], metavar="CARTON:SSCC", help="carton n wears a stale label"
    )
    parser.set_defaults(handler=_deliver)


def _pairs(values: list[str], what: str, convert) -> dict[int, object]:
    from amazon_bluecherry.cli import CommandError

    pairs = {}
    for value in values:
        carton, _, other = value.partition(":")
        try:
            pairs[int(carton)] = convert(other)
        except ValueError as exc:
            raise CommandError(f"{what} takes CARTON:VALUE, not {value!r}", 2) from exc
    return pairs


def _deliver(args) -> int:
    from amazon_bluecherry.cli import CommandError
    from amazon_bluecherry.store import get_store
    from sandbox.bluecherry.backend import Backend
    from sandbox.bluecherry.errors import EmulatorError
    from sandbox.dock import load_truck

    short = _pairs(args.short_pack, "--short-pack", int)
    relabel = _pairs(args.relabel, "--relabel", str)
    sim = _simulator(args)
    backend = Backend(args.bluecherry_db)
    try:
        shipment = backend.get_shipment(args.shipment)
        truck = load_truck(shipment, get_store(args.database_url), form=args.labels, short_packed=short,
                           unlabelled=args.unlabelled, relabelled=relabel)
        sim.deliver(args.shipment, truck)
    except (EmulatorError, LookupError, ValueError) as exc:
        raise CommandError(str(exc.args[0] if exc.args else exc), 1) from exc
    finally:
        backend.dispose()
    print(f"shipment {args.shipment}: {len(truck)} carton(s) at the dock at {sim.clock.now():%Y-%m-%d %H:%M}")
    return 0


# --- run-receiving -----------------------------------------------------------------------
def _register_run_receiving(actions) -> None:
    parser = actions.add_parser("run-receiving", help="receive what has arrived at the FCs, with shortages")
    _simulator_arguments(parser, mailbox=False)
    parser.add_argument(
        "--shortage-rate", type=float, default=0.0, help="share of cartons received short (0-1)"
    )
    parser.add_argument("--found-later-rate", type=float, help="share of open shortage claims reversed (0-1)")
    parser.add_argument("--seed", type=int)
    parser.set_defaults(handler=_run_receiving)


def _run_receiving(args) -> int:
    from amazon_bluecherry.cli import CommandError

    sim = _simulator(args)
    try:
        result = sim.run_receiving(args.shortage_rate, seed=args.seed, found_later_rate=args.found_later_rate)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc
    rows = [
        {
            "receipt": r.receipt_id,
            "at": r.at.strftime("%Y-%m-%d %H:%M"),
            "shipment": r.shipment_id or "(no ASN)",
            "purchase_orders": ", ".join(r.purchase_orders),
            "cartons": len({c.sscc for c in r.cartons}),
            "short_eaches": sum((c.asn_eaches or c.received_eaches) - c.received_eaches for c in r.cartons),
        }
        for r in result.receipts
    ]
    payload = {
        "receipts": [r.model_dump(mode="json") for r in result.receipts],
        "findings": [f.model_dump(mode="json") for f in result.findings],
        "reversals": result.reversals,
    }
    _print(args, rows, ["receipt", "at", "shipment", "purchase_orders", "cartons", "short_eaches"], payload)
    if not args.json and result.findings:
        _print(args, _finding_rows(result.findings), ["id", "rule", "document", "chargeback", "detail"])
    return 0


# --- issue-remittance --------------------------------------------------------------------
def _register_issue_remittance(actions) -> None:
    parser = actions.add_parser("issue-remittance", help="pay the period's invoices less deductions (820)")
    _simulator_arguments(parser, mailbox=True)
    parser.add_argument(
        "--from", dest="period_start", required=True, help="first day of the period (ISO date)"
    )
    parser.add_argument("--to", dest="period_end", required=True, help="last day of the period (ISO date)")
    parser.set_defaults(handler=_issue_remittance)


def _issue_remittance(args) -> int:
    from amazon_bluecherry.cli import CommandError

    start = _parse_time(args.period_start, "--from").date()
    end = _parse_time(args.period_end, "--to").date()
    sim = _simulator(args)
    try:
        result = sim.issue_remittance(start, end)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from exc
    if result is None:
        print("nothing to pay for the period" if not args.json else json.dumps(None))
        return 0
    rows = [{"reference": i, "kind": "invoice", "amount": ""} for i in result.invoices] + [
        {"reference": e.reference, "kind": e.kind, "amount": str(e.amount)} for e in result.entries
    ]
    payload = {
        "trace_number": result.trace_number,
        "file": result.file_name,
        "payment_amount": str(result.payment_amount),
        "invoices": result.invoices,
        "deductions": [e.model_dump(mode="json") for e in result.entries],
        "held": result.held,
    }
    if not args.json:
        print(f"820 {result.file_name}: payment {result.trace_number} of {result.payment_amount}")
    _print(args, rows, ["reference", "kind", "amount"], payload)
    return 0


# --- ledger ------------------------------------------------------------------------------
def _register_ledger(actions) -> None:
    parser = actions.add_parser(
        "ledger", help="print the chargeback ledger: what the vendor was charged and why"
    )
    _simulator_arguments(parser, mailbox=False)
    parser.add_argument("--kind", help="only this kind (chargeback, shortage_claim, price_claim, coop ...)")
    parser.add_argument("--open", action="store_true", help="only entries not yet on a remittance")
    parser.set_defaults(handler=_ledger)


def _ledger(args) -> int:
    sim = _simulator(args)
    entries = sim.chargeback_ledger(kind=args.kind, open_only=args.open)
    rows = [
        {
            "reference": e.reference,
            "kind": e.kind,
            "amount": str(e.amount),
            "created": e.created_at.strftime("%Y-%m-%d"),
            "remitted_in": e.remitted_in or "",
            "po": e.purchase_order or "",
            "shipment": e.shipment_id or "",
            "invoice": e.invoice_number or "",
            "cause": e.cause,
        }
        for e in entries
    ]
    columns = ["reference", "kind", "amount", "created", "remitted_in", "po", "shipment", "invoice", "cause"]
    _print(args, rows, columns, [e.model_dump(mode="json") for e in entries])
    return 0


# --- findings ----------------------------------------------------------------------------
def _register_findings(actions) -> None:
    parser = actions.add_parser("findings", help="print the compliance findings (and a summary)")
    _simulator_arguments(parser, mailbox=False)
    parser.add_argument("--rule", help="only this rule id (see sandbox/amazon/data/rules.yaml)")
    parser.add_argument("--summary", action="store_true", help="counts and totals instead of the list")
    parser.set_defaults(handler=_findings)


def _findings(args) -> int:
    sim = _simulator(args)
    if args.summary:
        print(json.dumps(sim.compliance_summary(), indent=2))
        return 0
    findings = sim.findings(args.rule)
    _print(
        args,
        _finding_rows(findings),
        ["id", "at", "rule", "document", "chargeback", "detail"],
        [f.model_dump(mode="json") for f in findings],
    )
    return 0


# --- inventory ---------------------------------------------------------------------------
def _register_inventory(actions) -> None:
    parser = actions.add_parser(
        "inventory", help="what Amazon may order, per item and ship-from location, from the 846s it read"
    )
    _simulator_arguments(parser, mailbox=False)
    parser.set_defaults(handler=_inventory)


def _inventory(args) -> int:
    sim = _simulator(args)
    by_location = sim.state.inventory_by_location
    rows = [{"location": location, "item": item, "available": quantity}
            for location, items in sorted(by_location.items()) for item, quantity in sorted(items.items())]
    _print(args, rows, ["location", "item", "available"],
           {"by_location": by_location, "total": dict(sorted(sim.state.inventory.items()))})
    return 0


# --- simulate-month ----------------------------------------------------------------------
def _register_simulate_month(actions) -> None:
    parser = actions.add_parser(
        "simulate-month", help="run a month of traffic on the simulated clock, with a stand-in vendor"
    )
    _simulator_arguments(parser, mailbox=True)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orders-per-day", type=int, default=3, help="POs sent each business day at 06:00")
    parser.add_argument("--defects", type=float, default=0.1, help="share of POs with a deliberate defect")
    parser.add_argument(
        "--vendor-mistakes",
        type=float,
        default=0.05,
        help="rate of each kind of stand-in vendor mistake (late 855, missing ASN ...)",
    )
    parser.add_argument("--shortage-rate", type=float, default=0.05, help="share of cartons received short")
    parser.add_argument("--net-days", type=int, default=14, help="payment terms for this run (data: 60)")
    parser.add_argument("--no-vendor", action="store_true", help="only Amazon's side (a real vendor answers)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=_simulate_month, clock="simulated")


def _simulate_month(args) -> int:
    from amazon_bluecherry.cli import CommandError
    from sandbox.amazon.clock import SimulatedClock
    from sandbox.amazon.rulebook import load_rulebook
    from sandbox.amazon.simulation import simulate_month
    from sandbox.amazon.standin_vendor import StandInVendor, VendorBehaviour

    if args.clock == "wall":
        raise CommandError("simulate-month runs on the simulated clock", 2)
    if args.clock == "auto":
        args.clock = "simulated"
    sim = _simulator(args, rulebook=load_rulebook().with_net_days(args.net_days))
    if not isinstance(sim.clock, SimulatedClock):
        raise CommandError("simulate-month runs on the simulated clock", 2)
    vendor = None
    if not args.no_vendor:
        rate = args.vendor_mistakes
        behaviour = VendorBehaviour(
            net_days=args.net_days,
            late_855_rate=rate,
            missing_asn_rate=rate,
            late_asn_rate=rate,
            unapproved_scac_rate=rate,
            reused_sscc_rate=rate,
            date_bol_rate=rate,
            invoice_price_error_rate=rate,
            over_invoice_rate=rate,
        )
        vendor = StandInVendor(
            sim.mailbox.download_dir,
            sim.mailbox.upload_dir,
            sim.catalogue,
            vendor_id=sim.identity.vendor_id,
            amazon_id=sim.identity.amazon_id,
            vendor_code=sim.identity.vendor_code,
            behaviour=behaviour,
            seed=args.seed,
            deliver=lambda po, at, cartons: sim.record_delivery(po, at=at, cartons=cartons),
        )
    report = simulate_month(
        sim,
        vendor,
        days=args.days,
        orders_per_day=args.orders_per_day,
        defects_rate=args.defects,
        shortage_rate=args.shortage_rate,
        seed=args.seed,
    )
    print(json.dumps(report.to_dict(), indent=2, default=str))
    return 0
