"""850 traffic: valid per our validator, the requested defects really in the files, seeded."""

from __future__ import annotations

from collections import Counter

import pytest

from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.edi.reader import read_interchanges
from amazon_bluecherry.edi.validator import validate_file
from sandbox.amazon.clock import SimulatedClock
from sandbox.amazon.mailbox import FolderMailbox
from sandbox.amazon.orders import DEFECT_KINDS
from sandbox.amazon.partner import AmazonSimulator, PartnerIdentity


@pytest.fixture
def batch(simulator):
    """40 POs, half of them with a defect, with their files' bytes."""
    sent = simulator.send_purchase_orders(40, defects_rate=0.5, seed=42)
    files = {s.file_name: (simulator.mailbox.download_dir / s.file_name).read_bytes() for s in sent}
    return sent, files


def test_every_file_is_accepted_except_the_deliberately_broken_ones(batch):
    sent, files = batch
    broken = {s.file_name for s in sent if any(d.kind == "invalid_file" for d in s.defects)}
    assert broken, "the batch should contain broken files"
    for name, content in files.items():
        statuses = [verdict.status for _, _, verdict in validate_file(content).sets()]
        assert statuses == (["R"] if name in broken else ["A"]), name


def test_defects_come_at_the_requested_rate_and_are_recorded(simulator, batch):
    sent, _ = batch
    defective = [s for s in sent if s.defects]
    assert len(defective) == 20
    assert all(len(s.defects) == 1 for s in defective)
    assert {d.kind for s in sent for d in s.defects} == set(DEFECT_KINDS)
    assert sorted(d.purchase_order for d in simulator.state.defects) == sorted(
        s.purchase_order for s in defective
    )


def test_each_recorded_defect_is_really_in_its_file(simulator, catalogue, batch):
    sent, files = batch
    first_seen: dict[str, bytes] = {}
    for s in sent:
        content = files[s.file_name]
        for defect in s.defects:
            assert defect.file_name == s.file_name
            if defect.kind == "invalid_file":
                interchange = read_interchanges(content)[0]
                transaction = interchange.groups[0].transactions[0]
                se = transaction.segments[-1]
                assert se[0] == "SE" and int(se[1]) == len(transaction.segments) + 1
                continue
            po = parse_file(content)[0]
            line = next(line for line in po.lines if line.line_number == defect.line_number)
            if defect.kind == "unknown_upc":
                assert line.product_id_qualifier == "UP"
                assert catalogue.lookup("UP", line.product_id) is None
            elif defect.kind == "wrong_case_pack":
                item = catalogue.lookup(line.product_id_qualifier, line.product_id)
                assert line.unit == "CA" and line.case_pack_qty != item.case_pack_qty
            elif defect.kind == "price_off":
                item = catalogue.lookup(line.product_id_qualifier, line.product_id)
                assert line.unit_price != item.unit_cost
                assert defect.actual == f"PO104 {line.unit_price}"
            elif defect.kind == "resent_po":
                earlier = parse_file(first_seen[po.purchase_order_number])[0]
                old = next(o for o in earlier.lines if o.line_number == line.line_number)
                assert old.quantity != line.quantity
                assert [(o.product_ids, o.unit_price) for o in earlier.lines] == [
                    (n.product_ids, n.unit_price) for n in po.lines
                ]
        if not any(d.kind == "invalid_file" for d in s.defects):
            first_seen.setdefault(parse_file(content)[0].purchase_order_number, content)


def test_lines_without_a_defect_match_the_catalogue(catalogue, batch):
    sent, files = batch
    checked = 0
    for s in sent:
        if s.defects:
            continue
        for line in parse_file(files[s.file_name])[0].lines:
            item = catalogue.lookup(line.product_id_qualifier, line.product_id)
            assert item is not None
            assert line.unit_price == item.unit_cost and line.price_basis == "PE"
            if line.unit == "CA":
                assert line.case_pack_qty == item.case_pack_qty
            checked += 1
    assert checked > 20


def test_the_mix_covers_amazons_codes(simulator):
    sent = simulator.send_purchase_orders(120, seed=3)
    documents = [s.document for s in sent]
    assert {d.order_type for d in documents} >= {"NE", "RO", "NP"}
    assert {d.ship_to.id_qualifier for d in documents} == {"15", "92"}
    assert {d.backorder_allowed for d in documents} == {True, False}
    lines = [line for d in documents for line in d.lines]
    assert {line.unit for line in lines} == {"EA", "CA"}
    assert {line.product_id_qualifier for line in lines} == {"UP", "EN", "BP"}
    assert all(d.vendor_code == "VENDR" for d in documents)
    assert all(d.order_date < d.delivery_window_start <= d.delivery_window_end for d in documents)
    names = [s.file_name for s in sent]
    assert len(set(names)) == len(names) and all(n.startswith("VENDR850.I") for n in names)
    assert len({d.purchase_order_number for d in documents}) == len(documents)


def test_same_seed_same_files(tmp_path, catalogue, start):
    def run(folder):
        sim = AmazonSimulator(
            folder / "state",
            FolderMailbox(folder / "mailbox"),
            SimulatedClock(start),
            catalogue,
            identity=PartnerIdentity(),
        )
        sent = sim.send_purchase_orders(15, defects_rate=0.4, seed=9)
        return [(s.file_name, (sim.mailbox.download_dir / s.file_name).read_bytes()) for s in sent]

    first, second = run(tmp_path / "a"), run(tmp_path / "b")
    assert first == second
    other = AmazonSimulator(
        tmp_path / "c" / "state",
        FolderMailbox(tmp_path / "c" / "mailbox"),
        SimulatedClock(start),
        catalogue,
        identity=PartnerIdentity(),
    )
    third = other.send_purchase_orders(15, defects_rate=0.4, seed=10)
    assert [c for _, c in first] != [(other.mailbox.download_dir / s.file_name).read_bytes() for s in third]


def test_control_numbers_and_names_never_repeat_across_runs(tmp_path, catalogue, start):
    clock = SimulatedClock(start)
    sim = AmazonSimulator(
        tmp_path / "state", tmp_path / "mailbox", clock, catalogue, identity=PartnerIdentity()
    )
    sim.send_purchase_orders(3, seed=1)
    again = AmazonSimulator(
        tmp_path / "state", tmp_path / "mailbox", None, catalogue, identity=PartnerIdentity()
    )
    assert again.clock.now() == start  # the saved simulated clock
    again.send_purchase_orders(3, seed=1)
    controls = Counter()
    for path in sorted(again.mailbox.download_dir.iterdir()):
        interchange = read_interchanges(path.read_bytes())[0]
        controls[interchange.control_number] += 1
    assert len(controls) == 6 and set(controls.values()) == {1}


def test_defect_arguments_are_checked(simulator):
    with pytest.raises(ValueError, match="between 0 and 1"):
        simulator.send_purchase_orders(2, defects_rate=1.5)
    with pytest.raises(ValueError, match="unknown defect kinds"):
        simulator.send_purchase_orders(2, defects_rate=0.5, defect_kinds=["typo"])
    sent = simulator.send_purchase_orders(10, defects_rate=1.0, defect_kinds=["price_off"])
    assert [d.kind for s in sent for d in s.defects] == ["price_off"] * 10
