"""po_to_so steps over a real store: one unreadable PO never stops the batch."""

from __future__ import annotations

from datetime import UTC, datetime

from amazon_bluecherry.flows.intake import process_inbound
from amazon_bluecherry.flows.mappings import load_mappings
from amazon_bluecherry.flows.po_to_so import TranslationPolicy
from amazon_bluecherry.flows.po_to_so_steps import translate_received
from amazon_bluecherry.settings import Settings
from tests.flows.conftest import make_850


def test_a_po_the_guide_accepts_but_the_model_cannot_read_is_one_exception(store, mappings_dir, tmp_path):
    settings = Settings(home=tmp_path)
    # A negative quantity passes the guide (N0 has a sign) but not the order model.
    for content, control in ((make_850("ZERO1", lines=["PO1*1*-1*EA*6.5*PE*UP*028877454078"], control="000000401"),
                              "401"),
                             (make_850("GOOD1", control="000000402"), "402")):
        raw_id, _ = store.save_raw_document(content, partner="AMAZON", transport="sftp", remote_name=control)
        assert process_inbound(store, raw_id, settings).accepted["850"]
    result = translate_received(store, load_mappings(mappings_dir), TranslationPolicy(),
                                now=datetime(2026, 11, 26, tzinfo=UTC), window_hours=24)
    assert len(result.translated) == 1
    (exception,) = store.list_exceptions(type="edi_rejected")
    assert exception.business_key == "ZERO1" and "PO102" in exception.message
    assert "Amazon's 997 already accepted it" in exception.message


def test_the_quality_gate_is_its_own_step_and_holds_only_the_po_it_names(store, mappings_dir, tmp_path):
    from sqlalchemy import select

    from amazon_bluecherry.flows.po_to_so_steps import check_translated
    from amazon_bluecherry.store.models import QualityResult, Transaction

    settings = Settings(home=tmp_path)
    # PAST1's delivery window closed before the batch is checked; GOOD2's is open.
    for content in (make_850("PAST1", window=("20261101", "20261105"), control="000000501"),
                    make_850("GOOD2", control="000000502")):
        raw_id, _ = store.save_raw_document(content, partner="AMAZON", transport="sftp")
        process_inbound(store, raw_id, settings)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    translated = translate_received(store, load_mappings(mappings_dir), TranslationPolicy(), now=now, window_hours=24)
    assert len(translated.translated) == 2

    def statuses():
        with store.session() as db:
            return {t.business_key: t.status for t in db.scalars(select(Transaction).where(Transaction.doc_type == "850"))}

    assert statuses() == {"PAST1": "awaiting_check", "GOOD2": "awaiting_check"}, "nothing loads before the gate"
    checked = check_translated(store, TranslationPolicy(), now=now, run_key="run-1")
    assert statuses() == {"PAST1": "held", "GOOD2": "translated"}
    assert len(checked.passed) == 1 and len(checked.held) == 1
    (exception,) = store.list_exceptions(type="quality_check_failed")
    assert exception.business_key == "PAST1" and "delivery window still open at receipt" in exception.message
    with store.session() as db:
        held = db.scalar(select(Transaction).where(Transaction.business_key == "PAST1"))
        assert "draft" not in held.data and held.data["translation"]["held"] is True
        (quality,) = db.scalars(select(QualityResult)).all()
        assert (quality.run_key, quality.success, quality.failed) == ("run-1", False, 1)
    # Run again: nothing awaits the gate, nothing changes.
    assert check_translated(store, TranslationPolicy(), now=now).passed == []
    assert statuses() == {"PAST1": "held", "GOOD2": "translated"}
