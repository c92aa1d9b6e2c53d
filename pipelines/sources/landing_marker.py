"""Is the landed data generated? The sample generator says so in its landing folder.

`kaira sample` (pipelines/sample/generator.py) writes `README.txt` into the landing root,
whose first line is "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä". Publishing
records the flag in the published `publication` table, so dashboards and reports label
synthetic data as such. Real deliveries never carry the marker; an operator's own
README.txt without that first line does not count.

The marker also decides whether ingest accepts the public demo key
(pipelines/core/pseudonym_key.py): only on the generated sample. A marker that is a
symbolic link does not count, as ingest reads no link in the landing folder.
"""

from __future__ import annotations

from pathlib import Path

MARKER_FILES = ("README.txt", "SYNTHETIC.txt")
MARKER_TEXT = "Synteettinen esimerkkiaineisto"


def is_synthetic(landing_dir: Path | None) -> bool:
    """True when `landing_dir` holds the sample generator's marker (its README.txt or a SYNTHETIC.txt)."""
    if landing_dir is None:
        return False
    for name in MARKER_FILES:
        path = Path(landing_dir) / name
        if path.is_symlink() or not path.is_file():
            continue
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                first_line = handle.readline().lstrip("\ufeff").strip()
        except OSError:
            continue
        if first_line.startswith(MARKER_TEXT):
            return True
    return False
