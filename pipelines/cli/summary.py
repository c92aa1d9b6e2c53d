"""The summary `kaira run` prints at the end, read back from the runs' records in the
instance: the months and rows each file loaded or rejected (the ingest assets' metadata),
the checks passed and failed (ASSET_CHECK_EVALUATION events, whose metadata also links
the run's validation report), what was published, and where the validation report, the
follow-up reports (with their warning, such as no PDFs for want of a browser), the log and
any alert are."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.automation.history import INGEST_ASSET_KEYS
from pipelines.core.months import describe_months
from pipelines.core.source_registry import REGISTER_SOURCES


@dataclass
class RunSummary:
    run_ids: list[str] = field(default_factory=list)
    # (month, source) -> the ingest metadata of that file: file, rows_loaded, rows_rejected, ...
    deliveries: dict[tuple[str, str], dict] = field(default_factory=dict)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)  # "ERROR fct_x check_name"
    published_path: str | None = None
    published_months: str | None = None
    validation_reports: list[str] = field(default_factory=list)
    report_folder: str | None = None  # from the followup_reports asset, when the run wrote them
    report_count: int | None = None
    report_month: str | None = None
    report_warning: str | None = None  # e.g. no PDFs for want of a browser

    @property
    def months(self) -> list[str]:
        return sorted({month for month, _ in self.deliveries})

    def rows(self, key: str) -> int:
        return sum(int(delivery.get(key) or 0) for delivery in self.deliveries.values())


def summarize_runs(instance, run_ids: list[str]) -> RunSummary:
    import dagster as dg

    from pipelines.validation.run_record import REPORT_METADATA_KEY

    summary = RunSummary(run_ids=list(run_ids))
    ingest_keys = {key: source for source, key in INGEST_ASSET_KEYS.items()}
    for run_id in run_ids:
        for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records:
            materialization = record.event_log_entry.asset_materialization
            if materialization is None:
                continue
            metadata = materialization.metadata
            source = ingest_keys.get(materialization.asset_key)
            if source and "months" in metadata:
                for month, delivery in (metadata["months"].value or {}).items():
                    summary.deliveries[(month, source)] = delivery
            if materialization.asset_key == dg.AssetKey("published_tables"):
                summary.published_path = _text(metadata.get("published"))
                summary.published_months = _text(metadata.get("months"))
            if materialization.asset_key == dg.AssetKey("followup_reports"):
                summary.report_folder = _text(metadata.get("report_folder"))
                count = _text(metadata.get("reports"))
                summary.report_count = int(count) if count and count.isdigit() else None
                summary.report_month = _text(metadata.get("month"))
                summary.report_warning = _text(metadata.get("warning"))
        for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
            evaluation = record.event_log_entry.dagster_event.event_specific_data
            # The validation stage links the run's report from its check results, also
            # when a blocking check stopped the run before publishing.
            report = _text(evaluation.metadata.get(REPORT_METADATA_KEY))
            if report and report not in summary.validation_reports:
                summary.validation_reports.append(report)
            if evaluation.passed:
                summary.checks_passed += 1
            else:
                summary.checks_failed.append(
                    f"{evaluation.severity.value} {evaluation.asset_key.to_user_string()} {evaluation.check_name}"
                )
    return summary


def _text(value) -> str | None:
    if value is None:
        return None
    inner = getattr(value, "value", value)
    return str(inner)


def format_summary(
    summary: RunSummary,
    *,
    elapsed: float,
    reports_dir: Path,
    log_path: Path,
    success: bool,
    alert_path: Path | None = None,
    notes: list[str] | None = None,
) -> str:
    from pipelines.cli.progress import plural, seconds

    months = summary.months
    head = "done" if success else "FAILED"
    span = f", {plural(len(months), 'month')} {describe_months(months)}" if months else ""
    lines = [f"kaira: {head} in {seconds(elapsed)}{span}"]
    lines += notes or []  # what `kaira run` found before running: refused files, waiting months, ...
    if months:
        lines.append("  loaded (rows loaded / rejected):")
        for month in months:
            cells = []
            for source in REGISTER_SOURCES:
                delivery = summary.deliveries.get((month, source.name))
                cells.append(
                    f"{source.display_name} {delivery.get('rows_loaded', 0)} / {delivery.get('rows_rejected', 0)}"
                    if delivery
                    else f"{source.display_name} -"
                )
            lines.append(f"    {month}  " + "   ".join(cells))
        rejected = summary.rows("rows_rejected")
        lines.append(
            f"    total {summary.rows('rows_loaded')} rows loaded, {rejected} rejected"
            + (" (rejected lines and reasons: table raw.rejects in the working warehouse)" if rejected else "")
        )
    # A warning check that did not pass stopped nothing: it is counted and listed apart from
    # the blocking ones, so that "failed" in the summary always means something was held back.
    warnings = [name for name in summary.checks_failed if name.startswith("WARN ")]
    failed = [name for name in summary.checks_failed if not name.startswith("WARN ")]
    lines.append(f"  checks: {summary.checks_passed} passed, {len(failed)} failed"
                 + (f", {plural(len(warnings), 'warning')}" if warnings else ""))
    listed = [f"failed: {name}" for name in failed] + [f"warning: {name.removeprefix('WARN ')}" for name in warnings]
    lines += [f"    {line}" for line in listed[:20]]
    if len(listed) > 20:
        lines.append(f"    ... and {len(listed) - 20} more")
    for report in summary.validation_reports:
        lines.append(f"  validation report: {report}")
    if summary.published_path:
        months_published = _short_months(summary.published_months)
        lines.append(f"  published: {summary.published_path} (+ Parquet beside it), months {months_published}")
    else:
        lines.append("  published: nothing new (the last published version is unchanged)")
    if summary.report_folder:
        count = f"{summary.report_count} reports" if summary.report_count is not None else "reports"
        lines.append(f"  follow-up reports: {summary.report_folder} ({count} for {summary.report_month or '-'})")
        if summary.report_warning:
            lines.append(f"    warning: {summary.report_warning}")
    else:
        lines.append(f"  follow-up reports: {reports_dir} (none written by this run)")
    lines.append(f"  Dagster runs: {', '.join(summary.run_ids) or '-'}")
    lines.append(f"  log: {log_path}")
    if alert_path:
        lines.append(f"  alert: {alert_path}")
    return "\n".join(lines)


def _short_months(text: str | None) -> str:
    """'2008-01-01 00:00:00 .. 2008-02-01 00:00:00 (2)' -> '2008-01 .. 2008-02 (2)'."""
    return re.sub(r"(\d{4}-\d{2})-01( 00:00:00)?", r"\1", text or "-")
