"""docker/postgres/init-integration-db.sh on a real PostgreSQL: it creates the store's role
and database, can run again, and `amazon-bluecherry db upgrade` (what airflow-init runs)
migrates the new database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from amazon_bluecherry.settings import REPO_ROOT

SCRIPT = REPO_ROOT / "docker" / "postgres" / "init-integration-db.sh"
pytestmark = pytest.mark.postgres


@pytest.fixture
def store_role(postgres_admin_url):
    """A unique role/database name and the admin connection; both dropped afterwards."""
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    name = f"ab_init_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    yield name, admin
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
    admin.dispose()


def _run_script(admin_url: str, name: str, password: str) -> subprocess.CompletedProcess:
    url = make_url(admin_url)
    env = {
        "PATH": os.environ["PATH"],
        # What the postgres image gives the script: the superuser and its database.
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_DB": url.database or "postgres",
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "AB_STORE_DB_USER": name,
        "AB_STORE_DB_NAME": name,
        "AB_STORE_DB_PASSWORD": password,
    }
    if url.password:
        env["PGPASSWORD"] = url.password
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_the_script_creates_the_store_database_and_can_run_again(postgres_admin_url, store_role):
    name, admin = store_role
    password = "pw-" + uuid.uuid4().hex  # URL-safe, as .env.example asks
    for attempt in (1, 2):
        done = _run_script(postgres_admin_url, name, password)
        assert done.returncode == 0, f"run {attempt}: {done.stderr}"
        assert f"role {name}, database {name} ready" in done.stdout
    with admin.connect() as connection:
        owner = connection.scalar(text(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :name"), {"name": name})
        public_may_connect = connection.scalar(text(
            "SELECT has_database_privilege('public', :name, 'CONNECT')"), {"name": name})
    assert owner == name
    assert public_may_connect is False

    url = make_url(postgres_admin_url).set(username=name, password=password, database=name)
    upgrade = subprocess.run(
        [str(Path(sys.executable).with_name("amazon-bluecherry")), "db", "upgrade"],
        env=os.environ | {"AB_DATABASE_URL": url.render_as_string(hide_password=False)},
        capture_output=True, text=True, timeout=180,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    store = create_engine(url)
    try:
        with store.connect() as connection:
            tables = set(connection.scalars(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
            assert connection.scalar(text("SELECT current_user")) == name
    finally:
        store.dispose()
    assert {"raw_documents", "transactions", "exceptions", "events", "outbound_documents", "alembic_version"} <= tables


def test_the_script_refuses_to_run_without_a_password(postgres_admin_url, store_role):
    name, admin = store_role
    done = _run_script(postgres_admin_url, name, "")
    assert done.returncode != 0
    assert "AB_STORE_DB_PASSWORD must be set" in done.stderr
    with admin.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :name"), {"name": name}) == 0
