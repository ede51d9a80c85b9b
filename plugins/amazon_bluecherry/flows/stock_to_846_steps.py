"""stock_to_846 steps over the store and the BlueCherry gateway (no Airflow).

    BlueCherry ATS snapshot --plan--> refused (stale or partial: exception, nothing planned)
        | nothing new (this snapshot was fed already, or nothing changed that is due)
        | planned (a full or delta feed: lines with ATS, buffer, rule, published)
    planned --check (GX, its own task)--> checked (lines that failed are dropped and named in an
        exception) | blocked (no line passed)
    checked --stage--> staged (846 X12 stored, pending upload) --upload--> sent
    sent --record--> inventory_positions: what Amazon was last told, per SKU and warehouse

The rules (buffers, staleness, cadence, which lines a feed carries, the gate's columns)
are pure functions in :mod:`amazon_bluecherry.flows.stock_to_846`; this module reads and
writes. Planning is the only step that reads BlueCherry; a re-run with the same snapshot
finds its feed and plans nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.stock_to_846 import (
    FAST,
    FULL,
    SLOW,
    TIERS,
    Cadence,
    amazon_ids,
    due_tiers,
    full_feed_due,
    plan_stock,
    refusal_reason,
    select_lines,
    velocity_tiers,
)
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store
from amazon_bluecherry.store import inventory as feeds

log = logging.getLogger(__name__)

# The 846 guide allows 10,000 LIN loops per set; a warehouse with more SKUs gets several sets.
ITEMS_PER_SET = 10_000
SUITE = "inventory_feed"


@dataclass
class PlanResult:
    feed_id: int | None = None
    kind: str | None = None
    lines: int = 0
    refused: str | None = None
    exception_ids: list[int] = field(default_factory=list)


@dataclass
class FeedCheckResult:
    feed_id: int | None = None
    passed: int = 0
    blocked: list[tuple[str, str]] = field(default_factory=list)
    quality_result_id: int | None = None
    exception_ids: list[int] = field(default_factory=list)


def served_warehouses(settings: Settings) -> list[str]:
    """The BlueCherry warehouses that serve Amazon: the setting, else those of ship_to.csv."""
    if settings.inventory_warehouses.strip():
        return [name.strip() for name in settings.inventory_warehouses.split(",") if name.strip()]
    from amazon_bluecherry.flows.mappings import load_ship_to

    directory = load_ship_to(Path(settings.mappings_dir) / "ship_to.csv")
    return sorted({row.bc_warehouse for row in directory.by_id.values()})


def qualifiers(settings: Settings) -> list[str]:
    return [q.strip() for q in settings.inventory_product_id_qualifiers.split(",") if q.strip()]


def ordered_eaches(store: Store, *, since: datetime) -> dict[str, int]:
    """SKU -> eaches Amazon ordered since ``since`` (the 850s in the store, as translated)."""
    from sqlalchemy import select

    from amazon_bluecherry.store.models import Transaction

    totals: dict[str, int] = {}
    with store.session() as db:
        for (data,) in db.execute(select(Transaction.data).where(
                Transaction.doc_type == "850", Transaction.direction == "in", Transaction.created_at >= since)):
            for line in ((data or {}).get("translation") or {}).get("lines", []):
                if line.get("style") and line.get("color") and line.get("size"):
                    sku = f"{line['style']}-{line['color']}-{line['size']}"
                    totals[sku] = totals.get(sku, 0) + int(line.get("qty_eaches") or 0)
    return totals


def _refuse(store: Store, settings: Settings, reason: str, *, now: datetime, source: str, snapshot_at=None,
            last_cycle_at=None, fingerprint: str | None = None) -> PlanResult:
    feed_id = feeds.record_refusal(store, partner=settings.partner_id, reason=reason, source=source,
                                   snapshot_at=snapshot_at, last_cycle_at=last_cycle_at, fingerprint=fingerprint)
    exception_id = open_exception(
        store, "stale_inventory_snapshot",
        f"BlueCherry's stock was not published to Amazon: {reason}. Amazon keeps the quantities of the last "
        "feed until a fresh, whole snapshot arrives.",
        business_key=f"846 feed {feed_id}",
        # One exception per refused snapshot; an export that cannot be read at all, once an hour while it lasts.
        dedupe_key=f"stale_inventory_snapshot:{fingerprint or now.strftime('%Y-%m-%dT%H')}",
        details={"feed_id": feed_id, "source": source})
    log.warning("stock_to_846 refused the snapshot: %s", reason)
    return PlanResult(feed_id=None, refused=reason, exception_ids=[exception_id])


def plan_feed(store: Store, gateway, settings: Settings, *, now: datetime) -> PlanResult:
    """Read BlueCherry's ATS, refuse a stale or partial snapshot, plan the feed that is due."""
    from amazon_bluecherry.bluecherry.gateway import GatewayError, StaleExportError, TransientGatewayError
    from amazon_bluecherry.flows.mappings import MappingError, load_items
    from amazon_bluecherry.flows.stock_inputs import load_buffer_policy

    try:
        policy = load_buffer_policy(settings.effective_inventory_buffer_file)
        items = load_items(Path(settings.mappings_dir) / "items.csv")
    except MappingError as exc:
        open_exception(store, "mapping_file_invalid", f"{exc}; no inventory feed was planned",
                       dedupe_key=f"mapping_file_invalid:{exc}"[:200])
        raise
    warehouses = served_warehouses(settings)
    source = repr(gateway)
    try:
        table = gateway.get_ats_table(warehouses=warehouses)
    except StaleExportError as exc:   # stale, partial or altered export: never published
        return _refuse(store, settings, str(exc), now=now, source=source)
    except TransientGatewayError:
        raise                         # BlueCherry down: the task retries
    except GatewayError as exc:       # an export BlueCherry wrote wrong is as unpublishable as a partial one
        return _refuse(store, settings, f"the ATS snapshot cannot be read: {exc}", now=now, source=source)
    source = table.source
    reason = refusal_reason(table.snapshot_at, now=now, max_age=timedelta(minutes=settings.inventory_max_age_minutes),
                            last_cycle_at=table.last_cycle_at)
    if reason is None and len(table) == 0:
        reason = f"the snapshot has no stock rows for the warehouses {', '.join(warehouses)}; an empty export is " \
                 "not a stock level of zero"
    if reason is not None:
        return _refuse(store, settings, reason, now=now, source=source, snapshot_at=table.snapshot_at,
                       last_cycle_at=table.last_cycle_at, fingerprint=table.fingerprint)

    existing = feeds.feed_of_snapshot(store, table.fingerprint)
    if existing is not None:
        feed_id, status = existing
        log.info("snapshot %s... was fed already (feed %s, %s): nothing new", table.fingerprint[:12], feed_id, status)
        # A feed a run left before its file was staged is taken up again; the others are done.
        return PlanResult(feed_id=feed_id if status in ("planned", "checked") else None)

    fast = velocity_tiers(ordered_eaches(store, since=now - timedelta(days=settings.inventory_velocity_days)),
                          fast_mover_units=settings.inventory_fast_mover_units)
    planned = planned_lines(table.frame, policy, amazon_ids(items, qualifiers(settings)), fast,
                            include_incoming=settings.inventory_include_incoming)
    cadence = Cadence.from_settings(settings)
    history = feeds.publication_history(store)
    kind = FULL if full_feed_due(history.last_full_at, now=now, cadence=cadence) else "delta"
    due = set(TIERS) if kind == FULL else due_tiers(history.last_by_tier, now=now, cadence=cadence)
    lines = select_lines(planned, feeds.positions_frame(store), kind=kind, due=due)
    if lines.empty:
        log.info("nothing changed that is due (%s feed, tiers due: %s)", kind, sorted(due) or "none")
        return PlanResult()
    feed_id = feeds.record_planned_feed(
        store, partner=settings.partner_id, kind=kind, tiers=sorted(due), snapshot_at=table.snapshot_at,
        last_cycle_at=table.last_cycle_at, fingerprint=table.fingerprint, source=source, lines=lines)
    log.info("feed %s planned: %s, tiers %s, %s lines from %s", feed_id, kind, sorted(due), len(lines), source)
    return PlanResult(feed_id=feed_id, kind=kind, lines=len(lines))


