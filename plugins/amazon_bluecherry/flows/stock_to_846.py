"""stock_to_846 business rules: BlueCherry's available-to-sell becomes what Amazon may order.

Pure functions over pandas frames (100,000 SKUs x 3 warehouses take a fraction of a second):

- publishable (ATS) = on hand - allocated - on hold, never negative; incoming stock only
  when the setting says so; only the warehouses that serve Amazon;
- a buffer is held back by the most specific rule of the policy (the SKU by its UPC, then
  its style, then the default); a percent is rounded up to whole units (err on the side of
  not overselling); published = ATS - buffer, never negative;
- a snapshot is refused when it is older than the maximum age or than BlueCherry's last
  batch cycle (it misses that cycle's allocations);
- SKUs are tiered by Amazon's recent orders and each tier is published at its own cadence;
  a fall in stock goes out with the next feed whatever the SKU's tier, because publishing
  too much is what turns into cancelled POs and chargebacks;
- a delta feed carries what changed since the last feed; a full feed carries everything,
  and a SKU no longer in the snapshot at zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from amazon_bluecherry.flows.mappings import ItemMaster

RULE_SKU, RULE_STYLE, RULE_DEFAULT = "sku", "style", "default"
FAST, SLOW = "fast", "slow"
TIERS = (FAST, SLOW)
FULL, DELTA = "full", "delta"
# A snapshot stamped this far ahead of our clock is a clock problem, not a fresh snapshot.
CLOCK_SKEW = timedelta(minutes=5)

PLAN_COLUMNS = ("sku", "style", "upc", "warehouse", "on_hand", "allocated", "on_hold", "incoming",
                "ats", "buffer", "published", "rule", "rule_detail")


# --- the buffer policy --------------------------------------------------------------------


@dataclass(frozen=True)
class BufferRule:
    """Units held back from what could be sold: a fixed number, or a percent rounded up."""

    units: int | None = None
    percent: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.units is None) == (self.percent is None):
            raise ValueError("a buffer rule is either units or percent")
        if self.units is not None and self.units < 0:
            raise ValueError(f"units must not be negative, got {self.units}")
        if self.percent is not None and not Decimal(0) <= self.percent <= Decimal(100):
            raise ValueError(f"percent must be between 0 and 100, got {self.percent}")

    @property
    def detail(self) -> str:
        return f"{self.units} units" if self.units is not None else f"{self.percent.normalize():f}%"

    def held_back(self, ats: int) -> int:
        """Units this rule holds back from ``ats`` (never more than ``ats``)."""
        if ats <= 0:
            return 0
        if self.units is not None:
            return min(self.units, ats)
        numerator, denominator = self.percent.as_integer_ratio()
        return min(-(-ats * numerator // (100 * denominator)), ats)  # ceiling, in integers


@dataclass(frozen=True)
class BufferPolicy:
    """``include/mappings/inventory_buffer.yaml``: ``default``, ``styles`` by style, ``skus`` by UPC."""

    default: BufferRule
    styles: Mapping[str, BufferRule] = field(default_factory=dict)
    skus: Mapping[str, BufferRule] = field(default_factory=dict)
    source: str = ""

    def rule_for(self, *, upc: str | None, style: str) -> tuple[str, BufferRule]:
        """(which rule, the rule): the SKU's own, else its style's, else the default."""
        if upc and upc in self.skus:
            return RULE_SKU, self.skus[upc]
        if style in self.styles:
            return RULE_STYLE, self.styles[style]
        return RULE_DEFAULT, self.default


# --- what may be published ----------------------------------------------------------------


def plan_stock(frame: pd.DataFrame, policy: BufferPolicy, *, include_incoming: bool = False,
               warehouses: Iterable[str] | None = None) -> pd.DataFrame:
    """ATS, buffer held back, published quantity and the rule, per SKU and warehouse.

    ``frame``: one row per SKU and warehouse with ``sku, style, upc, warehouse, on_hand,
    allocated, on_hold, incoming`` (an :class:`~amazon_bluecherry.bluecherry.ats.AtsTable`'s
    frame). Returns :data:`PLAN_COLUMNS`, rows in the input's order; ``buffer`` is what was
    actually held back, so ``published = ats - buffer`` on every row.
    """
    import numpy as np
    import pandas as pd

    rows = frame if warehouses is None else frame[frame["warehouse"].isin(list(warehouses))]
    counts = {column: rows[column].to_numpy(dtype="int64") for column in ("on_hand", "allocated", "on_hold",
                                                                            "incoming")}
    ats = counts["on_hand"] - counts["allocated"] - counts["on_hold"]
    if include_incoming:
        ats = ats + counts["incoming"]
    ats = np.maximum(ats, 0)

    upc = rows["upc"].fillna("").astype(str).to_numpy()
    style = rows["style"].astype(str).to_numpy()
    rule = np.full(len(rows), RULE_DEFAULT, dtype=object)
    by_style = pd.Series(style).isin(list(policy.styles)).to_numpy()
    by_sku = pd.Series(upc).isin(list(policy.skus)).to_numpy()
    rule[by_style] = RULE_STYLE
    rule[by_sku] = RULE_SKU

    # Each distinct rule becomes (units or -1, percent numerator, denominator, detail).
    def encode(chosen: BufferRule) -> tuple[int, int, int, str]:
        if chosen.units is not None:
            return chosen.units, 0, 1, chosen.detail
        numerator, denominator = chosen.percent.as_integer_ratio()
        return -1, numerator, denominator, chosen.detail

    default = encode(policy.default)
    encoded = [default] * len(rows)
    if by_style.any():
        styles = {key: encode(value) for key, value in policy.styles.items()}
        for index in by_style.nonzero()[0]:
            encoded[index] = styles[style[index]]
    if by_sku.any():
        skus = {key: encode(value) for key, value in policy.skus.items()}
        for index in by_sku.nonzero()[0]:
            encoded[index] = skus[upc[index]]
    units = np.fromiter((item[0] for item in encoded), dtype="int64", count=len(rows))
    numerator = np.fromiter((item[1] for item in encoded), dtype="int64", count=len(rows))
    denominator = np.fromiter((item[2] for item in encoded), dtype="int64", count=len(rows))
    by_percent = -(-ats * numerator // (100 * denominator))  # ceiling in integers: never under-buffer
    buffer = np.minimum(np.where(units >= 0, units, by_percent), ats)
    detail = [item[3] for item in encoded]
    if include_incoming:
        detail = [text + " (incoming counted)" for text in detail]

    return pd.DataFrame({
        "sku": rows["sku"].to_numpy(), "style": style, "upc": rows["upc"].to_numpy(),
        "warehouse": rows["warehouse"].to_numpy(),
        **counts, "ats": ats, "buffer": buffer, "published": ats - buffer, "rule": rule, "rule_detail": detail,
    })


def refusal_reason(snapshot_at: datetime, *, now: datetime, max_age: timedelta,
                   last_cycle_at: datetime | None = None) -> str | None:
    """Why a snapshot must not be published, or None when it is fresh enough."""
    age = now - snapshot_at
    taken = snapshot_at.isoformat(timespec="seconds")
    if age > max_age:
        return (f"the snapshot taken {taken} is {age.total_seconds() / 60:.0f} minutes old, more than the "
                f"maximum {max_age.total_seconds() / 60:g} minutes")
    if age < -CLOCK_SKEW:
        return (f"the snapshot taken {taken} is {-age.total_seconds() / 60:.0f} minutes in the future; "
                "check BlueCherry's clock")
    if last_cycle_at is not None and snapshot_at < last_cycle_at:
        return (f"the snapshot taken {taken} is older than BlueCherry's last batch cycle "
                f"({last_cycle_at.isoformat(timespec='seconds')}): it misses that cycle's allocations")
    return None


# --- velocity and cadence -----------------------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    """How often each tier is published, and how often a full feed goes out."""

    fast: timedelta
    slow: timedelta
    full_every: timedelta

    @classmethod
    def from_settings(cls, settings) -> Cadence:
        if settings.inventory_peak_season:
            fast, slow = settings.inventory_peak_fast_minutes, settings.inventory_peak_slow_minutes
        else:
            fast, slow = settings.inventory_fast_minutes, settings.inventory_slow_minutes
        return cls(fast=timedelta(minutes=fast), slow=timedelta(minutes=slow),
                   full_every=timedelta(hours=settings.inventory_full_feed_hours))

    def interval(self, tier: str) -> timedelta:
        return self.fast if tier == FAST else self.slow


def velocity_tiers(ordered_eaches: Mapping[str, int], *, fast_mover_units: int) -> dict[str, str]:
    """SKU -> ``fast`` for SKUs Amazon ordered at least ``fast_mover_units`` of (others are slow)."""
    return {sku: FAST for sku, eaches in ordered_eaches.items() if eaches >= fast_mover_units}


def due_tiers(last_published: Mapping[str, datetime | None], *, now: datetime, cadence: Cadence,
              grace: timedelta = timedelta(minutes=2)) -> set[str]:
    """Tiers whose interval has passed since they were last published (never published: due).

    ``grace``: runs start a little late or early; a tier published 14 min 10 s ago with a
    15-minute interval is due on the run that starts now, not 5 minutes later.
    """
    return {tier for tier in TIERS
            if last_published.get(tier) is None or now - last_published[tier] >= cadence.interval(tier) - grace}


def full_feed_due(last_full_at: datetime | None, *, now: datetime, cadence: Cadence,
                  grace: timedelta = timedelta(minutes=2)) -> bool:
    return last_full_at is None or now - last_full_at >= cadence.full_every - grace


# --- product ids as Amazon knows them -----------------------------------------------------


def amazon_ids(items: ItemMaster, qualifiers: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """SKU -> (qualifier, product id, ASIN or "") from items.csv, by the order of ``qualifiers``."""
    preference = {qualifier: rank for rank, qualifier in enumerate(qualifiers)}
    chosen: dict[str, tuple[int, str, str, str]] = {}
    for (qualifier, product_id), row in items.by_product_id.items():
        rank = preference.get(qualifier)
        if rank is None:
            continue
        current = chosen.get(row.sku)
        if current is None or rank < current[0]:
            chosen[row.sku] = (rank, qualifier, product_id, row.asin or "")
    return {sku: (qualifier, product_id, asin) for sku, (_, qualifier, product_id, asin) in chosen.items()}


# --- which lines a feed carries ------------------------------------------------------------

PREVIOUS_COLUMNS = ("sku", "warehouse", "published", "ats", "rule_detail", "product_id_qualifier", "product_id",
                    "asin", "style", "upc")


def select_lines(planned: pd.DataFrame, previous: pd.DataFrame, *, kind: str, due: set[str]) -> pd.DataFrame:
    """The lines of the next feed.

    ``planned``: :func:`plan_stock` rows of SKUs Amazon knows, with ``tier``,
    ``product_id_qualifier``, ``product_id`` and ``asin``. ``previous``: what Amazon was last
    told per SKU and warehouse (:data:`PREVIOUS_COLUMNS`; empty before the first feed).

    A full feed carries every planned row, and at zero every key Amazon was told about
    that is no longer planned. A delta carries falls (and vanished keys) always, and new
    or risen quantities of the ``due`` tiers only. Each line keeps the previous
    ``published``, ``ats`` and ``rule_detail`` (``previous_*``, NaN when new) for the
    quality gate.
    """
    import pandas as pd

    before = previous.rename(columns={"published": "previous_published", "ats": "previous_ats",
                                      "rule_detail": "previous_rule_detail"})
    merged = planned.merge(before[["sku", "warehouse", "previous_published", "previous_ats",
                                   "previous_rule_detail"]], on=["sku", "warehouse"], how="left")
    keys = pd.MultiIndex.from_frame(planned[["sku", "warehouse"]])
    gone = before[~pd.MultiIndex.from_frame(before[["sku", "warehouse"]]).isin(keys)
                  & (before["previous_published"] > 0)] if len(before) else before
    vanished = pd.DataFrame({
        "sku": gone["sku"], "style": gone["style"], "upc": gone["upc"], "warehouse": gone["warehouse"],
        "on_hand": 0, "allocated": 0, "on_hold": 0, "incoming": 0, "ats": 0, "buffer": 0, "published": 0,
        "rule": RULE_DEFAULT, "rule_detail": "not in the snapshot", "tier": SLOW,
        "product_id_qualifier": gone["product_id_qualifier"], "product_id": gone["product_id"],
        "asin": gone["asin"], "previous_published": gone["previous_published"],
        "previous_ats": gone["previous_ats"], "previous_rule_detail": gone["previous_rule_detail"],
    })
    if kind == FULL:
        chosen = merged
    else:
        new = merged["previous_published"].isna()
        changed = merged["published"] != merged["previous_published"]
        fell = changed & (merged["published"] < merged["previous_published"])
        chosen = merged[fell | ((new | changed) & merged["tier"].isin(list(due)))]
    lines = pd.concat([chosen, vanished], ignore_index=True) if len(vanished) else chosen.reset_index(drop=True)
    return lines


def check_frame(lines: pd.DataFrame, *, known_ids: set[tuple[str, str]], now: datetime, snapshot_at: datetime,
                include_incoming: bool) -> pd.DataFrame:
    """Rows for the feed's quality gate (``quality.suites.inventory_feed_suite``).

    Recomputed from BlueCherry's figures, not copied from the planner, so the gate can
    catch a planner bug: ``physical_ats`` (what could ship), ``known_to_amazon`` (the
    product id is in items.csv now), the snapshot's age, and the swing since the last feed
    with the BlueCherry movement that would explain it.
    """
    import numpy as np
    import pandas as pd

    physical = lines["on_hand"] - lines["allocated"] - lines["on_hold"]
    if include_incoming:
        physical = physical + lines["incoming"]
    previous = lines["previous_published"]
    known_before = previous.notna()
    change = (lines["published"] - previous.fillna(lines["published"])).abs()
    movement = (physical.clip(lower=0) - lines["previous_ats"].fillna(0)).abs()
    rule_changed = known_before & (lines["rule_detail"] != lines["previous_rule_detail"])
    return pd.DataFrame({
        "sku": lines["sku"], "warehouse": lines["warehouse"], "product_id": lines["product_id"],
        "published": lines["published"].astype("int64"),
        "physical_ats": physical.clip(lower=0).astype("int64"),
        "known_to_amazon": [(q, p) in known_ids for q, p in zip(lines["product_id_qualifier"].tolist(),
                                                                 lines["product_id"].tolist(), strict=True)],
        "snapshot_age_minutes": np.full(len(lines), (now - snapshot_at).total_seconds() / 60),
        "swing_share": (change / previous.fillna(0).clip(lower=1)).astype("float64"),
        # A swing is explained when BlueCherry's own figures moved as much, or its buffer rule changed.
        "unexplained": (known_before & ~rule_changed & (change > movement)).astype(bool),
    })
