"""The vendor's loading dock and the road to Amazon: what physically travels, in the sandbox.

BlueCherry (the emulator) knows what the warehouse packed in each carton; the integration's
store holds the GS1-128 label printed for each carton with the ASN (ZPL and PDF). A truck
is those cartons wearing those labels, unless a test or the demo says the warehouse got
something wrong: a carton short-packed, a carton without its label, a stale label of
another carton. :meth:`sandbox.amazon.partner.AmazonSimulator.deliver` takes the truck,
and Amazon's receiving scans the labels.

When to ship: Amazon wants the goods inside the PO's delivery window (DTM*064..063), so
the warehouse ships the carrier's transit time before the window opens, not the day the
PO arrives. :func:`on_the_day` moves this process's clock to that day (time-machine, as
Airflow's own tests do), so every party run here agrees on the date: our DAGs, the
BlueCherry emulator, and the Amazon simulator on its wall clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sandbox.amazon.partner import ArrivingCarton

__all__ = ["departure_for", "load_truck", "on_the_day", "printed_labels"]

DEPARTURE_TIME = dt.time(14, 0)  # the afternoon truck [A]


def departure_for(window_start: dt.date, *, transit_days: int, now: dt.datetime) -> dt.datetime:
    """When the carrier collects so that the truck arrives as the PO's window opens (UTC).

    The ship day is ``transit_days`` before the window starts, or today when that is past
    (the goods then arrive later in the window).
    """
    now = now.astimezone(dt.UTC)
    day = window_start - dt.timedelta(days=transit_days)
    if day <= now.date():
        return now + dt.timedelta(minutes=1)
    return dt.datetime.combine(day, DEPARTURE_TIME, tzinfo=dt.UTC)


@contextmanager
def on_the_day(moment: dt.datetime) -> Iterator:
    """Run the block with this process's clock at ``moment`` (and ticking on from there).

    Yields time-machine's traveller: ``traveller.move_to(later)`` moves on (never back).
    """
    import time_machine

    with time_machine.travel(moment, tick=True) as traveller:
        yield traveller


def printed_labels(store, shipment_id: str) -> dict[str, tuple[str | None, bytes | None]]:
    """SSCC -> (ZPL, PDF) of every carton label the integration stored with the shipment's ASN."""
    from amazon_bluecherry.store.fulfilment import dispute_documents

    packet = dispute_documents(store, shipment_id=shipment_id)
    if packet is None or not packet.cartons:
        raise LookupError(f"no labels stored for shipment {shipment_id}: was its ASN built?")
    return {carton.sscc: (carton.label_zpl, carton.label_pdf) for carton in packet.cartons}


def load_truck(
    shipment,
    store,
    *,
    form: str = "pdf",
    short_packed: dict[int, int] | None = None,
    unlabelled: Iterable[int] = (),
    relabelled: dict[int, str] | None = None,
) -> list[ArrivingCarton]:
    """The cartons of a BlueCherry ``shipment`` as they leave the dock, with their printed labels.

    :param form: which stored rendering is stuck on the cartons: ``pdf`` or ``zpl``.
    :param short_packed: carton number -> units missing from it (taken off its first item).
    :param unlabelled: carton numbers that leave without a label.
    :param relabelled: carton number -> the SSCC on the (stale) label it wears instead.
    """
    if form not in ("pdf", "zpl"):
        raise ValueError(f"label form is pdf or zpl, not {form!r}")
    labels = printed_labels(store, shipment.shipment_id)
    short_packed, relabelled, unlabelled = short_packed or {}, relabelled or {}, set(unlabelled)
    truck = []
    for carton in shipment.cartons:
        contents: dict[str, int] = {}
        for item in carton.items:
            if not item.upc:
                raise ValueError(f"carton {carton.sscc}: SKU {item.sku} has no UPC on its units")
            contents[item.upc] = contents.get(item.upc, 0) + item.qty_eaches
        missing = short_packed.get(carton.carton_number, 0)
        if missing:
            first = carton.items[0].upc
            contents[first] -= missing
            if contents[first] <= 0:
                del contents[first]
        zpl_label, pdf_label = labels[carton.sscc]
        label: bytes | str | None = pdf_label if form == "pdf" else zpl_label
        if carton.carton_number in relabelled:
            # The label printer's stale job: the same layout with another carton's SSCC.
            label = zpl_label.replace(carton.sscc, relabelled[carton.carton_number])
        if carton.carton_number in unlabelled:
            label = None
        truck.append(ArrivingCarton(label=label, contents=contents))
    return truck
