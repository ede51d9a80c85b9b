"""``amazon-bluecherry sandbox bluecherry ...``: the BlueCherry emulator from the command line.

amazon-bluecherry sandbox bluecherry --port 8400 --db var/bc.sqlite    # serve (foreground)
amazon-bluecherry sandbox bluecherry export-mappings --out include/mappings
amazon-bluecherry sandbox bluecherry export-openapi --out docs/bluecherry-openapi.json
amazon-bluecherry sandbox bluecherry cycle --db var/bc.sqlite --data-dir var/bc-files
amazon-bluecherry sandbox bluecherry fulfil --db var/bc.sqlite --all
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path

from amazon_bluecherry.cli import CommandError

log = logging.getLogger(__name__)

API_KEY_ENV = "BLUECHERRY_EMULATOR_API_KEY"


def _default_db() -> Path:
    from amazon_bluecherry.settings import get_settings

    return get_settings().home / "bluecherry-emulator.sqlite"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bluecherry",
        help="the BlueCherry emulator (emulator-defined API; map to your BlueCherry installation)",
        description="Run the BlueCherry emulator (default action: serve in the foreground) or one of its tools.",
    )
    _server_options(parser)
    parser.set_defaults(handler=_serve)
    actions = parser.add_subparsers(dest="bluecherry_action", metavar="ACTION")

    serve = actions.add_parser("serve", help="run the HTTP server in the foreground (the default)")
    _server_options(serve)
    serve.set_defaults(handler=_serve)

    mappings = actions.add_parser(
        "export-mappings", help="write items.csv and ship_to.csv from the seeded catalogue"
    )
    mappings.add_argument("--out", required=True, type=Path, help="folder, e.g. include/mappings")
    mappings.add_argument("--seed", type=int, default=None, help="catalogue seed (default: the emulator's)")
    mappings.set_defaults(handler=_export_mappings)

    openapi = actions.add_parser("export-openapi", help="write the OpenAPI document of the gateway endpoints")
    openapi.add_argument("--out", required=True, type=Path)
    openapi.set_defaults(handler=_export_openapi)

    cycle = actions.add_parser("cycle", help="run one import/export batch cycle and print its report")
    cycle.add_argument("--db", type=Path, default=None)
    cycle.add_argument("--data-dir", type=Path, required=True, help="holds import/ and export/")
    cycle.set_defaults(handler=_cycle)

    fulfil = actions.add_parser("fulfil", help="pick, pack, ship and invoice orders (a warehouse day)")
    fulfil.add_argument("--db", type=Path, default=None)
    fulfil.add_argument("order_numbers", nargs="*", help="sales order numbers (SO...)")
    fulfil.add_argument("--all", action="store_true", help="every open order with allocated stock")
    fulfil.add_argument("--carrier", default="UPSN", help="carrier SCAC")
    fulfil.set_defaults(handler=_fulfil)


def _server_options(parser) -> None:
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (created and seeded when new)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8400, help="0 picks a free port")
    parser.add_argument(
        "--api-key", default=None, help=f"default: ${API_KEY_ENV}, else a random key (printed)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="enable the file face: <dir>/import, <dir>/export"
    )
    parser.add_argument(
        "--cycle-seconds", type=float, default=60.0, help="file cycle interval with --data-dir"
    )


def _serve(args) -> int:
    from sandbox.bluecherry.server import start_emulator

    db = args.db or _default_db()
    api_key = args.api_key or os.environ.get(API_KEY_ENV)
    try:
        handle = start_emulator(
            db,
            host=args.host,
            port=args.port,
            api_key=api_key,
            data_dir=args.data_dir,
            cycle_interval=args.cycle_seconds if args.data_dir else None,
            log_level="info",
        )
    except OSError as exc:
        raise CommandError(f"cannot start the emulator on {args.host}:{args.port}: {exc}", 1) from exc
    print(f"BlueCherry emulator on {handle.url} (db {db})", flush=True)
    if not api_key:
        print(f"API key: {handle.api_key}   (header X-API-Key; set {API_KEY_ENV} to choose one)", flush=True)
    if handle.files:
        print(f"import folder {handle.import_dir}, export folder {handle.export_dir}", flush=True)
    print(f"connection:  AIRFLOW_CONN_BLUECHERRY_DEFAULT='{handle.airflow_connection()}'", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        handle.stop()
    return 0


def _export_mappings(args) -> int:
    from sandbox.bluecherry.catalogue import DEFAULT_SEED
    from sandbox.bluecherry.mappings import write_mappings

    for path in write_mappings(args.out, seed=args.seed if args.seed is not None else DEFAULT_SEED):
        print(f"wrote {path}")
    return 0


def _export_openapi(args) -> int:
    from sandbox.bluecherry.app import openapi_document

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(openapi_document(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def _cycle(args) -> int:
    from sandbox.bluecherry.backend import Backend
    from sandbox.bluecherry.files import FileFace

    backend = Backend(args.db or _default_db())
    try:
        report = FileFace(backend, args.data_dir / "import", args.data_dir / "export").run_cycle()
    finally:
        backend.dispose()
    print(json.dumps(report.as_dict(), indent=2))
    return 1 if report.rejected else 0


def _fulfil(args) -> int:
    from sandbox.bluecherry.backend import Backend
    from sandbox.bluecherry.errors import EmulatorError

    if not args.order_numbers and not args.all:
        raise CommandError("give order numbers or --all")
    backend = Backend(args.db or _default_db())
    try:
        numbers = list(args.order_numbers)
        if args.all:
            numbers += [
                order.order_number
                for order in backend.list_sales_orders()
                if order.status in ("open", "partially_shipped")
                and any(line.qty_allocated > line.qty_picked for line in order.lines)
            ]
        for number in numbers:
            try:
                shipment, invoices = backend.fulfil(number, carrier_scac=args.carrier)
            except EmulatorError as exc:
                print(f"{number}: not fulfilled: {exc}")
                continue
            print(
                f"{number}: shipment {shipment.shipment_id} ({len(shipment.cartons)} cartons, BOL {shipment.bol_number}), "
                f"invoices {', '.join(i.invoice_number for i in invoices)}"
            )
    finally:
        backend.dispose()
    return 0
