"""The Airflow plugin: mounts the console's FastAPI app and adds it to the UI's navigation.

Registered through the provider entry point (``amazon_bluecherry.provider``), so nothing of
the package needs to live in the plugins folder.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/exceptions-console"


def _app():
    from amazon_bluecherry.console.app import create_app

    return create_app()


class ExceptionsConsolePlugin(AirflowPlugin):
    name = "amazon_bluecherry_console"
    fastapi_apps = [{"app": _app(), "url_prefix": URL_PREFIX, "name": "Amazon-BlueCherry exceptions console"}]
    external_views = [
        {"name": "Exceptions", "href": "exceptions-console/", "destination": "nav", "url_route": "exceptions",
         "category": "browse"},
        {"name": "Data-quality reports", "href": "exceptions-console/reports/", "destination": "nav",
         "url_route": "quality-reports", "category": "browse"},
    ]
