"""``make airflow``: Airflow (API server with the UI, scheduler, DAG processor, triggerer)
with our DAGs, wired to the sandbox parties.

Starts the loopback SFTP mailbox and the BlueCherry emulator, writes what Airflow must
know into ``$AB_HOME/airflow/airflow.cfg`` (our dags folder, no examples, the execution
API on the UI's port, the metadata database, DAGs unpaused), migrates it, then starts
what ``airflow standalone`` starts, in order: the API server first (tasks call its
execution API), then scheduler, DAG processor and triggerer. Ctrl-C stops everything. For local use only: this is the sandbox, not a
deployment (see docs/deploy.md).

The metadata database is a dedicated database ``ab_airflow`` on the local PostgreSQL when
one answers (``AB_AIRFLOW_POSTGRES_URL``, default the server on 127.0.0.1:5432), SQLite
otherwise: Airflow's backfill needs PostgreSQL (on SQLite it fails with "database is
locked" under a running scheduler). The integration store goes to ``ab_integration`` on the
same server (``AB_DATABASE_URL`` overrides), SQLite under ``AB_HOME`` without one.

The plain ``airflow`` CLI sees the same setup with only ``AIRFLOW_HOME`` set, because
everything lives in the config file; ``$AB_HOME/airflow/env.sh`` also holds the sandbox
connections for commands that run tasks (``airflow dags test``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from amazon_bluecherry.settings import REPO_ROOT

DEFAULT_PORT = 8080
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
METADATA_DATABASE = "ab_airflow"
STORE_DATABASE = "ab_integration"


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def choose_port() -> tuple[int, str]:
    """``AB_AIRFLOW_PORT`` if set; else 8080 when free, else any free port (8080 is often taken)."""
    if os.environ.get("AB_AIRFLOW_PORT"):
        return int(os.environ["AB_AIRFLOW_PORT"]), ""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", DEFAULT_PORT))
            return DEFAULT_PORT, ""
        except OSError:
            pass
    port = free_port()
    return port, f"port {DEFAULT_PORT} is taken: using {port} (set AB_AIRFLOW_PORT to choose)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_database(name: str) -> tuple[str | None, str]:
    """(URL of database ``name`` on the PostgreSQL of ``AB_AIRFLOW_POSTGRES_URL``, created if
    missing; or None and why, when no server answers)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = os.environ.get("AB_AIRFLOW_POSTGRES_URL", DEFAULT_POSTGRES)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        return None, (f"no PostgreSQL answered at {make_url(admin_url).render_as_string(hide_password=True)} "
                      f"({type(exc).__name__})")
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), ""


def metadata_database(airflow_home: Path) -> tuple[str, str]:
    """(SQLAlchemy URL of Airflow's metadata DB, a note for the user).

    ``AB_AIRFLOW_DATABASE_URL`` is used as given. Otherwise a database ``ab_airflow`` is
    created on the PostgreSQL server of ``AB_AIRFLOW_POSTGRES_URL`` (default: the local
    one) when it answers; SQLite under the Airflow home when none does.
    """
    if os.environ.get("AB_AIRFLOW_DATABASE_URL"):
        return os.environ["AB_AIRFLOW_DATABASE_URL"], ""
    url, why = postgres_database(METADATA_DATABASE)
    if url is None:
        return f"sqlite:///{airflow_home / 'airflow.db'}", (
            f"{why}: Airflow's metadata DB is SQLite. Triggering works; `airflow backfill create` needs "
            "PostgreSQL (start one, or set AB_AIRFLOW_DATABASE_URL).")
    return url, ""


def store_database(home: Path) -> str:
    """The integration store: ``AB_DATABASE_URL``, else ``ab_integration`` on the same PostgreSQL
    (parallel tasks write at once; SQLite makes them queue), else SQLite under ``AB_HOME``."""
    if os.environ.get("AB_DATABASE_URL"):
        return os.environ["AB_DATABASE_URL"]
    url, _ = postgres_database(STORE_DATABASE)
    return url or f"sqlite:///{home / 'integration.sqlite'}"


