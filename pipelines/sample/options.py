"""The generator's arguments, validated once."""

from __future__ import annotations

from dataclasses import dataclass, field

from .dates import month_label, parse_month

SCALES = ("kainuu", "finland")
FAULTS = ("cp1252", "missing_column", "invalid_hetu", "overlapping_spells", "redelivery")
# Which month of the range each fault touches (0-based), and so how many months it needs.
FAULT_MIN_MONTHS = {
    "cp1252": 1,
    "missing_column": 1,
    "invalid_hetu": 2,
    "overlapping_spells": 3,
    "redelivery": 1,
}
# The simulation starts this many months before the first delivery, so that long
# unemployment runs and benefit counters already exist in the first month written.
BURN_IN_MONTHS = 48

# The identity codes of one birth date run out far above this (individual numbers 900-999
# for each day of about 60 birth years); it keeps a typo from filling the disk.
MAX_POPULATION = 100.0

DEFAULT_START = "2004-09"
DEFAULT_END = "2013-12"
DEFAULT_SEED = 20080301


@dataclass(frozen=True)
class SampleOptions:
    start: str = DEFAULT_START
    end: str = DEFAULT_END
    seed: int = DEFAULT_SEED
    scale: str = "kainuu"
    faults: frozenset[str] = field(default_factory=frozenset)
    # Multiplies the number of jobseekers in every municipality of the scale, so that a
    # benchmark can put 200,000 persons into Kainuu's nine municipalities (scope MK18)
    # without inventing a geography; 1.0 is the calibrated sample.
    population: float = 1.0

    def __post_init__(self) -> None:
        first, last = parse_month(self.start), parse_month(self.end)
        if last < first:
            raise ValueError(f"the range ends ({self.end}) before it starts ({self.start})")
        if first < parse_month("1990-01"):
            raise ValueError("the generator's calendar starts in 1990: give a later start month")
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}: choose one of {', '.join(SCALES)}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"the seed must be a non-negative integer, not {self.seed!r}")
        if not isinstance(self.population, (int, float)) or not 0 < self.population <= MAX_POPULATION:
            raise ValueError(f"the population factor must be above 0 and at most {MAX_POPULATION}, "
                             f"not {self.population!r}")
        unknown = sorted(set(self.faults) - set(FAULTS))
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(unknown)}: choose from {', '.join(FAULTS)}")
        months = last - first + 1
        for fault in sorted(self.faults):
            if months < FAULT_MIN_MONTHS[fault]:
                raise ValueError(f"fault {fault!r} needs a range of at least {FAULT_MIN_MONTHS[fault]} months")
        # Normalise, so that equal arguments compare (and are reported) equal.
        object.__setattr__(self, "start", month_label(first))
        object.__setattr__(self, "end", month_label(last))
        object.__setattr__(self, "faults", frozenset(self.faults))

    @property
    def first_month(self) -> int:
        return parse_month(self.start)

    @property
    def last_month(self) -> int:
        return parse_month(self.end)

    @property
    def months(self) -> range:
        return range(self.first_month, self.last_month + 1)

    @property
    def simulation_first_month(self) -> int:
        return self.first_month - BURN_IN_MONTHS
