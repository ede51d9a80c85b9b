"""``make airflow`` as a test fixture: the real sandbox (sandbox/standalone.py) in a child
process, on free ports, with Airflow's metadata in a fresh PostgreSQL database; and a small
client of Airflow 3's REST API (a JWT from the simple auth manager, then Bearer calls)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import REPO_ROOT


@dataclass
class AirflowServer:
    url: str
    home: Path
    username: str
    password: str
    store_url: str
    process: subprocess.Popen
    output: Path

    def client(self) -> AirflowClient:
        return AirflowClient(self.url, self.username, self.password)

    def drop(self, name: str, content: bytes) -> None:
        """A file appears (whole) in Amazon's download folder of the sandbox mailbox."""
        folder = self.home / "mailbox" / "accounts" / "edi-download" / "download"
        staged = folder.parent / f".{name}.part"
        staged.write_bytes(content)
        os.link(staged, folder / name)
        staged.unlink()

    def remote_downloads(self) -> list[str]:
        folder = self.home / "mailbox" / "accounts" / "edi-download" / "download"
        return sorted(entry.name for entry in folder.iterdir() if entry.is_file())

    def uploads(self) -> dict[str, bytes]:
        """Files we uploaded to Amazon (completed uploads only)."""
        folder = self.home / "mailbox" / "accounts" / "edi-upload" / "upload"
        from sandbox.amazon.sftp_server import is_in_progress

        return {entry.name: entry.read_bytes() for entry in folder.iterdir()
                if entry.is_file() and not is_in_progress(entry.name)}

    def env(self) -> dict[str, str]:
        """The sandbox's environment (env.sh) for commands that run against it."""
        values = {}
        for line in (self.home / "airflow" / "env.sh").read_text().splitlines():
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").partition("=")
                values[key] = value.strip("'")
        return values


class AirflowClient:
    def __init__(self, url: str, username: str, password: str):
        self.url = url
        response = httpx.post(f"{url}/auth/token", json={"username": username, "password": password}, timeout=30)
        response.raise_for_status()
        self.http = httpx.Client(base_url=f"{url}/api/v2", timeout=60,
                                 headers={"Authorization": f"Bearer {response.json()['access_token']}"})
        self.token = response.json()["access_token"]

    def get(self, path: str, **params) -> dict:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict) -> dict:
        response = self.http.post(path, json=body)
        if response.status_code >= 400:
            raise AssertionError(f"POST {path}: {response.status_code} {response.text}")
        return response.json()

    def wait_for_dag(self, dag_id: str, timeout: float = 240) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.http.get(f"/dags/{dag_id}")
            if response.status_code == 200:
                return response.json()
            time.sleep(3)
        raise AssertionError(f"DAG {dag_id} not parsed after {timeout:.0f} s")

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        run = self.post(f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed"):
                return run
            time.sleep(3)
        raise AssertionError(f"{dag_id} {run_id} still {run['state']} after {timeout:.0f} s: {self.task_states(dag_id, run_id)}")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        instances = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in instances}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_airflow(home: Path, metadata_url: str, store_url: str, *, extra_env: dict[str, str] | None = None,
                  timeout: float = 420) -> AirflowServer:
    """Run ``python -m sandbox.standalone`` (what ``make airflow`` runs) until it prints its login."""
    home.mkdir(parents=True, exist_ok=True)
    output = home / "make-airflow.out"
    env = {
        "HOME": os.environ.get("HOME", str(home)),
        "PATH": "/usr/bin:/bin",  # a fresh shell: the venv is not activated
        "AB_HOME": str(home),
        "AB_AIRFLOW_PORT": str(_free_port()),
        "AB_AIRFLOW_DATABASE_URL": metadata_url,
        "AB_DATABASE_URL": store_url,
        **(extra_env or {}),
    }
    with output.open("wb") as handle:
        process = subprocess.Popen([sys.executable, "-m", "sandbox.standalone"], cwd=REPO_ROOT, env=env,
                                   stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    url = username = password = None
    while time.monotonic() < deadline:
        text = output.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith("Airflow UI:"):
                url = line.split()[-1]
            if line.startswith("login:"):
                username, _, password = line.split(maxsplit=1)[1].partition(" / ")
        if url and username and "Ctrl-C" in text:
            break
        if process.poll() is not None:
            raise AssertionError(f"make airflow exited with {process.returncode}:\n{text}\n"
                                 + _tail(home / "airflow" / "logs" / "api-server.log")
                                 + _tail(home / "airflow" / "logs" / "scheduler.log"))
        time.sleep(2)
    else:
        stop_airflow_process(process)
        raise AssertionError(f"make airflow did not print its login in {timeout:.0f} s:\n{output.read_text()}")
    return AirflowServer(url=url, home=home, username=username, password=password.strip(),
                         store_url=store_url, process=process, output=output)


def stop_airflow_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # standalone.py stops Airflow's process group and the parties
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def login_of(home: Path) -> tuple[str, str]:
    (user, password), = json.loads((home / "airflow" / "simple_auth_manager_passwords.json.generated")
                                   .read_text()).items()
    return user, password
