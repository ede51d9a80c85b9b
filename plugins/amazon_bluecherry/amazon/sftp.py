"""SFTP side of the mailbox: the connection policy and its errors.

No Airflow here: the hook (``hooks/amazon_sftp.py``) checks a connection against this policy,
opens it and hands its paramiko ``SFTPClient`` to ``amazon_bluecherry.folders.SftpFolder``.
"""

from __future__ import annotations

import logging

from amazon_bluecherry.amazon.mailbox import MailboxError

log = logging.getLogger(__name__)


class ConnectionRefused(MailboxError):
    """A connection's settings break the mailbox policy (key-pair login, pinned host key)."""


class MailboxUnreachable(MailboxError):
    """The SFTP server could not be reached or refused us (network, host key, login)."""


def _true(value: object) -> bool:
    return str(value).strip().lower() == "true"


def check_connection_policy(
    conn_id: str, *, password: str | None, extras: dict, allow_no_host_key_check: bool = False
) -> list[str]:
    """Refuse a connection Amazon's mailbox must not be reached with; returns warnings.

    Amazon's accounts are key-pair only, so a key is required and a password is never
    sent. The server's host key must be pinned (extra ``host_key``); skipping the check
    (``no_host_key_check``) is allowed only when ``allow_no_host_key_check`` (a sandbox).
    """
    warnings: list[str] = []
    if not (extras.get("key_file") or extras.get("private_key")):
        if password:
            raise ConnectionRefused(
                f"connection {conn_id!r} logs in with a password only; Amazon's mailbox accounts are "
                "key-pair only: set the extra 'key_file' or 'private_key'")
        raise ConnectionRefused(f"connection {conn_id!r} has no key: set the extra 'key_file' or 'private_key'")
    if password:
        warnings.append(f"connection {conn_id!r} has a password; it is ignored (key-pair login only)")
    if _true(extras.get("allow_host_key_change", False)):
        raise ConnectionRefused(f"connection {conn_id!r} sets allow_host_key_change=true; the host key must be pinned")
    if _true(extras.get("no_host_key_check", False)):
        if not allow_no_host_key_check:
            raise ConnectionRefused(
                f"connection {conn_id!r} sets no_host_key_check=true; pin the server's key in the extra "
                "'host_key' instead (skipping the check is allowed only in a sandbox, with "
                "AB_SFTP_ALLOW_NO_HOST_KEY_CHECK=true)")
        warnings.append(f"connection {conn_id!r} does not check the host key (sandbox setting)")
    elif not str(extras.get("host_key") or "").strip():
        raise ConnectionRefused(
            f"connection {conn_id!r} does not pin the server's host key: set the extra 'host_key' to its "
            "public key ('ssh-ed25519 AAAA...')")
    return warnings
