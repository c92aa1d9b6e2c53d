"""The Dagster asset of the follow-up reports: a thin wrapper over `write_all_reports`."""

import dagster as dg

from pipelines.core.months import month_text
from pipelines.core.settings import load_settings
from pipelines.reports.content import latest_month
from pipelines.reports.provenance import published_is_synthetic
from pipelines.reports.writer import write_all_reports


@dg.asset(
    deps=[dg.AssetKey("published_tables")],
    group_name="reports",
    kinds={"python", "html", "pdf"},
    description="KAIRA's follow-up reports (Finnish HTML and PDF) for the region and each municipality, "
    "for the latest published month, read from published.duckdb only.",
)
def followup_reports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    month = month_text(latest_month(settings.published_path))
    synthetic = published_is_synthetic(settings.published_path, settings.landing_dir)
    files = write_all_reports(
        settings.published_path,
        settings.reports_dir,
        month=month,
        lang="fi",
        synthetic=synthetic,
        suppression_threshold=settings.suppression_threshold,
        chromium=settings.chromium,
    )
    folder = settings.reports_dir / month
    context.log.info(f"wrote {len(files)} reports for {month} into {folder}")
    return dg.MaterializeResult(
        metadata={
            "report_folder": dg.MetadataValue.path(str(folder)),
            "month": month,
            "reports": len(files),
            "areas": ", ".join(written.area_code for written in files),
            "files": dg.MetadataValue.json(
                [str(path) for written in files for path in (written.html, written.pdf) if path is not None]
            ),
            "synthetic": synthetic,
        }
    )
