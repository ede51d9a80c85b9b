"""Operators of the order path (po_to_so, so_to_poa): thin wrappers over ``flows``.

Each builds its hooks and reads its settings in ``execute`` (nothing happens at DAG-parse
time) and passes ids, never payloads, through XCom: the store holds the data.

Which documents a run works on (``flows.replay``): a current run takes everything pending;
a run for a past interval (a backfill) or with ``received_before`` (a replay) takes only
what had arrived by then, never picks up from Amazon's mailbox, and answers (997, 855) only
those documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseOperator

from amazon_bluecherry.operators.heap import bulk_step
from amazon_bluecherry.operators.window import run_window
from amazon_bluecherry.operators.xcom import id_list, quality_gate_counts


def report_quality_gate(operator: BaseOperator, context: Any, store, quality_result_id: int | None) -> dict:
    """Log what the GX gate blocked (and push it as XCom ``quality_gate``); returns the counts."""
    gate = quality_gate_counts(store, quality_result_id)
    if gate.get("failed_expectations"):
        operator.log.warning("GX gate %s blocked %s row(s) of %s (%s of %s expectations failed): %s",
                             gate["suite"], gate["blocked_rows"], gate["rows"], gate["failed_expectations"],
                             gate["expectations"], ", ".join(gate["blocked"]))
    elif gate["checked"]:
        operator.log.info("GX gate %s: %s rows, %s expectations, nothing blocked", gate["suite"], gate["rows"],
                          gate["expectations"])
    context["ti"].xcom_push(key="quality_gate", value=gate)
    return gate


def _run_key(context: Any) -> str:
    return str(context.get("run_id", "")) if context else ""


class ProcessInboundOperator(BaseOperator):
    """Validate picked-up X12 files, record every set, stage a 997 for every group.

    Pushes ``ack_outbound_ids`` (every 997 or TA1 waiting to be sent, the new answers to
    byte-identical re-sends included) and returns the ids of
    accepted 850 transactions.

    :param raw_document_ids: ids from the pickup task; documents still pending from
        earlier runs are processed too
    :param database_url: integration store (default from settings)
    """

    template_fields: Sequence[str] = ("raw_document_ids",)

    def __init__(self, *, raw_document_ids: Any = None, database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.raw_document_ids = raw_document_ids
        self.database_url = database_url

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.intake import pending_arrivals, process_inbound, reacknowledge
        from amazon_bluecherry.flows.outbound import pending_outbound_ids
        from amazon_bluecherry.flows.replay import pending_raw_documents_in, still_pending
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        store, settings = get_store(self.database_url), get_settings()
        window = run_window(context)
        self.log.info("%s", window.describe())
        ids = set(pending_raw_documents_in(store, window))
        if not window.replay:
            ids |= set(id_list(self.raw_document_ids))
        purchase_orders: list[int] = []
        acknowledgements: list[int] = []
        with bulk_step():
            for raw_document_id in sorted(ids):
                result = process_inbound(store, raw_document_id, settings)
                purchase_orders += result.accepted.get("850", [])
                acknowledgements.append(result.ack_outbound_document_id)
                self.log.info("raw document %s: %s set(s) accepted, %s rejected", raw_document_id,
                              sum(len(v) for v in result.accepted.values()), len(result.rejected))
        # Byte-identical re-sends that arrived in the window are answered again.
        for arrival_id in pending_arrivals(store, arrived_before=window.received_before):
            acknowledgements.append(reacknowledge(store, arrival_id, settings))
        # A current run also sends what a failed upload left behind; a replay only its own answers.
        ack_ids = still_pending(store, acknowledgements) if window.replay else sorted(
            pending_outbound_ids(store, doc_type="997") + pending_outbound_ids(store, doc_type="TA1"))
        context["ti"].xcom_push(key="ack_outbound_ids", value=ack_ids)
        return purchase_orders


class TranslatePurchaseOrdersOperator(BaseOperator):
    """Translate received 850s into BlueCherry sales-order drafts (the GX gate checks them next).

    :param mappings_dir: folder with items.csv and ship_to.csv (default ``AB_MAPPINGS_DIR``)
    """

    template_fields: Sequence[str] = ("mappings_dir",)

    def __init__(self, *, mappings_dir: str | None = None, database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mappings_dir = mappings_dir
        self.database_url = database_url

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.exceptions import open_exception
        from amazon_bluecherry.flows.mappings import MappingError, load_mappings
        from amazon_bluecherry.flows.po_to_so_steps import translate_received
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        store, settings = get_store(self.database_url), get_settings()
        try:
            mappings = load_mappings(self.mappings_dir or settings.mappings_dir)
        except MappingError as exc:
            open_exception(store, "mapping_file_invalid", f"{exc}; no PO was translated",
                           dedupe_key=f"mapping_file_invalid:{exc}"[:200])
            raise
        with bulk_step():
            result = translate_received(
                store, mappings, _translation_policy(settings), now=datetime.now(UTC),
                window_hours=settings.poa_window_hours,
                transaction_ids=_received_before_cutoff(store, context, statuses=("received",)),
            )
        self.log.info("translated %s, held %s, all lines rejected %s, superseded %s, exceptions %s",
                      len(result.translated), len(result.held), len(result.acknowledge_only),
                      len(result.superseded), len(result.exception_ids))
        return result.translated


class CheckOrderLinesOperator(BaseOperator):
    """The po_to_so data-quality gate (Great Expectations), once over the batch's lines.

    POs it names are held with ``quality_check_failed``; the others go on to the load.
    Returns the ids of the POs that passed.
    """

    def __init__(self, *, database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.database_url = database_url

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.po_to_so_steps import check_translated
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        store = get_store(self.database_url)
        with bulk_step():
            result = check_translated(
                store, _translation_policy(get_settings()), now=datetime.now(UTC), run_key=_run_key(context),
                transaction_ids=_received_before_cutoff(store, context, statuses=("awaiting_check",)),
            )
        self.log.info("order-lines gate: %s passed, %s held (quality result %s)", len(result.passed),
                      len(result.held), result.quality_result_id)
        report_quality_gate(self, context, store, result.quality_result_id)
        return result.passed


def _translation_policy(settings):
    from amazon_bluecherry.flows.po_to_so import TranslationPolicy

    return TranslationPolicy(price_tolerance=settings.price_tolerance,
                             hold_on_price_mismatch=settings.hold_on_price_mismatch)


def _received_before_cutoff(store, context: Any, *, statuses) -> list[int] | None:
    """The 850s of ``statuses`` this run may touch: all (None) for a current run, else those
    whose file arrived in the run's window (``flows.replay``)."""
    from amazon_bluecherry.flows.replay import purchase_orders_in

    window = run_window(context)
    return purchase_orders_in(store, window, statuses=statuses) if window.replay else None


