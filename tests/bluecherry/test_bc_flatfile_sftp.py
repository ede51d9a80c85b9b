"""The flat-file adapter over SFTP (the hook's ``sftp_conn_id``), against the loopback SFTP server."""

from __future__ import annotations

import json

import pytest

from amazon_bluecherry.bluecherry.flatfile import FlatFileGateway
from amazon_bluecherry.folders import SftpFolder
from amazon_bluecherry.hooks.bluecherry import BlueCherryHook
from sandbox.bluecherry.backend import Backend
from sandbox.bluecherry.files import FileFace
from sandbox.bluecherry.server import seeded_database


@pytest.fixture
def sftp_erp(tmp_path, emulator_template):
    """An SFTP server whose upload account's folder is the ERP's import folder (exports below it)."""
    sftp_server = pytest.importorskip("sandbox.amazon.sftp_server")
    with sftp_server.start_mailbox_server(tmp_path / "sftp") as server:
        local = server.upload_dir
        (local / "export").mkdir()
        backend = Backend(seeded_database(emulator_template, tmp_path / "bc.sqlite"))
        try:
            yield server, FileFace(backend, local, local / "export")
        finally:
            backend.dispose()


def test_flat_files_over_sftp_through_the_hook(sftp_erp, monkeypatch, draft_for):
    server, face = sftp_erp
    face.run_cycle()
    remote = server.upload_remote_dir
    monkeypatch.setenv("AIRFLOW_CONN_BLUECHERRY_SFTP", json.dumps(server.airflow_connection("upload")))
    monkeypatch.setenv(
        "AIRFLOW_CONN_BLUECHERRY_DEFAULT",
        json.dumps(
            {
                "conn_type": "generic",
                "extra": {
                    "adapter": "flatfile",
                    "import_dir": remote,
                    "export_dir": f"{remote}/export",
                    "sftp_conn_id": "bluecherry_sftp",
                },
            }
        ),
    )
    hook = BlueCherryHook()
    try:
        gateway = hook.get_conn()
        assert isinstance(gateway, FlatFileGateway) and isinstance(gateway.import_folder, SftpFolder)
        gateway.ping()
        items = gateway.list_items()
        assert len(items) == len(face.backend.list_items())

        draft = draft_for(items[:2], [6, 6])
        gateway.upsert_sales_order(draft, idempotency_key="sftp-" + draft.customer_po)
        # The upload went through a temporary name and a rename: the ERP sees only the whole file.
        renames = [entry for entry in server.audit if entry.op == "rename"]
        assert renames and all("/." in entry.path for entry in renames)
        assert face.run_cycle().applied == {"sales_order:created": 1}
        assert gateway.get_sales_order(draft.customer_po).lines[0].sku == items[0].sku
    finally:
        hook.close()
