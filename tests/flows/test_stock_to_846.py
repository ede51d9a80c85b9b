"""stock_to_846 rules without Airflow or a database: ATS, buffers, staleness, cadence, feed lines, the gate's columns."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from amazon_bluecherry.flows.mappings import load_items
from amazon_bluecherry.flows.stock_inputs import InputFileError, load_buffer_policy
from amazon_bluecherry.flows.stock_to_846 import (
    DELTA,
    FAST,
    FULL,
    PREVIOUS_COLUMNS,
    SLOW,
    BufferPolicy,
    BufferRule,
    Cadence,
    amazon_ids,
    check_frame,
    due_tiers,
    full_feed_due,
    plan_stock,
    refusal_reason,
    select_lines,
    velocity_tiers,
)

NOW = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)


def stock(*rows) -> pd.DataFrame:
    """Rows of (sku, style, upc, warehouse, on_hand, allocated, on_hold, incoming)."""
    columns = ["sku", "style", "upc", "warehouse", "on_hand", "allocated", "on_hold", "incoming"]
    return pd.DataFrame([dict(zip(columns, row, strict=True)) for row in rows], columns=columns)


POLICY = BufferPolicy(default=BufferRule(percent=Decimal(10)), styles={"TEE": BufferRule(units=5)},
                      skus={"028877454078": BufferRule(units=0)})


# --- buffers --------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "ats", "held"), [
    (BufferRule(percent=Decimal(10)), 11, 2),     # 1.1 rounds up: never under-buffer
    (BufferRule(percent=Decimal(10)), 10, 1),
    (BufferRule(percent=Decimal(10)), 1, 1),
    (BufferRule(percent=Decimal(10)), 0, 0),
    (BufferRule(percent=Decimal("12.5")), 9, 2),  # 1.125
    (BufferRule(percent=Decimal(0)), 50, 0),
    (BufferRule(percent=Decimal(100)), 50, 50),
    (BufferRule(units=5), 3, 3),                  # never more than there is
    (BufferRule(units=5), 30, 5),
])
def test_buffer_held_back(rule, ats, held):
    assert rule.held_back(ats) == held


def test_a_rule_is_units_or_percent_within_bounds():
    for bad in ({}, {"units": 1, "percent": Decimal(1)}, {"units": -1}, {"percent": Decimal(101)}):
        with pytest.raises(ValueError):
            BufferRule(**bad)


def test_publishable_is_on_hand_minus_allocated_minus_holds_never_negative_incoming_excluded():
    planned = plan_stock(stock(
        ("TEE-BLK-M", "TEE", "028877454078", "NJ01", 100, 10, 5, 50),
        ("TEE-BLK-L", "TEE", "028877454085", "NJ01", 4, 3, 6, 0),     # holds beyond stock
        ("TEE-BLK-L", "TEE", "028877454085", "CA01", -2, 0, 0, 0),    # negative on hand (BlueCherry's truth)
    ), POLICY)
    assert list(planned["ats"]) == [85, 0, 0]
    assert (planned["published"] >= 0).all() and (planned["published"] == planned["ats"] - planned["buffer"]).all()
    with_incoming = plan_stock(stock(("TEE-BLK-M", "TEE", "028877454078", "NJ01", 100, 10, 5, 50)), POLICY,
                               include_incoming=True)
    assert list(with_incoming["ats"]) == [135]
    assert list(with_incoming["rule_detail"]) == ["0 units (incoming counted)"]


def test_the_most_specific_rule_wins():
    planned = plan_stock(stock(
        ("TEE-BLK-M", "TEE", "028877454078", "NJ01", 40, 0, 0, 0),    # its own UPC rule beats its style
        ("TEE-BLK-L", "TEE", "028877454085", "NJ01", 40, 0, 0, 0),    # style
        ("HOOD-RED-XL", "HOOD", None, "NJ01", 40, 0, 0, 0),           # default; no UPC
    ), POLICY)
    assert list(zip(planned["rule"], planned["buffer"], planned["published"], planned["rule_detail"], strict=True)) \
        == [("sku", 0, 40, "0 units"), ("style", 5, 35, "5 units"), ("default", 4, 36, "10%")]


def test_only_the_warehouses_that_serve_amazon():
    rows = stock(("A-1-M", "A", "028877454078", "NJ01", 5, 0, 0, 0), ("A-1-M", "A", "028877454078", "TX09", 5, 0, 0, 0))
    assert list(plan_stock(rows, POLICY, warehouses=["NJ01"])["warehouse"]) == ["NJ01"]


def test_the_vectorised_planner_agrees_with_the_rule_one_row_at_a_time():
    rng = random.Random(7)
    policy = BufferPolicy(default=BufferRule(percent=Decimal("7.5")),
                          styles={f"S{n}": BufferRule(units=n) for n in range(0, 20, 3)}
                          | {"S4": BufferRule(percent=Decimal(33))},
                          skus={f"0000000{n:04d}{0}": BufferRule(units=n % 4) for n in range(50)})
    rows = []
    for n in range(2000):
        on_hand = rng.randint(-5, 300)
        rows.append((f"SKU{n}", f"S{rng.randint(0, 25)}", f"0000000{rng.randint(0, 80):04d}0",
                     rng.choice(["NJ01", "CA01"]), on_hand, rng.randint(0, 100), rng.randint(0, 20), rng.randint(0, 50)))
    planned = plan_stock(stock(*rows), policy, include_incoming=True)
    for row, result in zip(rows, planned.itertuples(), strict=True):
        _, style, upc, _, on_hand, allocated, on_hold, incoming = row
        ats = max(0, on_hand - allocated - on_hold + incoming)
        which, rule = policy.rule_for(upc=upc, style=style)
        assert (result.ats, result.buffer, result.rule) == (ats, rule.held_back(ats), which)


# --- the policy file -----------------------------------------------------------------------


def write(tmp_path, text: str):
    path = tmp_path / "inventory_buffer.yaml"
    path.write_text(text)
    return path


def test_the_shipped_policy_file_loads_and_keeps_upc_leading_zeros(tmp_path):
    from amazon_bluecherry.settings import get_settings

    shipped = load_buffer_policy(get_settings().effective_inventory_buffer_file)
    assert shipped.default == BufferRule(percent=Decimal(10)) and shipped.styles and shipped.skus
    policy = load_buffer_policy(write(tmp_path, 'default: {units: 2}\nskus:\n  012345678905: {percent: 5}\n'))
    assert policy.skus == {"012345678905": BufferRule(percent=Decimal(5))}
    assert load_buffer_policy(write(tmp_path, "default: {percent: 10}\nstyles:\n")).styles == {}


@pytest.mark.parametrize(("text", "message"), [
    ("styles: {A: {units: 1}}\n", "line 1: no default rule"),
    ("default: {percent: 10}\nextra: 1\n", "line 2, column 1: unknown section 'extra'"),
    ("default: {percent: 10, units: 2}\n", "line 1, column 10: default needs exactly one of units or percent"),
    ("default: {units: 2.5}\n", "line 1, column 18: default.units must be a whole number"),
    ("default: {units: lots}\n", "line 1, column 18: default.units: 'lots' is not a number"),
    ("default: {percent: 10}\nstyles:\n  A: {units: 1}\n  A: {units: 2}\n",
     "line 4, column 3: styles: 'A' appears twice (first on line 3)"),
    ("default: {percent: 10}\nskus:\n  '614141100018': {units: 0}\n",
     "line 3, column 3: skus key '614141100018' is not a UPC/EAN with a valid check digit"),
    ("default: {percent: 10\n", "not valid YAML"),
    ("- 1\n- 2\n", "line 1: expected a mapping"),
])
def test_a_bad_policy_names_file_line_and_column(tmp_path, text, message):
    with pytest.raises(InputFileError) as caught:
        load_buffer_policy(write(tmp_path, text))
    assert message in str(caught.value) and "inventory_buffer.yaml" in str(caught.value)


# --- staleness ------------------------------------------------------------------------------


def test_a_snapshot_is_refused_when_too_old_from_the_future_or_behind_the_last_cycle():
    hour = timedelta(hours=1)
    assert refusal_reason(NOW - timedelta(minutes=59), now=NOW, max_age=hour) is None
    assert "61 minutes old, more than the maximum 60 minutes" in refusal_reason(
        NOW - timedelta(minutes=61), now=NOW, max_age=hour)
    assert "in the future" in refusal_reason(NOW + timedelta(minutes=10), now=NOW, max_age=hour)
    assert refusal_reason(NOW + timedelta(minutes=2), now=NOW, max_age=hour) is None  # clock skew
    taken = NOW - timedelta(minutes=10)
    assert "older than BlueCherry's last batch cycle" in refusal_reason(
        taken, now=NOW, max_age=hour, last_cycle_at=taken + timedelta(minutes=5))
    assert refusal_reason(taken, now=NOW, max_age=hour, last_cycle_at=taken) is None


# --- velocity and cadence ---------------------------------------------------------------------


class _Settings:
    inventory_peak_season = False
    inventory_fast_minutes, inventory_slow_minutes = 15, 60
    inventory_peak_fast_minutes, inventory_peak_slow_minutes = 5, 30
    inventory_full_feed_hours = 24


def test_peak_season_tightens_both_cadences():
    normal = Cadence.from_settings(_Settings())
    peak_settings = _Settings()
    peak_settings.inventory_peak_season = True
    peak = Cadence.from_settings(peak_settings)
    assert (normal.fast, normal.slow) == (timedelta(minutes=15), timedelta(minutes=60))
    assert (peak.fast, peak.slow) == (timedelta(minutes=5), timedelta(minutes=30))


def test_tiers_by_recent_orders_and_what_is_due():
    assert velocity_tiers({"A": 30, "B": 23, "C": 24}, fast_mover_units=24) == {"A": FAST, "C": FAST}
    cadence = Cadence(fast=timedelta(minutes=15), slow=timedelta(minutes=60), full_every=timedelta(hours=24))
    assert due_tiers({}, now=NOW, cadence=cadence) == {FAST, SLOW}
    last = {FAST: NOW - timedelta(minutes=14, seconds=10), SLOW: NOW - timedelta(minutes=20)}
    assert due_tiers(last, now=NOW, cadence=cadence) == {FAST}       # within the grace of a late run
    last = {FAST: NOW - timedelta(minutes=5), SLOW: NOW - timedelta(minutes=61)}
    assert due_tiers(last, now=NOW, cadence=cadence) == {SLOW}
    assert full_feed_due(None, now=NOW, cadence=cadence)
    assert not full_feed_due(NOW - timedelta(hours=23), now=NOW, cadence=cadence)
    assert full_feed_due(NOW - timedelta(hours=24), now=NOW, cadence=cadence)


def test_amazon_ids_by_preference_with_the_asin(mappings_dir):
    items = load_items(mappings_dir / "items.csv")
    ids = amazon_ids(items, ["UP", "EN", "VN"])
    assert ids["TEE100-BLK-M"] == ("UP", "028877454078", "B00TEST001")
    assert ids["TEE100-WHT-S"] == ("EN", "4006381333931", "")
    assert ids["HOOD200-RED-XL"] == ("VN", "HOOD-RED-XL", "B00TEST004")
    assert "HOOD200-RED-XL" not in amazon_ids(items, ["UP"])


# --- feed lines ------------------------------------------------------------------------------


def planned_rows(*rows) -> pd.DataFrame:
    """Rows of (sku, warehouse, ats, published, tier)."""
    frame = pd.DataFrame([{
        "sku": sku, "style": sku.split("-")[0], "upc": None, "warehouse": warehouse, "on_hand": ats, "allocated": 0,
        "on_hold": 0, "incoming": 0, "ats": ats, "buffer": ats - published, "published": published,
        "rule": "default", "rule_detail": "10%", "tier": tier, "product_id_qualifier": "UP",
        "product_id": f"ID-{sku}", "asin": ""} for sku, warehouse, ats, published, tier in rows])
    return frame


def previous_rows(*rows) -> pd.DataFrame:
    """Rows of (sku, warehouse, ats, published)."""
    return pd.DataFrame([{"sku": sku, "warehouse": warehouse, "published": published, "ats": ats,
                          "rule_detail": "10%", "product_id_qualifier": "UP", "product_id": f"ID-{sku}", "asin": "",
                          "style": sku.split("-")[0], "upc": None} for sku, warehouse, ats, published in rows],
                        columns=list(PREVIOUS_COLUMNS))


def keys(lines) -> list[tuple]:
    return sorted(zip(lines["sku"], lines["warehouse"], lines["published"], strict=True))


def test_a_full_feed_carries_everything_and_zeroes_what_vanished():
    planned = planned_rows(("A-1", "NJ01", 10, 9, FAST), ("B-1", "NJ01", 5, 4, SLOW))
    previous = previous_rows(("A-1", "NJ01", 10, 9), ("GONE-1", "NJ01", 7, 6), ("ZERO-1", "NJ01", 0, 0))
    lines = select_lines(planned, previous, kind=FULL, due={FAST})
    assert keys(lines) == [("A-1", "NJ01", 9), ("B-1", "NJ01", 4), ("GONE-1", "NJ01", 0)]
    gone = lines[lines["sku"] == "GONE-1"].iloc[0]
    assert (gone["previous_published"], gone["rule_detail"], gone["product_id"]) == (6, "not in the snapshot",
                                                                                      "ID-GONE-1")


def test_a_delta_carries_falls_always_and_rises_only_for_due_tiers():
    planned = planned_rows(
        ("FAST-UP", "NJ01", 20, 18, FAST), ("SLOW-UP", "NJ01", 20, 18, SLOW), ("SLOW-DOWN", "NJ01", 2, 1, SLOW),
        ("SAME", "NJ01", 10, 9, FAST), ("NEW-FAST", "NJ01", 3, 2, FAST), ("NEW-SLOW", "NJ01", 3, 2, SLOW))
    previous = previous_rows(("FAST-UP", "NJ01", 10, 9), ("SLOW-UP", "NJ01", 10, 9), ("SLOW-DOWN", "NJ01", 10, 9),
                             ("SAME", "NJ01", 10, 9), ("GONE", "NJ01", 5, 4))
    lines = select_lines(planned, previous, kind=DELTA, due={FAST})
    assert keys(lines) == [("FAST-UP", "NJ01", 18), ("GONE", "NJ01", 0), ("NEW-FAST", "NJ01", 2),
                           ("SLOW-DOWN", "NJ01", 1)]
    both = select_lines(planned, previous, kind=DELTA, due={FAST, SLOW})
    assert len(both) == 6 and "SAME" not in set(both["sku"])
    # Once Amazon has everything, the same snapshot gives an empty delta.
    told = previous_rows(*[(r.sku, r.warehouse, r.ats, r.published) for r in planned.itertuples()])
    assert select_lines(planned, told, kind=DELTA, due={FAST, SLOW}).empty


def test_the_gate_columns_recompute_from_bluecherry_figures():
    lines = planned_rows(("A-1", "NJ01", 100, 90, FAST), ("B-1", "NJ01", 10, 9, FAST), ("C-1", "NJ01", 10, 9, FAST),
                         ("D-1", "NJ01", 40, 36, FAST))
    lines["previous_published"] = [10.0, 9.0, 30.0, float("nan")]
    lines["previous_ats"] = [100.0, 10.0, 33.0, float("nan")]
    lines["previous_rule_detail"] = ["10%", "10%", "5 units", None]
    lines.loc[0, "published"] = 90                   # 10 -> 90 with BlueCherry's figures unmoved: unexplained
    frame = check_frame(lines, known_ids={("UP", "ID-A-1"), ("UP", "ID-B-1"), ("UP", "ID-D-1")}, now=NOW,
                        snapshot_at=NOW - timedelta(minutes=12), include_incoming=False)
    assert list(frame["unexplained"]) == [True, False, False, False]   # C: the rule changed; D: new
    assert list(frame["known_to_amazon"]) == [True, True, False, True]
    assert frame["swing_share"].iloc[0] == 8.0 and frame["snapshot_age_minutes"].iloc[0] == 12
    assert list(frame["physical_ats"]) == [100, 10, 10, 40]
