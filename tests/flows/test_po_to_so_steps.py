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
    # Quantity 0 passes the guide (N0) but not the order model (a PO line orders something).
    for content, control in ((make_850("ZERO1", lines=["PO1*1*0*EA*6.5*PE*UP*028877454078"], control="000000401"),
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