def airflow_options(*, port: int, database_url: str) -> dict[str, dict[str, str]]:
    """What the sandbox sets in airflow.cfg (so the plain ``airflow`` CLI sees the same)."""
    return {
        "core": {
            "dags_folder": str(REPO_ROOT / "dags"),
            "plugins_folder": str(REPO_ROOT / "plugins"),
            "load_examples": "False",
            "dags_are_paused_at_creation": "False",  # the sandbox's flows run as soon as they are parsed
            "parallelism": "4",  # 2 cores: the default 32 forks dozens of processes
            "simple_auth_manager_all_admins": "False",
            # The connection form's Test button (BlueCherry's calls ping); off by default in Airflow 3.
            "test_connection": "Enabled",
            # Task processes call the API server's execution API: it follows the UI's port.
            "execution_api_server_url": f"http://127.0.0.1:{port}/execution/",
        },
        # One API worker: on 2 cores four of them starve the scheduler and the tasks.
        "api": {"port": str(port), "host": "127.0.0.1", "base_url": f"http://127.0.0.1:{port}", "workers": "1"},
        # A loaded laptop answers the execution API slower than the 5 s default.
        "workers": {"execution_api_timeout": "30"},
        # The log servers' fixed defaults (8793, 8794) collide with a second sandbox.
        "logging": {"worker_log_server_port": str(free_port()), "trigger_log_server_port": str(free_port())},
        "database": {"sql_alchemy_conn": database_url,
                     # psycopg 3 is async too; Airflow would otherwise derive an asyncpg URL
                     **({"sql_alchemy_conn_async": database_url} if "+psycopg" in database_url else {})},
        "dag_processor": {"refresh_interval": "30"},
    }


def write_options(config_file: Path, options: dict[str, dict[str, str]]) -> None:
    """Set ``options`` in an existing airflow.cfg, keeping every other line (and comment)."""
    lines = config_file.read_text().splitlines()
    section, seen = None, set()
    for index, line in enumerate(lines):
        header = re.match(r"^\[(\w+)\]\s*$", line)
        if header:
            section = header.group(1)
            continue
        setting = re.match(r"^(\w+)\s*=", line)
        if setting and section in options and setting.group(1) in options[section]:
            key = setting.group(1)
            lines[index] = f"{key} = {options[section][key]}"
            seen.add((section, key))
    for section_name, values in options.items():
        missing = [(key, value) for key, value in values.items() if (section_name, key) not in seen]
        if not missing:
            continue
        if f"[{section_name}]" not in lines:
            lines += ["", f"[{section_name}]"]
        at = lines.index(f"[{section_name}]") + 1
        for key, value in missing:
            lines.insert(at, f"{key} = {value}")
    config_file.write_text("\n".join(lines) + "\n")