def planned_lines(frame, policy, ids: dict, fast: dict[str, str], *, include_incoming: bool):
    """:func:`plan_stock` rows of the SKUs Amazon knows, with their product ids and velocity tier.

    ``ids``: SKU -> (qualifier, product id, ASIN) (:func:`amazon_ids`); ``fast``: SKU -> ``fast``.
    A SKU not in items.csv is not listed on Amazon: it is left out (and counted in the log).
    """
    planned = plan_stock(frame, policy, include_incoming=include_incoming)
    known = planned["sku"].isin(list(ids))
    if not known.all():
        log.info("%s SKU/warehouse rows are not in items.csv (Amazon does not list them): not published",
                 int((~known).sum()))
        planned = planned[known].reset_index(drop=True)
    chosen = [ids[sku] for sku in planned["sku"].tolist()]
    planned["product_id_qualifier"] = [item[0] for item in chosen]
    planned["product_id"] = [item[1] for item in chosen]
    planned["asin"] = [item[2] for item in chosen]
    planned["tier"] = planned["sku"].map(fast).fillna(SLOW)
    return planned


def inventory_check_frame(lines, *, items, settings: Settings, now: datetime, snapshot_at: datetime):
    """The gate's rows for feed ``lines`` (with previous_* columns), read against items.csv now."""
    from amazon_bluecherry.flows.stock_to_846 import check_frame

    frame = check_frame(lines, known_ids=set(items.by_product_id), now=now, snapshot_at=snapshot_at,
                        include_incoming=settings.inventory_include_incoming)
    frame["unexplained_swing_share"] = frame["swing_share"].where(frame["unexplained"], 0.0)
    return frame


