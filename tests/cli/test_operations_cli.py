"""``amazon-bluecherry outbound resend`` (cli/operations.py)."""

from __future__ import annotations

from amazon_bluecherry.cli import main


def test_outbound_resend_puts_a_file_back_in_the_queue_with_an_event(cli_store, capsys):
    import getpass

    from amazon_bluecherry.store.models import OutboundDocument

    raw_id, _ = cli_store.save_raw_document(b"ISA...855", partner="AMAZON", transport="sftp", direction="out")
    with cli_store.session() as db:
        outbound = OutboundDocument(partner="AMAZON", doc_type="855", raw_document_id=raw_id, isa13="000000042",
                                    gs06="42", st02_list=["0001"], file_name="VENDR855.000000042",
                                    status="unacknowledged")
        db.add(outbound)
        db.flush()
        outbound_id = outbound.id
    assert main(["outbound", "resend", str(outbound_id), "--note", "Amazon never got it (case 123)"]) == 0
    assert "VENDR855.000000042 (855, was unacknowledged) will be sent again" in capsys.readouterr().out
    with cli_store.session() as db:
        assert db.get(OutboundDocument, outbound_id).status == "pending"
    (event,) = cli_store.events(kind="outbound.resend_requested")
    assert event.payload == {"file_name": "VENDR855.000000042", "was": "unacknowledged",
                             "by": f"cli:{getpass.getuser()}", "note": "Amazon never got it (case 123)"}
    assert main(["outbound", "resend", str(outbound_id)]) == 1, "already waiting: refused"
    with cli_store.session() as db:
        db.get(OutboundDocument, outbound_id).status = "rejected"
    assert main(["outbound", "resend", str(outbound_id)]) == 1
    assert "rebuild the document" in capsys.readouterr().err
