"""The monthly register sources: what each is called, where its file lands, which Dagster
asset ingests it and how people name it. Ingest, the landing scan, the run history, the
run summary and the sample generator all read this; nothing else spells a file pattern.

The order is fixed (jobseeker register first, Kela second): a month's pair of file hashes
follows it. See docs/source-contracts.md for the files' contents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines.core.months import month_text


@dataclass(frozen=True)
class RegisterSource:
    name: str  # the source's name in the warehouse (raw.deliveries.source, raw.rejects.source)
    folder: str  # its folder under the landing folder
    file_prefix: str  # file name: <prefix><YYYY-MM>.csv
    asset_name: str  # the Dagster asset that ingests it
    display_name: str  # how the run summary and messages name it

    @property
    def relative_pattern(self) -> str:
        """'tyonhakijat/tyonhakijat_{month}.csv', month = YYYY-MM."""
        return f"{self.folder}/{self.file_prefix}{{month}}.csv"

    @property
    def file_name_pattern(self) -> re.Pattern[str]:
        """Matches a landed file's name; group 1 is its YYYY-MM."""
        return re.compile(rf"^{re.escape(self.file_prefix)}(\d{{4}}-\d{{2}})\.csv$")

    def relative_path(self, month: str | date) -> str:
        """The file of `month`; a text month is used as landed (the scan may find '2010-13')."""
        return self.relative_pattern.format(month=month if isinstance(month, str) else month_text(month))

    def path(self, landing_dir: Path, month: str | date) -> Path:
        return Path(landing_dir) / self.relative_path(month)


JOBSEEKER_SPELLS = RegisterSource(
    name="jobseeker_spells",
    folder="tyonhakijat",
    file_prefix="tyonhakijat_",
    asset_name="raw_jobseeker_spells",
    display_name="tyonhakijat",
)
KELA_PAYMENTS = RegisterSource(
    name="kela_payments",
    folder="kela",
    file_prefix="tmt_",
    asset_name="raw_kela_payments",
    display_name="kela",
)

REGISTER_SOURCES: tuple[RegisterSource, ...] = (JOBSEEKER_SPELLS, KELA_PAYMENTS)
SOURCES: tuple[str, ...] = tuple(source.name for source in REGISTER_SOURCES)
SOURCE_BY_NAME: dict[str, RegisterSource] = {source.name: source for source in REGISTER_SOURCES}