def check_feed(store: Store, settings: Settings, *, now: datetime, run_key: str = "",
               feed_id: int | None = None) -> FeedCheckResult:
    """The GX gate over a planned feed: lines that fail are dropped (named in an exception)."""
    from amazon_bluecherry.flows.mappings import load_items
    from amazon_bluecherry.quality.checkpoint import run_checkpoint
    from amazon_bluecherry.quality.suites import inventory_feed_suite
    from amazon_bluecherry.store.models import QualityResult

    result = FeedCheckResult(feed_id=feed_id)
    planned = feeds.planned_feed(store, feed_id)
    if planned is None:
        checked = feeds.checked_feed(store, feed_id) if feed_id is not None else None
        if checked is not None:   # gated by an earlier try of this run: passes on to staging
            result.feed_id, result.passed = checked[0].id, len(checked[1])
        return result
    feed, lines = planned
    result.feed_id = feed.id
    items = load_items(Path(settings.mappings_dir) / "items.csv")
    frame = inventory_check_frame(lines, items=items, settings=settings, now=now, snapshot_at=feed.snapshot_at)
    outcome = run_checkpoint(SUITE, frame, inventory_feed_suite(max_swing_share=settings.inventory_max_swing_share,
                                                  max_age_minutes=settings.inventory_max_age_minutes),
                             key_columns=["sku", "warehouse"])
    blocked = sorted({(key["sku"], key["warehouse"]) for failure in outcome.failures for key in failure.keys})
    with store.session() as db:
        quality = QualityResult(suite=outcome.suite, run_key=run_key or now.isoformat(), success=outcome.success,
                                evaluated=outcome.evaluated, failed=len(outcome.failures), results=outcome.to_dict())
        db.add(quality)
        db.flush()
        result.quality_result_id = quality.id
    result.blocked = blocked
    result.passed = len(lines) - len(blocked)
    reasons = "; ".join(f"{failure.description} ({len(failure.keys)} lines, e.g. "
                        f"{', '.join(k['sku'] + '@' + k['warehouse'] for k in failure.keys[:3])})"
                        for failure in outcome.failures)
    feeds.apply_gate(store, feed.id, blocked=blocked, quality_result_id=quality.id,
                     message=reasons or None)
    if blocked:
        what = "the whole feed was held" if result.passed == 0 else f"{len(blocked)} lines were held back"
        result.exception_ids.append(open_exception(
            store, "inventory_quality_check_failed",
            f"846 feed {feed.id}: {what}; Amazon keeps their last quantities. {reasons}",
            business_key=f"846 feed {feed.id}", dedupe_key=f"inventory_quality_check_failed:{feed.id}",
            details={"feed_id": feed.id, "blocked": [list(key) for key in blocked[:200]]}))
    log.info("846 gate: feed %s, %s lines pass, %s held", feed.id, result.passed, len(blocked))
    return result


