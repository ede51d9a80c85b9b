"""Thin operators over ``AmazonMailboxHook``: pickup and upload, ids in and out via XCom."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from amazon_bluecherry.operators.xcom import id_list, optional_int


class MailboxPickupOperator(BaseOperator):
    """Take new, complete files from Amazon's download folder into the store; returns the new raw document ids.

    Duplicates, refused files and files still being written are not returned: refusals
    became exceptions, duplicates were stored before (their arrival is recorded and answered
    by the next task), files still being written wait for a later run.

    :param download_conn_id: SFTP connection of the download account (default from settings)
    :param download_dir: remote folder (default from settings)
    :param max_files: files downloaded per run (default ``AB_PICKUP_MAX_FILES``)
    :param max_file_bytes: size limit per file (default ``AB_MAX_INBOUND_FILE_BYTES``)
    :param settle_seconds: two listings this far apart must agree on a file's size and mtime
        (default ``AB_PICKUP_SETTLE_SECONDS``)
    :param database_url: integration store (default from settings)
    """

    template_fields: Sequence[str] = ("download_conn_id", "download_dir", "max_files", "max_file_bytes",
                                      "settle_seconds")

    def __init__(
        self,
        *,
        download_conn_id: str | None = None,
        download_dir: str | None = None,
        max_files: int | str | None = None,
        max_file_bytes: int | str | None = None,
        settle_seconds: float | str | None = None,
        database_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.download_conn_id = download_conn_id
        self.download_dir = download_dir
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.settle_seconds = settle_seconds
        self.database_url = database_url

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.hooks.amazon_sftp import AmazonMailboxHook
        from amazon_bluecherry.operators.window import run_window
        from amazon_bluecherry.store import get_store

        window = run_window(context)
        if window.replay:  # a backfill or replay never takes newer files from Amazon
            self.log.info("no pickup: %s", window.describe())
            return []
        hook = AmazonMailboxHook(download_conn_id=self.download_conn_id, download_dir=self.download_dir)
        settle = None if self.settle_seconds in (None, "") else float(self.settle_seconds)
        report = hook.pickup(get_store(self.database_url), max_files=optional_int(self.max_files),
                             max_file_bytes=optional_int(self.max_file_bytes), settle_seconds=settle)
        self.log.info("pickup: %s", report.summary())
        if report.remaining:
            self.log.info("%s files left for the next run", report.remaining)
        return report.new_raw_document_ids


class MailboxUploadOperator(BaseOperator):
    """Upload outbound documents (by id, from the store) to Amazon's upload folder; returns the ids sent.

    :param outbound_document_ids: ids of ``outbound_documents`` rows (a list, or an upstream task's XComArg)
    :param upload_conn_id: SFTP connection of the upload account (default from settings)
    :param upload_dir: remote folder (default from settings)
    :param database_url: integration store (default from settings)
    """

    template_fields: Sequence[str] = ("outbound_document_ids", "upload_conn_id", "upload_dir")

    def __init__(
        self,
        *,
        outbound_document_ids: Any,
        upload_conn_id: str | None = None,
        upload_dir: str | None = None,
        database_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.outbound_document_ids = outbound_document_ids
        self.upload_conn_id = upload_conn_id
        self.upload_dir = upload_dir
        self.database_url = database_url

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.hooks.amazon_sftp import AmazonMailboxHook
        from amazon_bluecherry.store import get_store

        ids = id_list(self.outbound_document_ids)
        if not ids:
            self.log.info("nothing to upload")
            return []
        hook = AmazonMailboxHook(upload_conn_id=self.upload_conn_id, upload_dir=self.upload_dir)
        report = hook.upload(get_store(self.database_url), ids)
        self.log.info("upload: %s", report.summary())
        return report.sent
