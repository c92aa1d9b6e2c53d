"""The Dagster asset of the follow-up reports: a thin wrapper over `write_followup_reports`."""

import dagster as dg

from pipelines.reports.writer import ReportBatch, write_followup_reports
from pipelines.resources import SettingsResource


@dg.asset(
    deps=[dg.AssetKey("published_tables")],
    group_name="reports",
    kinds={"python", "html", "pdf"},
    description="KAIRA's follow-up reports (Finnish HTML, and PDF where Chromium is installed) for the "
    "region and each municipality, for the latest published month, read from published.duckdb only.",
)
def followup_reports(context: dg.AssetExecutionContext, settings: SettingsResource) -> dg.MaterializeResult:
    batch = write_followup_reports(settings.settings)
    if batch.warning:
        context.log.warning(batch.warning)
    context.log.info(f"wrote {len(batch.files)} reports for {batch.month} into {batch.folder}")
    return dg.MaterializeResult(metadata=report_metadata(batch))


def report_metadata(batch: ReportBatch) -> dict:
    """The materialization's metadata; `kaira run`'s summary reads report_folder, reports,
    month and warning back (pipelines/cli/summary.py)."""
    metadata = {
        "report_folder": dg.MetadataValue.path(str(batch.folder)),
        "month": batch.month,
        "reports": len(batch.files),
        "pdfs": batch.pdf_count,
        "areas": ", ".join(written.area_code for written in batch.files),
        "files": dg.MetadataValue.json(
            [str(path) for written in batch.files for path in (written.html, written.pdf) if path is not None]
        ),
        "synthetic": batch.synthetic,
    }
    if batch.warning:
        metadata["warning"] = batch.warning
    return metadata