def inventory_sets(lines, *, report_number: str, when: datetime, delimiters) -> list:
    """The 846 sets of one feed as the writer's ``OutboundSet``: per warehouse (N1*SF, id by us),
    at most :data:`ITEMS_PER_SET` items each; LIN with the product id Amazon knows (and the ASIN
    as BP when known), QTY*33 available, UIT*EA.

    The header comes from the engine's builder (``edi.build``); the item loops are written
    from the columns directly: 300,000 typed items would take seconds to construct.
    tests/flows/test_stock_to_846_steps.py checks the bytes equal the typed builder's.
    """
    from itertools import repeat

    from amazon_bluecherry.edi.build import BuildError, build_segments
    from amazon_bluecherry.edi.documents import (
        DateReference,
        InventoryAdvice,
        InventoryItem,
        InventoryQuantity,
        PartyIdentification,
        ProductId,
    )
    from amazon_bluecherry.edi.segments import CTT
    from amazon_bluecherry.edi.writer import OutboundSet

    specials = [c for c in (delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition) if c]
    for column in ("product_id", "asin", "warehouse"):
        values = lines[column].fillna("").astype(str).tolist()
        joined = "".join(values)
        if any(c in joined for c in specials):
            bad = next(v for v in values if any(c in v for c in specials))
            raise BuildError(f"846: {column} {bad!r} contains an X12 delimiter")
    moment = when.time().replace(microsecond=0)
    sets = []
    lin_with_asin, lin_alone, qty, uit = _item_templates(delimiters)
    for warehouse, rows in lines.groupby("warehouse", sort=True):
        # Each item loop as three segments already serialized (the writer writes a str as it is).
        columns = {"qualifier": rows["product_id_qualifier"].tolist(), "product_id": rows["product_id"].tolist(),
                   "asin": rows["asin"].fillna("").tolist(), "quantity": rows["published"].astype("int64").tolist()}
        lin = [lin_with_asin.text % with_asin if asin else lin_alone.text % alone
               for asin, with_asin, alone in zip(columns["asin"], lin_with_asin.rows(columns),
                                                 lin_alone.rows(columns), strict=True)]
        loops = [segment for loop in zip(lin, (qty.text % values for values in qty.rows(columns)),
                                         repeat(uit.text % ()), strict=False) for segment in loop]
        items = len(loops) // 3
        for part, start in enumerate(range(0, items, ITEMS_PER_SET), start=1):
            count = min(ITEMS_PER_SET, items - start)
            header = InventoryAdvice(
                report_type="DD", report_number=f"{report_number}-{warehouse}-{part}"[:30],
                report_date=when.date(), report_time=moment,
                dates=[DateReference(qualifier="007", date=when.date(), time=moment)],
                parties=[PartyIdentification(role="SF", id_qualifier="91", id_code=str(warehouse))],
                items=[InventoryItem(product_ids=[ProductId(qualifier="UP", value="0")],
                                     quantities=[InventoryQuantity(qualifier="33", quantity=0)])])
            built = build_segments(header)
            first_item = next(i for i, segment in enumerate(built) if segment[0] == "LIN")
            segments = [*built[:first_item], *loops[3 * start:3 * (start + count)],
                        CTT.write({"line_count": count})]
            sets.append(OutboundSet(set_id="846", segments=segments))
    return sets


@dataclass(frozen=True)
class _LineTemplate:
    """One segment as a %-template whose slots are columns of the feed, in the order they stand."""

    text: str
    columns: tuple[str, ...]

    def rows(self, columns: dict[str, list]):
        return zip(*(columns[name] for name in self.columns), strict=True)


_SLOT = "\x01{}\x02"


def _line_template(segment, source: dict, delimiters) -> _LineTemplate:
    """``segment`` written by its table in edi/segments.py from ``source``, whose column values are slots."""
    from amazon_bluecherry.edi.writer import serialize_segment

    text = serialize_segment(segment.write(source), delimiters).replace("%", "%%")
    slots = sorted((text.index(_SLOT.format(name)), name) for name in ("qualifier", "product_id", "asin", "quantity")
                   if _SLOT.format(name) in text)
    for _, name in slots:
        text = text.replace(_SLOT.format(name), "%s")
    return _LineTemplate(text, tuple(name for _, name in slots))


def _item_templates(delimiters) -> tuple[_LineTemplate, _LineTemplate, _LineTemplate, _LineTemplate]:
    """An 846 item loop's LIN (with and without the ASIN), QTY and UIT, written once through the
    segment tables: element positions stay in edi/segments.py, the 300,000 lines are filled in bulk.
    The same values as the typed builder writes (``edi.build``): LIN product ids, on-hand
    quantity (qualifier 33), each (unit EA)."""
    from types import SimpleNamespace as Pair

    from amazon_bluecherry.edi.segments import LIN, QTY, UIT

    product = Pair(qualifier=_SLOT.format("qualifier"), value=_SLOT.format("product_id"))
    asin = Pair(qualifier="BP", value=_SLOT.format("asin"))
    return (_line_template(LIN, {"line_number": None, "product_ids": [product, asin]}, delimiters),
            _line_template(LIN, {"line_number": None, "product_ids": [product]}, delimiters),
            _line_template(QTY, {"qualifier": "33", "quantity": _SLOT.format("quantity")}, delimiters),
            _line_template(UIT, {"unit": "EA"}, delimiters))


