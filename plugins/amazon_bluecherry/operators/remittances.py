"""Operators of remit_to_journals: thin wrappers over ``flows.remit_to_journals_steps``.

Each builds its hooks and reads its settings in ``execute`` (nothing happens at DAG-parse
time) and passes ids, never payloads, through XCom: the store holds the data.

Which 820s a run works on is the run's window (``operators.window``, ``flows.replay``): a
backfill run takes only the 820s that had arrived by the end of its interval; the
``received_before`` Param (or the same key in a run's conf) sets that instant by hand; a manual run takes
everything pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseOperator

from amazon_bluecherry.operators.xcom import id_list


def received_before(context: Any) -> datetime | None:
    """The instant after which this run leaves 820s alone (None: take everything pending)."""
    from amazon_bluecherry.operators.window import run_window

    return run_window(context).received_before


def _run_key(context: Any) -> str:
    return str(context.get("run_id", "")) if context else ""


class _BlueCherryStep(BaseOperator):
    """Base: a step that reads the store and talks to BlueCherry.

    :param bluecherry_conn_id: the BlueCherry connection (default ``AB_BLUECHERRY_CONN_ID``)
    :param database_url: integration store (default from settings)
    """

    template_fields: Sequence[str] = ("bluecherry_conn_id",)

    def __init__(self, *, bluecherry_conn_id: str | None = None, database_url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bluecherry_conn_id = bluecherry_conn_id
        self.database_url = database_url

    def run_step(self, context: Any, step):
        """``step(store, gateway, settings)`` with the hook closed afterwards."""
        from amazon_bluecherry.hooks.bluecherry import BlueCherryHook
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        settings = get_settings()
        hook = BlueCherryHook(bluecherry_conn_id=self.bluecherry_conn_id or settings.bluecherry_conn_id)
        try:
            return step(get_store(self.database_url), hook.get_conn(), settings)
        finally:
            hook.close()


class ClassifyRemittancesOperator(_BlueCherryStep):
    """Classify every 820 the intake accepted, match its invoices against BlueCherry's AR and
    plan its posting; unrecognised lines and unmatched payments raise exceptions and alerts.

    Returns the ids of the remittances classified.

    :param mappings_dir: folder with remit_codes.csv (default ``AB_MAPPINGS_DIR``)
    """

    template_fields: Sequence[str] = ("bluecherry_conn_id", "mappings_dir")

    def __init__(self, *, mappings_dir: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mappings_dir = mappings_dir

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.exceptions import open_exception
        from amazon_bluecherry.flows.mappings import MappingError
        from amazon_bluecherry.flows.remit_codes import load_remit_codes
        from amazon_bluecherry.flows.remit_to_journals_steps import classify_received

        def step(store, gateway, settings):
            try:
                codes = load_remit_codes(self.mappings_dir or settings.mappings_dir)
            except MappingError as exc:
                open_exception(store, "mapping_file_invalid", f"{exc}; no remittance was classified",
                               dedupe_key=f"mapping_file_invalid:{exc}"[:200])
                raise
            return classify_received(store, gateway, codes, settings, now=datetime.now(UTC),
                                     received_before=received_before(context))

        result = self.run_step(context, step)
        self.log.info("820s: %s classified, %s unreadable, %s unrecognised line(s), %s unmatched payment(s)",
                      len(result.remittance_ids), len(result.unreadable), result.unrecognised_lines,
                      result.unmatched_lines)
        return result.remittance_ids


class CheckRemittancesOperator(_BlueCherryStep):
    """The Great Expectations gate before posting: every line classified or in suspense, each
    journal balanced, totals tie to the BPR amount, no trace number posted before.

    :param remittance_ids: only these (the classify task's); None checks every classified one
    """

    template_fields: Sequence[str] = ("bluecherry_conn_id", "remittance_ids")

    def __init__(self, *, remittance_ids: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.remittance_ids = remittance_ids

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.remit_to_journals_steps import gate_classified

        # Remittances classified by an earlier run that failed before its gate count too.
        result = self.run_step(context, lambda store, gateway, settings: gate_classified(
            store, gateway, settings, now=datetime.now(UTC), run_key=_run_key(context)))
        self.log.info("remittance gate: %s passed, %s blocked (task input: %s)", len(result.gated),
                      len(result.blocked), id_list(self.remittance_ids))
        return {"gated": len(result.gated), "blocked": len(result.blocked)}


class PostRemittancesOperator(_BlueCherryStep):
    """Post every gated (or half-posted) remittance to BlueCherry: its cash receipt, then one
    journal per deduction type, each once (idempotency keys from the trace number)."""

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.remit_to_journals_steps import post_gated

        result = self.run_step(context, lambda store, gateway, settings: post_gated(store, gateway, settings))
        self.log.info("remittances: %s posted, %s incomplete, %s write(s)", len(result.posted),
                      len(result.incomplete), result.writes)
        return {"posted": len(result.posted), "incomplete": len(result.incomplete), "writes": result.writes}


def reconciliation_window(context: Any, now: datetime) -> tuple[str, datetime]:
    """(period, as of) a run reconciles.

    Scheduled and backfill runs: the month their interval starts in, as of the interval's
    end (at most the month's end), so the run that crosses into a new month writes the
    final report of the month before, and a backfill of a past month reproduces it. A
    manual run: this month, as of now. The Params ``period`` (and ``as_of``): by hand.
    """
    from datetime import timedelta

    from amazon_bluecherry.flows.reconciliation import month_bounds, period_of

    dag_run = context.get("dag_run") if context else None
    params = (context.get("params") if context else None) or {}

    def month_end(period: str) -> datetime:
        last = month_bounds(period)[1]
        return datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)

    if params.get("period"):
        period = str(params["period"])
        as_of = datetime.fromisoformat(str(params["as_of"])) if params.get("as_of") else min(month_end(period), now)
        return period, as_of
    run_type = getattr(dag_run, "run_type", None)
    run_type = getattr(run_type, "value", run_type)
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if run_type in ("scheduled", "backfill") and start is not None and end is not None:
        period = period_of(start)
        return period, min(end, month_end(period))
    return period_of(now), now


def reconciliation_params() -> dict:
    """The Params of a reconciliation by hand (empty: the month the run covers)."""
    from airflow.sdk import Param

    return {
        "period": Param(
            None, type=["null", "string"], pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", title="Reconcile month",
            description="Reconcile this month (YYYY-MM) instead of the one the run covers.",
        ),
        "as_of": Param(
            None, type=["null", "string"], format="date-time", title="Reconcile as of",
            description="With 'Reconcile month': the instant (UTC) the report is as of; empty: the month's end "
                        "or now, whichever is earlier.",
        ),
    }


class ReconcileMonthOperator(_BlueCherryStep):
    """Month-end reconciliation of Amazon's remittances against BlueCherry's ledger and AR:
    HTML (with charts) and CSV under ``AB_REPORTS_DIR``; a difference is an exception."""

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.reconciliation import run_reconciliation

        period, as_of = reconciliation_window(context, datetime.now(UTC))
        result = self.run_step(context, lambda store, gateway, settings: run_reconciliation(
            store, gateway, settings, period=period, as_of=as_of, run_key=_run_key(context)))
        reconciliation = result.reconciliation
        self.log.info("reconciliation %s as of %s: %s; %s%% of remittance dollars matched and posted; report %s",
                      period, as_of.isoformat(), "ties out" if reconciliation.ties_out else "DOES NOT TIE OUT",
                      reconciliation.summary["automatically_matched_and_posted_percent"], result.paths["html"])
        return {"period": period, "ties_out": reconciliation.ties_out, "run_id": result.run_id}


class _StoreStep(BaseOperator):
    """Base: a step over the store only.

    :param database_url: integration store (default from settings)
    """

    def __init__(self, *, database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.database_url = database_url


class DisputePacketsOperator(_StoreStep):
    """Open a dispute claim for every shortage claim and chargeback posted, and assemble its
    packet (PDF + raw documents + labels, one folder per claim) under ``AB_DISPUTE_PACKETS_DIR``."""

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.dispute_packets import assemble_packets
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        result = assemble_packets(get_store(self.database_url), get_settings(), now=datetime.now(UTC))
        self.log.info("dispute claims: %s opened, %s packet(s) assembled, %s incomplete, %s failed",
                      len(result.opened), len(result.assembled), len(result.incomplete), len(result.failed))
        if result.failed:  # the others are written; fail so that the retry tries these again
            raise RuntimeError(f"{len(result.failed)} dispute packet(s) could not be written: "
                               + "; ".join(f"claim {k}: {v}" for k, v in list(result.failed.items())[:5]))
        return {"opened": len(result.opened), "assembled": len(result.assembled), "incomplete": len(result.incomplete)}


class WatchDisputeWindowsOperator(_StoreStep):
    """Amazon's dispute window per open claim: alerts at day 20 and 25 (``AB_DISPUTE_ALERT_DAYS``)."""

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.dispute_packets import watch_dispute_windows
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        result = watch_dispute_windows(get_store(self.database_url), get_settings(), now=datetime.now(UTC))
        self.log.info("dispute windows: %s alerted, %s expired", len(result["alerted"]), len(result["expired"]))
        return {key: len(value) for key, value in result.items()}
