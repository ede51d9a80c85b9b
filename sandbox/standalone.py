"""``make airflow``: Airflow standalone with our DAGs, wired to the sandbox parties.

Starts the loopback SFTP mailbox and the BlueCherry emulator, writes their Airflow
connections into the environment, then runs ``airflow standalone`` (scheduler, DAG
processor, triggerer, API server with the UI) in its own process group. Ctrl-C stops
everything. For local use only: this is the sandbox, not a deployment (see docs/deploy.md).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from amazon_bluecherry.settings import REPO_ROOT

PORT = int(os.environ.get("AB_AIRFLOW_PORT", "8080"))


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops Airflow's process group too
    from amazon_bluecherry.store import Store
    from sandbox.amazon.sftp_server import start_mailbox_server
    from sandbox.bluecherry.server import start_emulator
    from sandbox.harness import parties_env

    home = Path(os.environ.get("AB_HOME", REPO_ROOT / "var")).resolve()
    airflow_home = home / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    mailbox = start_mailbox_server(home / "mailbox")
    emulator = start_emulator(home / "bluecherry.sqlite")
    store_url = os.environ.get("AB_DATABASE_URL") or f"sqlite:///{home / 'integration.sqlite'}"
    Store(store_url).migrate()

    env = {
        **os.environ,
        **parties_env(mailbox, emulator, database_url=store_url),
        "AB_HOME": str(home),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",  # 2 cores: the default 32 forks dozens of processes
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API__PORT": str(PORT),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
    }
    with (airflow_home / "standalone.log").open("ab") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "airflow", "standalone"], env=env,
                                   start_new_session=True, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(process)
        passwords = airflow_home / "simple_auth_manager_passwords.json.generated"
        login = json.loads(passwords.read_text()) if passwords.exists() else {}
        print(f"Airflow UI:       http://127.0.0.1:{PORT}")
        for user, password in login.items():
            print(f"login:            {user} / {password}")
        print(f"BlueCherry (emu): {emulator.url}  (API key in AIRFLOW_CONN_BLUECHERRY_DEFAULT)")
        print(f"Amazon mailbox:   sftp://127.0.0.1:{mailbox.port}  drop 850s into {mailbox.download_dir}")
        print(f"logs:             {airflow_home / 'standalone.log'}")
        print("Ctrl-C stops Airflow and the sandbox parties.")
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        emulator.stop()
        mailbox.stop()
    return 0


def _wait_healthy(process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"airflow standalone exited with {process.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v2/monitor/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise SystemExit(f"airflow standalone not healthy after {timeout:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