def write_feed(lines, *, report_number: str, when: datetime, sender, receiver, control_numbers, usage: str = "P"):
    """(X12 bytes, report numbers) of a feed's lines: one interchange (GS*IB, 004010), a set per warehouse
    part, each named by its BIA03 report number."""
    from amazon_bluecherry.edi.envelope import Delimiters
    from amazon_bluecherry.edi.writer import Party, write_interchange

    delimiters = Delimiters()
    sets = inventory_sets(lines, report_number=report_number, when=when, delimiters=delimiters)
    raw = write_interchange(sets, sender=Party(id=sender) if isinstance(sender, str) else sender,
                            receiver=Party(id=receiver) if isinstance(receiver, str) else receiver,
                            functional_id="IB", control_numbers=control_numbers, version="004010",
                            isa_version="00401", usage=usage, delimiters=delimiters, when=when, line_break=False)
    return raw, [outbound.segments[0][3] for outbound in sets]


def stage_feed(store: Store, settings: Settings, *, now: datetime, feed_id: int | None = None) -> list[int]:
    """Write the checked feed as one 846 file (pending upload); returns every pending 846 outbound id."""
    from amazon_bluecherry.flows.outbound import parties, pending_outbound_ids, stage_x12

    checked = feeds.checked_feed(store, feed_id)
    if checked is not None:
        feed, lines = checked
        us, amazon = parties(settings)
        with store.session() as db:
            raw, reports = write_feed(lines, report_number=f"INV{feed.id}", when=now, sender=us, receiver=amazon,
                                   usage=settings.usage_indicator,
                                   control_numbers=store.control_numbers(settings.partner_id, session=db))
            staged = stage_x12(store, raw, business_keys=reports, settings=settings, session=db,
                               data=[{"feed_id": feed.id}] * len(reports))
            feeds.mark_staged(feed.id, staged.outbound_document_id, session=db)
        log.info("feed %s staged as %s (%s sets)", feed.id, staged.file_name, len(reports))
    return pending_outbound_ids(store, doc_type="846")


def record_sent_feeds(store: Store, *, now: datetime) -> list[int]:
    """Feeds whose file went out become what Amazon was last told (inventory_positions)."""
    return feeds.record_sent(store, now=now)


# --- the phantom-stock check (so_to_poa, where BlueCherry's allocation is known) --------------


def overselling_risks(store: Store, sales_orders) -> list[int]:
    """For each sales-order line BlueCherry could not allocate in full, compare with what we last
    published to Amazon for that SKU in the order's warehouse: published more than BlueCherry
    could allocate means Amazon ordered phantom stock. Opens ``overselling_risk`` (once per PO
    line) naming the feed that published it; returns the exception ids."""
    short = [(order, line) for order in sales_orders for line in order.lines
             if line.sku and line.qty_ordered > line.qty_allocated + line.qty_shipped + line.qty_cancelled]
    if not short:
        return []
    published = feeds.last_published(store, {(line.sku, order.bc_warehouse) for order, line in short})
    opened = []
    for order, line in short:
        told = published.get((line.sku, order.bc_warehouse))
        could = line.qty_allocated + line.qty_shipped
        if told is None or told[0] <= could:
            continue   # Amazon ordered more than we published: not phantom stock of ours
        quantity, feed_id, published_at = told
        opened.append(open_exception(
            store, "overselling_risk",
            f"PO {order.customer_po} line {line.line_number}: Amazon ordered {line.qty_ordered} of {line.sku}, "
            f"BlueCherry could allocate {could} in {order.bc_warehouse}, but 846 feed {feed_id} told Amazon "
            f"{quantity} were available ({published_at:%Y-%m-%d %H:%M} UTC). Check the buffer and holds of this SKU.",
            business_key=order.customer_po, dedupe_key=f"overselling_risk:{order.customer_po}:{line.line_number}",
            details={"feed_id": feed_id, "sku": line.sku, "warehouse": order.bc_warehouse, "published": quantity,
                     "ordered": line.qty_ordered, "allocatable": could}))
    return opened


__all__ = ["FAST", "FeedCheckResult", "PlanResult", "check_feed", "inventory_sets", "write_feed", "overselling_risks",
           "plan_feed", "record_sent_feeds", "stage_feed"]