class LoadSalesOrdersOperator(BaseOperator):
    """Create or update BlueCherry sales orders for translated 850s (idempotent).

    :param transaction_ids: the translate task's ids; ``None`` loads every translated 850
    :param bluecherry_conn_id: the BlueCherry connection (default ``AB_BLUECHERRY_CONN_ID``)
    """

    template_fields: Sequence[str] = ("transaction_ids", "bluecherry_conn_id")

    def __init__(self, *, transaction_ids: Any = None, bluecherry_conn_id: str | None = None,
                 database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transaction_ids = transaction_ids
        self.bluecherry_conn_id = bluecherry_conn_id
        self.database_url = database_url

    def execute(self, context: Any) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from amazon_bluecherry.bluecherry.gateway import BlueCherryUnavailable
        from amazon_bluecherry.flows.po_to_so_steps import load_translated
        from amazon_bluecherry.hooks.bluecherry import BlueCherryHook
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        store = get_store(self.database_url)
        transaction_ids = None if self.transaction_ids is None else id_list(self.transaction_ids)
        if transaction_ids is None:  # a replay loads only its window's POs
            transaction_ids = _received_before_cutoff(store, context, statuses=("translated",))
        hook = BlueCherryHook(bluecherry_conn_id=self.bluecherry_conn_id or get_settings().bluecherry_conn_id)
        try:
            with bulk_step():
                result = load_translated(store, hook.get_conn(), run_key=_run_key(context),
                                         transaction_ids=transaction_ids)
        except BlueCherryUnavailable as exc:
            # Fail fast, without Airflow's retries: the failure alert says it once, and the
            # next scheduled run resumes with the POs still translated.
            raise AirflowFailException(f"{exc} Runbook: docs/runbooks/bluecherry_unavailable.md") from exc
        finally:
            hook.close()
        self.log.info("sales orders: %s loaded, %s refused", len(result.loaded), len(result.failed))
        return {"loaded": len(result.loaded), "failed": len(result.failed)}


class BuildAcknowledgementsOperator(BaseOperator):
    """Draft 855s from BlueCherry's allocations (the GX gate checks them next).

    :param bluecherry_conn_id: the BlueCherry connection (default ``AB_BLUECHERRY_CONN_ID``)
    """

    template_fields: Sequence[str] = ("bluecherry_conn_id",)

    def __init__(self, *, bluecherry_conn_id: str | None = None, database_url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bluecherry_conn_id = bluecherry_conn_id
        self.database_url = database_url

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.so_to_poa_steps import ACKNOWLEDGEABLE, build_acknowledgements
        from amazon_bluecherry.hooks.bluecherry import BlueCherryHook
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        store = get_store(self.database_url)
        hook = BlueCherryHook(bluecherry_conn_id=self.bluecherry_conn_id or get_settings().bluecherry_conn_id)
        try:
            with bulk_step():
                result = build_acknowledgements(store, hook.get_conn(), now=datetime.now(UTC),
                                                transaction_ids=_received_before_cutoff(store, context,
                                                                                        statuses=ACKNOWLEDGEABLE))
        finally:
            hook.close()
        self.log.info("855: %s drafted, %s unchanged, %s waiting for BlueCherry", len(result.drafted),
                      len(result.unchanged), len(result.waiting))
        return {"drafted": len(result.drafted), "unchanged": len(result.unchanged), "waiting": len(result.waiting)}


class CheckAcknowledgementsOperator(BaseOperator):
    """The so_to_poa data-quality gate (Great Expectations) over the drafted 855s, as they
    will leave; stages those that pass. Returns the ids of every 855 file waiting to be sent."""

    def __init__(self, *, database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.database_url = database_url

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.outbound import pending_outbound_ids
        from amazon_bluecherry.flows.replay import pending_acknowledgements_of
        from amazon_bluecherry.flows.so_to_poa_steps import ACKNOWLEDGEABLE, check_acknowledgements
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        store = get_store(self.database_url)
        purchase_orders = _received_before_cutoff(store, context, statuses=ACKNOWLEDGEABLE)
        with bulk_step():
            result = check_acknowledgements(store, get_settings(), now=datetime.now(UTC), run_key=_run_key(context),
                                            transaction_ids=purchase_orders)
        self.log.info("855 gate: %s staged, %s blocked (quality result %s)", len(result.staged),
                      len(result.blocked), result.quality_result_id)
        report_quality_gate(self, context, store, result.quality_result_id)
        if purchase_orders is not None:  # a replay: only the answers to its window's POs go out
            return pending_acknowledgements_of(store, purchase_orders)
        return pending_outbound_ids(store, doc_type="855")


class MonitorWindowsOperator(BaseOperator):
    """Amazon's 24-hour 855 window per PO and overdue 997s: exceptions and alerts."""

    def __init__(self, *, database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.database_url = database_url

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.so_to_poa_steps import monitor_windows
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        result = monitor_windows(get_store(self.database_url), get_settings(), now=datetime.now(UTC))
        summary = {"met": len(result.met), "at_risk": len(result.at_risk), "missed": len(result.missed),
                   "unacknowledged": len(result.unacknowledged)}
        self.log.info("855 windows: %s", summary)
        return summary