def prepare_airflow_home(airflow_home: Path, env: dict[str, str], options: dict[str, dict[str, str]]) -> Path:
    """Let Airflow write its default config (with fresh secrets) once, then set ours in it."""
    config_file = airflow_home / "airflow.cfg"
    if not config_file.exists():
        subprocess.run([str(Path(sys.executable).parent / "airflow"), "config", "get-value", "core", "executor"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    write_options(config_file, options)
    return config_file


class AlertPrinter:
    """The sandbox's alert channel: a loopback JSON webhook that prints each alert in the
    ``make airflow`` terminal and appends it to ``alerts.log`` (used when no alert
    connection is configured; a real one is an Apprise URL list, see docs/deploy.md)."""

    def __init__(self, log_path: Path):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        printer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                printer.show(body.get("title", ""), body.get("message", ""))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.log_path = log_path
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def show(self, title: str, message: str) -> None:
        text = f"\n=== ALERT {time.strftime('%H:%M:%S')} {title}\n{message}\n"
        print(text, flush=True)
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(text)

    def connection(self) -> str:
        path = f"json://127.0.0.1:{self.server.server_address[1]}/sandbox-alerts"
        return json.dumps({"conn_type": "apprise", "extra": {"config": [{"path": path, "tag": "always"}]}})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops Airflow's process group too
    from amazon_bluecherry.store import Store
    from sandbox.amazon.sftp_server import start_mailbox_server
    from sandbox.bluecherry.server import start_emulator
    from sandbox.harness import parties_env

    home = Path(os.environ.get("AB_HOME", REPO_ROOT / "var")).resolve()
    airflow_home = home / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    port, port_note = choose_port()
    database_url, database_note = metadata_database(airflow_home)
    venv_bin = str(Path(sys.executable).parent)
    # Only AIRFLOW_HOME for Airflow itself: the rest is in airflow.cfg. The venv's bin goes
    # first on PATH because standalone starts its components as `airflow ...`.
    base_env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__")}
    base_env.update({"AIRFLOW_HOME": str(airflow_home), "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"})
    prepare_airflow_home(airflow_home, base_env, airflow_options(port=port, database_url=database_url))

    mailbox = start_mailbox_server(home / "mailbox")
    emulator = start_emulator(home / "bluecherry.sqlite")
    store_url = store_database(home)
    Store(store_url).migrate()
    sandbox_env = {**parties_env(mailbox, emulator, database_url=store_url), "AB_HOME": str(home),
                   "AB_CONSOLE_URL": f"http://127.0.0.1:{port}/exceptions-console/"}
    alert_printer = None
    if not os.environ.get("AIRFLOW_CONN_AMAZON_BLUECHERRY_ALERTS"):
        alert_printer = AlertPrinter(home / "alerts.log")
        sandbox_env["AIRFLOW_CONN_AMAZON_BLUECHERRY_ALERTS"] = alert_printer.connection()
    env = {**base_env, **sandbox_env}
    env_file = airflow_home / "env.sh"
    env_file.write_text("# the sandbox's environment, for commands that run tasks: . var/airflow/env.sh\n"
                        + "".join(f"export {key}={shlex.quote(value)}\n"
                                  for key, value in {"AIRFLOW_HOME": str(airflow_home), **sandbox_env}.items()))
    env_file.chmod(0o600)  # holds the sandbox's API key

    airflow = str(Path(venv_bin) / "airflow")
    logs = airflow_home / "logs"
    logs.mkdir(exist_ok=True)
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    components: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        # What `airflow standalone` runs, started in order: the API server first, so that the
        # first tasks find the execution API instead of failing with "connection refused".
        with (logs / f"{name}.log").open("ab") as log_file:
            process = subprocess.Popen([airflow, name], env=env, start_new_session=True, stdout=log_file,
                                       stderr=subprocess.STDOUT)
        components.append(process)
        return process

    try:
        _wait_healthy(start("api-server"), port)
        for name in ("scheduler", "dag-processor", "triggerer"):
            start(name)
        _wait_healthy(components[1], port, component="scheduler")
        passwords = airflow_home / "simple_auth_manager_passwords.json.generated"
        login = json.loads(passwords.read_text()) if passwords.exists() else {}
        if port_note:
            print(f"note: {port_note}")
        if database_note:
            print(f"note: {database_note}")
        print(f"Airflow UI:       http://127.0.0.1:{port}")
        for user, password in login.items():
            print(f"login:            {user} / {password}")
        print(f"metadata DB:      {_masked(database_url)}")
        print(f"integration store: {_masked(store_url)}")
        print(f"BlueCherry (emu): {emulator.url}  (API key in AIRFLOW_CONN_BLUECHERRY_DEFAULT)")
        print(f"Amazon mailbox:   sftp://127.0.0.1:{mailbox.port}  drop 850s into {mailbox.download_dir}")
        print(f"Airflow CLI:      export AIRFLOW_HOME={airflow_home}   (or: . {env_file})")
        print(f"logs:             {logs}/{{api-server,scheduler,dag-processor,triggerer}}.log")
        if alert_printer is not None:
            print(f"alerts:           printed here and in {alert_printer.log_path} (the sandbox's channel)")
        print("The DAGs are unpaused; they appear in the UI once parsed (about 30 s).")
        print("Ctrl-C stops Airflow and the sandbox parties.", flush=True)
        while all(process.poll() is None for process in components):
            time.sleep(1)
        stopped = [name for name, process in zip(("api-server", "scheduler", "dag-processor", "triggerer"),
                                                 components, strict=False) if process.poll() is not None]
        print(f"{', '.join(stopped)} stopped; see its log. Stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in components:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in components:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        emulator.stop()
        mailbox.stop()
        if alert_printer is not None:
            alert_printer.stop()


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _wait_healthy(process: subprocess.Popen, port: int, *, component: str = "api-server",
                  timeout: float = 240) -> None:
    """Until the API answers (``api-server``) or reports the component healthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the Airflow {component} exited with {process.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as response:
                health = json.loads(response.read())
                if component == "api-server" or health.get(component, {}).get("status") == "healthy":
                    return
        except (OSError, ValueError):
            pass
        time.sleep(2)
    raise SystemExit(f"the Airflow {component} is not healthy after {timeout:.0f} s; see its log")


if __name__ == "__main__":
    sys.exit(main())
