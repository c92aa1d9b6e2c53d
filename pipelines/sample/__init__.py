"""Synthetic sample generator: landing files that look like the real registers.

    from pipelines.sample import generate_sample, SampleOptions
    summary = generate_sample(Path("data/landing"), start="2004-09", end="2013-12")

or, from the command line, `kaira sample --out data/landing [--from 2004-09] [--to 2013-12]
[--seed 20080301] [--scale kainuu|finland] [--fault NAME ...]`.

For every month of the range it writes the two person-level sources of docs/source-contracts.md:

- `tyonhakijat/tyonhakijat_YYYY-MM.csv`: the jobseeker register's status spells overlapping
  the month, as delivery M would have stood: a spell still running at the end of M has an
  empty `loppupvm`, which is filled in from the delivery of the month in which it ended.
  `jakso_id` is stable across deliveries.
- `kela/tmt_YYYY-MM.csv`: labour market subsidy (TMT) payments for the month, derived from
  the same persons' unemployment (see `kela.py`).

plus `README.txt`, which says that the data is synthetic and how it was generated. Files are
UTF-8, `;`-separated, LF, ISO dates, `.` decimals. All identity codes use the individual
numbers 900-999 reserved for temporary codes, so none is a real person's.

The data comes from a vectorised person-level simulation (`engine.py`, with its numbers
in `parameters.py`) that starts 48 months before the first delivery, so that long
unemployment runs and benefit counters exist from the first month. It is calibrated to
Kainuu in 2004-2013 (docs/sample-calibration.md): the modelled hard-to-employ give the
structural figures of KAIRA's report (`pipelines.core.kaira_report`), and short-term
newcomers at a fitted rate per municipality and month (`fitted_inflow.py`) make the
unemployed follow Statistics Finland's official series 2006-2013; `kaira calibrate`
(`calibration.py`) compares both. `scale="finland"` simulates some
300 municipalities in 19 regions (`geography.py`, `finland_municipalities.csv`), with about
450,000 jobseekers registered at a time.

The same arguments always give byte-identical files. Each data set is a whole: a different
range (or seed, or scale) is a different simulation, not a cut of a longer one.

Faults (`faults`, for the ingest's tests; each draws from its own random stream, so every
file a fault does not touch is byte-identical to a run without it):

- `cp1252`: the first month's jobseeker and Kela files are written in Windows-1252 with CRLF
  line ends, Finnish `D.M.YYYY` dates (`alkupvm`, `loppupvm`) and decimal commas in the euro
  columns; the values are otherwise identical to the UTF-8 files. (`maksukuukausi` stays
  `YYYY-MM`; the files hold no text outside ASCII, so the bytes differ only as described.)
- `missing_column`: the last month's Kela file lacks the column `kertyneet_paivat`.
- `invalid_hetu`: three rows of the second month's jobseeker file get a wrong check
  character (the next one in the alphabet).
- `overlapping_spells`: the third month's jobseeker file gets one extra row, right after
  the row it collides with: a MUU spell with a new `jakso_id` lying inside another spell of
  the same person (from that spell's start, or the month's first day, to its end), so
  exactly one pair of rows overlaps.
- `redelivery`: also writes `redelivery/tyonhakijat/tyonhakijat_YYYY-MM.csv` for the
  middle month of the range: the same rows in the same order, except that three closed
  spells end a few days earlier (still within the month) and three TYOTON spells are MUU.
  Copy it over the landing file to test a redelivery.

The summary that `generate_sample` returns names the files and the lines each fault touched.
"""

from .generator import generate_sample
from .options import SampleOptions

__all__ = ["SampleOptions", "generate_sample"]
