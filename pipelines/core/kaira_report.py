"""What the KAIRA project's final report says happened in Kainuu (MK18), the figures the
synthetic sample is calibrated to and `kaira calibrate` compares with (docs/definitions.md,
"Follow-up targets"): structural unemployment fell by 1,117 persons (about 25 %) from
early 2008 to the end of 2010 instead of halving, close to 3,000 were still structurally
unemployed at the end of 2012, and long-term unemployment stayed near 800."""

from __future__ import annotations

from dataclasses import dataclass

KAINUU = "MK18"
STRUCTURAL_BASELINE_2008_02 = 4470
STRUCTURAL_FALL_BY_2010_12 = 1117


@dataclass(frozen=True)
class ReportedFigure:
    name: str
    indicator: str
    months: tuple[str, ...]  # one month, or the months whose mean is meant (YYYY-MM)
    value: float
    tolerance: float  # the relative deviation a calibrated sample may show


REPORTED_FIGURES: tuple[ReportedFigure, ...] = (
    ReportedFigure("structural_unemployed 2008-02", "structural_unemployed", ("2008-02",), STRUCTURAL_BASELINE_2008_02, 0.10),
    ReportedFigure(
        "structural_unemployed 2010-12",
        "structural_unemployed",
        ("2010-12",),
        STRUCTURAL_BASELINE_2008_02 - STRUCTURAL_FALL_BY_2010_12,
        0.10,
    ),
    ReportedFigure("structural_unemployed 2012-12", "structural_unemployed", ("2012-12",), 3000, 0.10),
    ReportedFigure(
        "long_term_unemployed mean 2010-2012",
        "long_term_unemployed",
        tuple(f"{year}-{month:02d}" for year in (2010, 2011, 2012) for month in range(1, 13)),
        800,
        0.20,
    ),
)
