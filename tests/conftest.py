"""Test environment: an isolated Airflow home and integration store per session.

Airflow reads its configuration when first imported, so the environment is set here,
before any test module imports it (see ../shared/reference/airflow3-notes.md).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_CORPUS = REPO_ROOT.parent / "shared" / "edi_corpus" / "public"

_session_home = Path(tempfile.mkdtemp(prefix="ab-tests-"))
os.environ["AIRFLOW_HOME"] = str(_session_home / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO_ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_session_home / 'airflow' / 'airflow.db'}"
os.environ.setdefault("AB_HOME", str(_session_home / "ab"))
# The sandbox mailbox publishes whole files atomically: pickup's second listing need not wait
# the production settle interval (10 s) in every DAG run. The tests of the interval set theirs.
os.environ.setdefault("AB_PICKUP_SETTLE_SECONDS", "0")
(_session_home / "airflow").mkdir(parents=True, exist_ok=True)

# CI sets this so the PostgreSQL tests always run there; elsewhere they run when the
# default local server answers and are skipped with the reason otherwise.
POSTGRES_URL = os.environ.get("AB_TEST_POSTGRES_URL", "")
_DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_admin_url() -> tuple[str | None, str]:
    from sqlalchemy import create_engine, text

    url = POSTGRES_URL or _DEFAULT_POSTGRES
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return url, ""
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        if POSTGRES_URL:
            raise RuntimeError(f"AB_TEST_POSTGRES_URL is set but PostgreSQL is not reachable: {exc}") from exc
        return None, f"PostgreSQL not reachable at {url} ({type(exc).__name__}); set AB_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url, reason = _postgres_admin_url()
    if url is None:
        pytest.skip(reason)
    return url


@pytest.fixture
def postgres_url(postgres_admin_url):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"ab_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    """The same test on both backends."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url):
    """A migrated integration store on each backend."""
    from amazon_bluecherry.store import Store

    migrated = Store(store_url)
    migrated.migrate()
    yield migrated
    migrated.dispose()


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database, reset once per session (needed by dag.test())."""
    from airflow.utils import db

    db.resetdb()
    yield


@pytest.fixture
def shared_corpus() -> Path:
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"shared EDI corpus not present at {SHARED_CORPUS}")
    return SHARED_CORPUS


def pytest_collection_modifyitems(session, config, items):
    """Tests on the running ``make airflow`` go last: it starts once for them and stops at the
    end of the session, so the rest of the suite does not share the machine with it."""
    items.sort(key=lambda item: "airflow_server" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def alert_sinks():
    """Loopback alert receivers for the session's Airflow: (webhook for every team, SMTP for wholesale)."""
    from tests.sinks import SmtpSink, WebhookSink

    webhook, smtp = WebhookSink(), SmtpSink()
    yield webhook, smtp
    webhook.close()
    smtp.close()


@pytest.fixture(scope="session")
def airflow_server(postgres_admin_url, tmp_path_factory, alert_sinks):
    """``make airflow`` running for the session (metadata in a fresh PostgreSQL database),
    its alerts going to the loopback sinks of ``alert_sinks``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.airflow_server import start_airflow, stop_airflow_process
    from tests.sinks import alert_connection

    suffix = uuid.uuid4().hex[:8]
    names = [f"ab_airflow_test_{suffix}", f"ab_store_test_{suffix}"]  # Airflow's metadata, our store
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    metadata_url, store_url = (make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
                               for name in names)
    server = start_airflow(tmp_path_factory.mktemp("make-airflow"), metadata_url, store_url,
                           extra_env={
                               "AB_PO_SCHEDULE": "@daily",  # a two-day backfill is two runs
                               # The tests trigger what they need; no */5 churn on a busy machine.
                               **{name: "@daily" for name in ("AB_POA_SCHEDULE", "AB_ASN_SCHEDULE",
                                                              "AB_REMIT_SCHEDULE", "AB_INVENTORY_SCHEDULE")},
                               "AIRFLOW_CONN_AMAZON_BLUECHERRY_ALERTS": alert_connection(
                                   (alert_sinks[0].url(), "always"),
                                   (alert_sinks[1].url("wholesale@example.com"), "wholesale")),
                           })
    try:
        yield server
    finally:
        stop_airflow_process(server.process)
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


from tests.sinks import smtp_sink, webhook_sink  # noqa: E402, F401 - loopback alert receivers for every test
