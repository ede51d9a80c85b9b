"""``amazon-bluecherry sandbox amazon ...``: play Amazon (mailbox server; the simulator adds more).

One ``_register_<action>`` function per action; ``register`` calls them all.
"""

from __future__ import annotations

import json
import signal
import threading


def register(subparsers) -> None:
    amazon = subparsers.add_parser("amazon", help="play Amazon: the SFTP mailbox and the trading partner")
    actions = amazon.add_subparsers(dest="amazon_command", metavar="ACTION", required=True)
    _register_serve_mailbox(actions)


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
