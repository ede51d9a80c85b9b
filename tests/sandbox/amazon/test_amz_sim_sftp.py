"""The simulator over the real loopback SFTP mailbox: the vendor's side goes through SFTP."""

from __future__ import annotations

import io

import pytest

from amazon_bluecherry.edi.ack import parse_997
from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers, Party
from sandbox.amazon.partner import AmazonSimulator, PartnerIdentity
from sandbox.amazon.sftp_server import mailbox_folders, start_mailbox_server


@pytest.fixture
def server(tmp_path):
    running = start_mailbox_server(tmp_path / "mailbox")
    try:
        yield running
    finally:
        running.stop()


def test_the_layout_helper_matches_the_server(server):
    assert mailbox_folders(server.root_dir) == (server.download_dir, server.upload_dir)


def test_an_850_picked_up_and_an_855_answered_over_sftp(tmp_path, server, clock, catalogue, vendor_side):
    simulator = AmazonSimulator(tmp_path / "state", server, clock, catalogue, identity=PartnerIdentity())
    sent = simulator.send_purchase_orders(2, seed=8)

    with server.open_sftp("download") as sftp:
        names = sorted(sftp.listdir("/download"))
        assert names == sorted(s.file_name for s in sent)
        purchase_orders = []
        for name in names:
            with sftp.open(f"/download/{name}") as handle:
                purchase_orders += parse_file(handle.read())
            sftp.remove(f"/download/{name}")
    assert [po.purchase_order_number for po in purchase_orders] == [s.purchase_order for s in sent]

    acknowledgement = vendor_side(simulator).acknowledgement(sent[0].purchase_order)
    content = write_documents(
        [acknowledgement],
        sender=Party("VENDOR"),
        receiver=Party("AMAZON"),
        control_numbers=InMemoryControlNumbers(),
        usage="T",
        when=clock.now(),
    )
    with server.open_sftp("upload") as sftp:
        sftp.putfo(io.BytesIO(content), "/upload/VENDR855.000000001.part")
        assert simulator.process_uploads().files == []  # half an upload is never read
        sftp.rename("/upload/VENDR855.000000001.part", "/upload/VENDR855.000000001")

    clock.advance(hours=1)
    result = simulator.process_uploads()
    assert result.files == ["VENDR855.000000001"] and result.findings == []
    assert simulator.purchase_order(sent[0].purchase_order).first_acknowledged_at == clock.now()
    assert server.remote_files("upload") == []  # Amazon took it

    with server.open_sftp("download") as sftp:
        (name,) = sftp.listdir("/download")
        with sftp.open(f"/download/{name}") as handle:
            acks = parse_997(handle.read())
    assert name == result.acks_sent[0]
    assert [(a.functional_id, a.status) for a in acks] == [("PR", "A")]
    assert server.opened_for_reading(name)
