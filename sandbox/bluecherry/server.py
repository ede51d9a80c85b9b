"""Run the BlueCherry emulator as a real HTTP server on loopback (tests, demo, simulator).

    with start_emulator(tmp_path / "bc.sqlite", data_dir=tmp_path / "bc-files") as emulator:
        gateway = RestGateway(emulator.url, emulator.api_key)
        ...
        emulator.backend.fulfil(order_number)          # warehouse actions, in process
        emulator.set_faults(error_rate=0.2)             # fault injection at the edge
        emulator.run_cycle()                            # the flat-file batch cycle

uvicorn runs in a background thread on a socket bound before start (port 0 = a free port),
so ``url`` is known and working when ``start_emulator`` returns.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from sandbox.bluecherry.app import FaultInjector, FaultSettings, create_app
from sandbox.bluecherry.backend import Backend, BackendConfig, Clock
from sandbox.bluecherry.files import CycleReport, FileFace, FileFaults

__all__ = ["EmulatorHandle", "seeded_database", "start_emulator"]

log = logging.getLogger(__name__)


class _QuietDrops(logging.Filter):
    """Injected dropped connections make uvicorn log an error each time; they are intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "ASGI callable returned without completing response" not in record.getMessage()


_QUIET_DROPS = _QuietDrops()


@dataclass
class EmulatorHandle:
    url: str
    api_key: str
    backend: Backend
    injector: FaultInjector
    files: FileFace | None
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _cycler: threading.Thread | None = field(default=None, repr=False)
    _stop_cycles: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def import_dir(self) -> Path | None:
        return self.files.import_folder.path if self.files else None

    @property
    def export_dir(self) -> Path | None:
        return self.files.export_folder.path if self.files else None

    def set_faults(self, **settings: Any) -> FaultSettings:
        """Switch fault injection (same fields as ``PUT /admin/faults``)."""
        faults = FaultSettings(**settings)
        self.injector.configure(faults)
        return faults

    def clear_faults(self) -> None:
        self.injector.configure(FaultSettings())

    def run_cycle(self) -> CycleReport:
        if self.files is None:
            raise RuntimeError("the emulator was started without data_dir: no import/export folders")
        return self.files.run_cycle()

    def airflow_connection(self) -> str:
        """The JSON of an ``AIRFLOW_CONN_BLUECHERRY_DEFAULT`` that reaches this emulator over REST."""
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        return json.dumps(
            {"conn_type": "http", "host": host, "port": int(port), "schema": "http", "password": self.api_key}
        )

    def stop(self) -> None:
        self._stop_cycles.set()
        if self._cycler is not None:
            self._cycler.join(timeout=10)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.backend.dispose()

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start_emulator(
    db_path: str | Path,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    api_key: str | None = None,
    data_dir: str | Path | None = None,
    cycle_interval: float | None = None,
    config: BackendConfig | None = None,
    clock: Clock | None = None,
    file_faults: FileFaults | None = None,
    log_level: str = "warning",
) -> EmulatorHandle:
    """Start the emulator on ``host:port`` over the SQLite file ``db_path`` (created and seeded if new).

    :param data_dir: enables the file face: ``<data_dir>/import`` and ``<data_dir>/export``
    :param cycle_interval: seconds between automatic file cycles (None: call ``run_cycle()``)
    """
    backend = Backend(db_path, config=config, clock=clock)
    files = None
    if data_dir is not None:
        data_dir = Path(data_dir)
        files = FileFace(backend, data_dir / "import", data_dir / "export", faults=file_faults)
    api_key = api_key or secrets.token_urlsafe(24)
    injector = FaultInjector()
    app = create_app(backend, api_key=api_key, injector=injector, files=files)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off", timeout_keep_alive=30)
    )
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)  # adding the same filter twice is a no-op
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"bluecherry-emulator-{bound_port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            backend.dispose()
            raise RuntimeError(f"BlueCherry emulator did not start on {host}:{bound_port}")
        time.sleep(0.01)
    handle = EmulatorHandle(
        url=f"http://{host}:{bound_port}",
        api_key=api_key,
        backend=backend,
        injector=injector,
        files=files,
        _server=server,
        _thread=thread,
    )
    if files is not None and cycle_interval:
        handle._cycler = threading.Thread(
            target=_cycle_forever,
            args=(files, cycle_interval, handle._stop_cycles),
            name="bluecherry-cycles",
            daemon=True,
        )
        handle._cycler.start()
    log.info("BlueCherry emulator on %s (db %s)", handle.url, db_path)
    return handle


def _cycle_forever(files: FileFace, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            files.run_cycle()
        except Exception:  # noqa: BLE001 - a failed cycle is logged; the next one retries
            log.exception("BlueCherry emulator file cycle failed")


def seeded_database(template: str | Path, target: str | Path, *, config: BackendConfig | None = None) -> Path:
    """Copy a seeded emulator database (seeding ``template`` first if needed): fast fresh emulators."""
    template, target = Path(template), Path(target)
    if not template.exists():
        Backend(template, config=config).dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return target
