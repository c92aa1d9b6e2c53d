"""A self-contained HTML page of a run's validation outcomes, for data engineers.

One file, no external stylesheet or script, so it can be attached to a run or opened
from the asset's metadata anywhere. It shows what the checks themselves carry: the
check, pass / fail / warn, the severity and the observed text (which never holds a
person identifier: see gx_runner).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipelines.validation.gx_runner import ExpectationOutcome, load_suite_spec

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1d1d1f; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .25rem; }
p.meta, p.table { color: #555; margin: .2rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid #ddd; }
th { background: #f3f3f5; }
td.outcome { font-weight: 600; white-space: nowrap; }
tr.pass td.outcome { color: #1b7f3b; }
tr.fail td.outcome { color: #b3261e; }
tr.warn td.outcome { color: #8a5a00; }
tr.fail { background: #fdf1f0; }
tr.warn { background: #fff8e6; }
code { font-size: .85rem; }
.summary span { display: inline-block; margin-right: 1.2rem; }
"""

_LABEL = {"pass": "pass", "fail": "FAIL", "warn": "warn"}


def _suite_title(suite_name: str) -> tuple[str, str]:
    try:
        meta = load_suite_spec(suite_name).get("meta", {})
    except (FileNotFoundError, ValueError):
        meta = {}
    return meta.get("title", suite_name), meta.get("table", "")


def _counts(outcomes: Sequence[ExpectationOutcome]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "warn": 0}
    for outcome in outcomes:
        counts[outcome.outcome] += 1
    return counts


def render_validation_report(
    outcomes_by_suite: Mapping[str, Sequence[ExpectationOutcome]],
    *,
    title: str = "Kaira validation report",
    generated_at: dt.datetime | None = None,
    context: str | None = None,
) -> str:
    """The report as an HTML string (see :func:`write_validation_report`)."""
    esc = html.escape
    generated_at = generated_at or dt.datetime.now(dt.UTC).astimezone()
    everything = [o for outcomes in outcomes_by_suite.values() for o in outcomes]
    totals = _counts(everything)
    verdict = (
        "Blocking checks failed: nothing may be published."
        if totals["fail"]
        else "All blocking checks passed."
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">Generated {esc(generated_at.isoformat(timespec="seconds"))}'
        + (f" · {esc(context)}" if context else "")
        + "</p>",
        f"<p><strong>{esc(verdict)}</strong></p>",
        '<p class="summary">'
        f'<span>{len(everything)} checks</span><span>{totals["pass"]} passed</span>'
        f'<span>{totals["fail"]} failed (blocking)</span><span>{totals["warn"]} warnings</span></p>',
    ]
    for suite_name, outcomes in outcomes_by_suite.items():
        suite_title, table = _suite_title(suite_name)
        counts = _counts(outcomes)
        parts.append(f'<h2 id="{esc(suite_name)}">{esc(suite_title)}</h2>')
        parts.append(
            f'<p class="table">suite <code>{esc(suite_name)}</code>'
            + (f" · table <code>{esc(table)}</code>" if table else "")
            + f" · {counts['pass']} passed, {counts['fail']} failed, {counts['warn']} warnings</p>"
        )
        parts.append(
            "<table><thead><tr><th>check</th><th>result</th><th>severity</th>"
            "<th>what it protects</th><th>observed</th><th>expectation</th></tr></thead><tbody>"
        )
        for o in outcomes:
            parts.append(
                f'<tr class="{o.outcome}"><td><code>{esc(o.check_name)}</code></td>'
                f'<td class="outcome">{_LABEL[o.outcome]}</td><td>{esc(o.severity)}</td>'
                f"<td>{esc(o.description)}</td><td>{esc(o.observed)}</td>"
                f"<td><code>{esc(o.expectation_type)}</code></td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_validation_report(
    outcomes_by_suite: Mapping[str, Sequence[ExpectationOutcome]],
    path: Path,
    *,
    title: str = "Kaira validation report",
    context: str | None = None,
) -> Path:
    """Write the HTML report to `path` (atomically: a reader never sees half a page)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_validation_report(outcomes_by_suite, title=title, context=context)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is for readers
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
