"""``amazon-bluecherry db ...``: the integration store's schema."""

from __future__ import annotations

from amazon_bluecherry.store import get_store
from amazon_bluecherry.store.migrate import current_revision


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="integration store: migrations")
    commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = commands.add_parser("upgrade", help="apply Alembic migrations up to the newest revision")
    upgrade.set_defaults(handler=_upgrade)
    current = commands.add_parser("current", help="print the database URL's current revision")
    current.set_defaults(handler=_current)


def _upgrade(_args) -> int:
    store = get_store()
    store.migrate()
    print(f"store at revision {current_revision(store)}: {_redacted(store.url)}")
    return 0


def _current(_args) -> int:
    store = get_store()
    print(current_revision(store) or "empty")
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
