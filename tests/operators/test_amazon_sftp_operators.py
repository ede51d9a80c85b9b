"""The mailbox operators (operators/amazon_sftp.py) without a server: a backfill or replay never
picks up, and an empty list from upstream uploads nothing. Both are read-only toward Amazon and
touch no connection (none is defined here). Transfers: tests/amazon/test_amazon_sftp_hook.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amazon_bluecherry.operators.amazon_sftp import MailboxPickupOperator, MailboxUploadOperator
from tests.operators.conftest import logged, run_context

CUTOFF = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize("context", [
    pytest.param(lambda: run_context("backfill", interval_start=CUTOFF - timedelta(days=1), interval_end=CUTOFF),
                 id="backfill-interval"),
    pytest.param(lambda: run_context("manual", params={"received_before": CUTOFF.isoformat()}), id="param-or-conf"),
])
def test_a_replay_never_picks_up(context, capsys):
    assert MailboxPickupOperator(task_id="pick_up_files").execute(context()) == []
    assert "no pickup: " in logged(capsys)


def test_nothing_from_upstream_uploads_nothing(capsys):
    assert MailboxUploadOperator(task_id="send_997s", outbound_document_ids=[]).execute(run_context()) == []
    assert MailboxUploadOperator(task_id="send_997s", outbound_document_ids=None).execute(run_context()) == []
    assert "nothing to upload" in logged(capsys)
