"""Amazon's SFTP mailbox through the SFTP provider: two key-only accounts, host key pinned.

The hook owns every connection detail and every byte of I/O; the mailbox rules and the
pickup/upload algorithms live in ``amazon_bluecherry.amazon.mailbox`` (no Airflow there).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Literal

import paramiko
from airflow.providers.sftp.hooks.sftp import SFTPHook
from airflow.sdk import BaseHook

from amazon_bluecherry.amazon.mailbox import PickupReport, UploadReport, pickup, upload_outbound
from amazon_bluecherry.amazon.sftp import MailboxUnreachable, check_connection_policy
from amazon_bluecherry.folders import SftpFolder
from amazon_bluecherry.settings import get_settings
from amazon_bluecherry.store import Store

Account = Literal["download", "upload"]


class AmazonMailboxHook(BaseHook):
    """Pick up from and upload to Amazon's SFTP mailbox (separate download and upload accounts).

    Connections are SFTP connections whose extras hold ``key_file`` (or ``private_key``),
    ``host_key`` (the server's public key, pinned) and ``conn_timeout``. A connection with
    only a password, without a pinned host key, or with ``no_host_key_check=true`` (unless
    ``AB_SFTP_ALLOW_NO_HOST_KEY_CHECK``) is refused before anything is sent.

    :param download_conn_id: connection of the account Amazon drops files into
    :param upload_conn_id: connection of the account we upload into
    :param download_dir: remote folder of the download account
    :param upload_dir: remote folder of the upload account
    :param quarantine_dir: remote folder for refused and oversize files, relative to the download
        folder or absolute (default ``AB_SFTP_QUARANTINE_DIR``, ``quarantine``; "" = leave them in place)
    :param conn_timeout: seconds, when the connection's extras set none
    :param conn_retry_attempts: connection attempts before giving up
    :param allow_no_host_key_check: sandbox only: accept ``no_host_key_check=true``
    """

    hook_name = "Amazon SFTP mailbox"

    def __init__(
        self,
        *,
        download_conn_id: str | None = None,
        upload_conn_id: str | None = None,
        download_dir: str | None = None,
        upload_dir: str | None = None,
        quarantine_dir: str | None = None,
        conn_timeout: int | None = None,
        conn_retry_attempts: int | None = None,
        allow_no_host_key_check: bool | None = None,
    ) -> None:
        super().__init__()
        settings = get_settings()
        self.download_conn_id = download_conn_id or settings.sftp_download_conn_id
        self.upload_conn_id = upload_conn_id or settings.sftp_upload_conn_id
        self.download_dir = download_dir or settings.download_dir
        self.upload_dir = upload_dir or settings.upload_dir
        self.quarantine_dir = settings.sftp_quarantine_dir if quarantine_dir is None else quarantine_dir
        self.conn_timeout = conn_timeout or settings.sftp_conn_timeout
        self.conn_retry_attempts = conn_retry_attempts or settings.sftp_conn_retry_attempts
        self.allow_no_host_key_check = (
            settings.sftp_allow_no_host_key_check if allow_no_host_key_check is None else allow_no_host_key_check
        )

    def _account(self, account: Account) -> tuple[str, str]:
        if account == "download":
            return self.download_conn_id, self.download_dir
        if account == "upload":
            return self.upload_conn_id, self.upload_dir
        raise ValueError(f"account must be 'download' or 'upload', not {account!r}")

    def get_sftp_hook(self, account: Account) -> SFTPHook:
        """An ``SFTPHook`` for one account, after the connection passed the mailbox policy."""
        conn_id, _ = self._account(account)
        conn = self.get_connection(conn_id)
        extras = conn.extra_dejson
        for warning in check_connection_policy(conn_id, password=conn.password, extras=extras,
                                               allow_no_host_key_check=self.allow_no_host_key_check):
            self.log.warning("%s", warning)
        timeout = int(extras.get("conn_timeout") or self.conn_timeout)
        hook = SFTPHook(
            ssh_conn_id=conn_id,
            password="",  # key-pair only: a stored password is never offered to the server
            conn_timeout=timeout,
            banner_timeout=float(timeout),
            auth_timeout=timeout,
            conn_retry_attempts=self.conn_retry_attempts,
        )
        hook.look_for_keys = False  # the connection's key only, never whatever sits in ~/.ssh
        return hook

    @contextlib.contextmanager
    def folder(self, account: Account) -> Iterator[SftpFolder]:
        """One logged-in session on an account's mailbox folder, closed on exit."""
        conn_id, path = self._account(account)
        sftp_hook = self.get_sftp_hook(account)
        with contextlib.ExitStack() as stack:
            try:
                sftp = stack.enter_context(sftp_hook.get_managed_conn())
            except (paramiko.SSHException, OSError) as exc:
                raise MailboxUnreachable(
                    f"cannot open the {account} mailbox {conn_id} ({sftp_hook.remote_host}:{sftp_hook.port}): "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            self.log.info("connected to %s (%s:%s) as %s", conn_id, sftp_hook.remote_host, sftp_hook.port,
                          sftp_hook.username)
            yield SftpFolder(sftp, path, location=f"{conn_id}:{path}")

    def pickup(
        self,
        store: Store,
        *,
        max_files: int | None = None,
        max_file_bytes: int | None = None,
        partner: str | None = None,
        settle_seconds: float | None = None,
    ) -> PickupReport:
        """Take new, complete files from the download folder into ``store`` (see ``mailbox.pickup``)."""
        with self.folder("download") as folder:
            return pickup(folder, store, max_files=max_files, max_file_bytes=max_file_bytes,
                          quarantine_dir=self.quarantine_dir, partner=partner, settle_seconds=settle_seconds)

    def upload(self, store: Store, outbound_document_ids: Iterable[int]) -> UploadReport:
        """Send pending outbound documents to the upload folder (see ``mailbox.upload_outbound``)."""
        with self.folder("upload") as folder:
            return upload_outbound(folder, store, outbound_document_ids)

    def test_connection(self) -> tuple[bool, str]:
        """Log in to both accounts and list both folders."""
        try:
            counts = {}
            for account in ("download", "upload"):
                with self.folder(account) as folder:
                    counts[account] = len(folder.list_files())
        except Exception as exc:  # noqa: BLE001 - reported, not raised, as Airflow expects
            return False, str(exc)
        return True, f"download folder: {counts['download']} files; upload folder: {counts['upload']} files"
