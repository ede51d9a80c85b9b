"""``BlueCherryHook``: the BlueCherry gateway built from an Airflow connection.

REST (the default adapter), for a site with a CGS API key::

    AIRFLOW_CONN_BLUECHERRY_DEFAULT='{"conn_type": "http", "host": "bluecherry.example.com",
        "schema": "https", "port": 443, "password": "<API key>",
        "extra": {"timeout": 30, "max_retries": 5, "backoff": 0.5, "base_path": "",
                  "circuit_breaker_threshold": 6, "batch_size": 100, "max_concurrency": 4}}'

Flat files, for a site that exchanges import/export files (local folders, or SFTP through
another connection)::

    AIRFLOW_CONN_BLUECHERRY_DEFAULT='{"conn_type": "generic", "extra": {"adapter": "flatfile",
        "import_dir": "/mnt/bluecherry/import", "export_dir": "/mnt/bluecherry/export",
        "layouts": "/opt/airflow/include/mappings/bluecherry_layouts.yaml",
        "max_age_minutes": 240, "sftp_conn_id": null}}'

Emulator-defined; map to your BlueCherry installation (docs/bluecherry.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseHook

from amazon_bluecherry.bluecherry.gateway import BlueCherryGateway, GatewayError

__all__ = ["BlueCherryHook"]


class BlueCherryHook(BaseHook):
    """Build (and cache) the :class:`BlueCherryGateway` an Airflow connection describes.

    :param bluecherry_conn_id: the connection id (default ``bluecherry_default``)
    """

    conn_name_attr = "bluecherry_conn_id"
    default_conn_name = "bluecherry_default"
    conn_type = "bluecherry"
    hook_name = "CGS BlueCherry"

    def __init__(self, bluecherry_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bluecherry_conn_id = bluecherry_conn_id
        self._gateway: BlueCherryGateway | None = None
        self._sftp_hook = None

    def get_conn(self) -> BlueCherryGateway:
        """The gateway (REST or flat files, as the connection says); built once per hook."""
        if self._gateway is None:
            self._gateway = self._build(self.get_connection(self.bluecherry_conn_id))
        return self._gateway

    def close(self) -> None:
        if self._gateway is not None:
            self._gateway.close()
            self._gateway = None
        if self._sftp_hook is not None:
            self._sftp_hook.close_conn()
            self._sftp_hook = None

    def test_connection(self) -> tuple[bool, str]:
        """For the Airflow UI's "Test" button: reach BlueCherry with this connection (``ping``).

        The connection type and its form are declared in ``amazon_bluecherry.provider``."""
        try:
            self.get_conn().ping()
        except (GatewayError, ValueError) as exc:
            return False, str(exc)
        finally:
            self.close()
        return True, "BlueCherry is reachable"

    def _build(self, conn) -> BlueCherryGateway:
        extra = conn.extra_dejson or {}
        adapter = str(extra.get("adapter", "rest")).lower()
        if adapter == "rest":
            return self._rest(conn, extra)
        if adapter == "flatfile":
            return self._flatfile(extra)
        raise ValueError(
            f"connection {self.bluecherry_conn_id!r}: extra 'adapter' must be 'rest' or 'flatfile', not {adapter!r}"
        )

    def _rest(self, conn, extra: dict[str, Any]) -> BlueCherryGateway:
        from amazon_bluecherry.bluecherry.rest import RestGateway

        if not conn.host:
            raise ValueError(f"connection {self.bluecherry_conn_id!r}: the REST adapter needs a host")
        if not conn.password:
            raise ValueError(
                f"connection {self.bluecherry_conn_id!r}: put the BlueCherry API key in the password"
            )
        if "://" in conn.host:
            base_url = conn.host.rstrip("/")
        else:
            scheme = (
                conn.schema or "https"
            )  # HTTP connections carry the scheme in "schema", as HttpHook reads it
            base_url = f"{scheme}://{conn.host}" + (f":{conn.port}" if conn.port else "")
        base_url += str(extra.get("base_path", "")).rstrip("/")
        self.log.info("BlueCherry REST gateway at %s (connection %s)", base_url, self.bluecherry_conn_id)
        return RestGateway(
            base_url,
            conn.password,
            timeout=float(extra.get("timeout", 30)),
            max_retries=int(extra.get("max_retries", 5)),
            backoff=float(extra.get("backoff", 0.5)),
            circuit_breaker_threshold=int(extra.get("circuit_breaker_threshold", 6)),
            batch_size=int(extra.get("batch_size", 100)),
            max_concurrency=int(extra.get("max_concurrency", 4)),
        )

    def _flatfile(self, extra: dict[str, Any]) -> BlueCherryGateway:
        from amazon_bluecherry.bluecherry.flatfile import FlatFileGateway
        from amazon_bluecherry.folders import SftpFolder

        missing = [key for key in ("import_dir", "export_dir") if not extra.get(key)]
        if missing:
            raise ValueError(
                f"connection {self.bluecherry_conn_id!r}: the flat-file adapter needs extras {missing}"
            )
        import_dir, export_dir = str(extra["import_dir"]), str(extra["export_dir"])
        if extra.get("sftp_conn_id"):
            from airflow.providers.sftp.hooks.sftp import SFTPHook

            sftp_conn_id = str(extra["sftp_conn_id"])
            self._sftp_hook = SFTPHook(ssh_conn_id=sftp_conn_id)
            client = self._sftp_hook.get_conn()
            import_folder, export_folder = (SftpFolder(client, path, location=f"{sftp_conn_id}:{path}")
                                            for path in (import_dir, export_dir))
        else:
            import_folder, export_folder = import_dir, export_dir
        max_age = extra.get("max_age_minutes")
        self.log.info(
            "BlueCherry flat-file gateway: import %s, export %s (connection %s)",
            import_dir,
            export_dir,
            self.bluecherry_conn_id,
        )
        return FlatFileGateway(
            import_folder,
            export_folder,
            extra.get("layouts") or None,
            max_age=timedelta(minutes=float(max_age)) if max_age is not None else None,
        )
