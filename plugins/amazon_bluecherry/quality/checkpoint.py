"""A small runner around Great Expectations 1.x: one checkpoint over one DataFrame.

Our own code rather than airflow-provider-great-expectations (it pins an old GX and a
structlog that conflicts with Airflow 3.3). GX is imported lazily: it takes seconds.

Each expectation's unexpected rows are reported by their key columns (for example
``customer_po``), so a failed check blocks only the documents it names.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckFailure:
    expectation: str
    description: str
    keys: list[dict[str, Any]]        # key-column values of each unexpected row


@dataclass
class CheckpointOutcome:
    suite: str
    success: bool
    evaluated: int
    rows: int
    failures: list[CheckFailure] = field(default_factory=list)

    def failed_keys(self, column: str) -> set:
        return {key[column] for failure in self.failures for key in failure.keys if column in key}

    def to_dict(self) -> dict:
        return {
            "suite": self.suite, "success": self.success, "evaluated": self.evaluated, "rows": self.rows,
            "failures": [
                {"expectation": f.expectation, "description": f.description, "keys": f.keys[:200],
                 "unexpected_count": len(f.keys)}
                for f in self.failures
            ],
        }


def run_checkpoint(suite_name: str, dataframe, expectations: list, *, key_columns: list[str]) -> CheckpointOutcome:
    """Validate ``dataframe`` against ``expectations`` (GX expectation objects).

    An empty frame passes: there is nothing to block.
    """
    if dataframe.empty:
        return CheckpointOutcome(suite=suite_name, success=True, evaluated=len(expectations), rows=0)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas(f"{suite_name}_source")
        .add_dataframe_asset(f"{suite_name}_rows")
        .add_batch_definition_whole_dataframe("batch")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
    for expectation in expectations:
        suite.add_expectation(expectation)
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}_validation", data=batch_definition, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite_name}_checkpoint",
            validation_definitions=[validation],
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": key_columns},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": dataframe.reset_index(drop=True)})
    outcome = CheckpointOutcome(suite=suite_name, success=bool(result.success), evaluated=0, rows=len(dataframe))
    for validation_result in result.run_results.values():
        for expectation_result in validation_result.results:
            outcome.evaluated += 1
            if expectation_result.success:
                continue
            config = expectation_result.expectation_config
            keys = [
                {column: _plain(row.get(column)) for column in key_columns}
                for row in (expectation_result.result.get("unexpected_index_list") or [])
            ]
            if not keys and expectation_result.exception_info.get("raised_exception"):
                # The expectation itself broke: block everything rather than pass silently.
                keys = [{column: _plain(value) for column, value in zip(key_columns, row, strict=True)}
                        for row in dataframe[key_columns].itertuples(index=False)]
            outcome.failures.append(CheckFailure(expectation=config.type,
                                                 description=config.description or config.type, keys=keys))
    log.info("checkpoint %s: %s rows, %s expectations, %s failed", suite_name, outcome.rows,
             outcome.evaluated, len(outcome.failures))
    return outcome


def _plain(value):
    """numpy scalars and timestamps -> JSON-friendly Python values."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
