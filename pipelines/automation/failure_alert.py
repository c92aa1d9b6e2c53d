"""Every failed run of the code location leaves an alert: a log line and a file in
`<warehouse>/alerts/` (alerts.py writes both; `kaira run` writes the same for its own runs)."""

from __future__ import annotations

import dagster as dg

from pipelines.automation.alerts import alert_for_run, write_alert
from pipelines.resources import SettingsResource


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every failed run of this code location leaves an alert file in <warehouse>/alerts/ "
    "(run id, job, failed step, first error; identity codes redacted) and an error log line.",
)
def run_failure_alert(context: dg.RunFailureSensorContext, settings: SettingsResource):
    alert = alert_for_run(context.instance, context.dagster_run)
    path = write_alert(settings.settings.warehouse_dir, alert)
    context.log.error(f"{alert.summary()} (alert file {path})")
