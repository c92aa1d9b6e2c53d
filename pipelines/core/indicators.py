"""The published indicators (docs/definitions.md), in the contract's order (the order of disclosure
control's tie-breaks and of the published rows). dbt's lists are in
dbt_project/macros/indicators.sql; a test checks the two agree."""

SEXES: tuple[str, ...] = ("total", "male", "female")

JOBSEEKER_COUNTS: tuple[str, ...] = (
    "unemployed",
    "long_term_unemployed",
    "equivalent_long_term_unemployed",
    "returned_from_services",
    "service_to_service",
    "structural_unemployed",
    "youth_unemployed",
    "laid_off",
    "in_services",
    "structural_inflow",
)
KELA_COUNTS: tuple[str, ...] = (
    "tmt_recipients",
    "tmt_recipients_300_499",
    "tmt_recipients_500_999",
    "tmt_recipients_1000_plus",
    "tmt_recipients_over_500",
)
EURO_BLOCK: tuple[str, ...] = (
    "tmt_paid_eur",
    "tmt_municipal_share_eur",
    "tmt_municipal_share_expected_eur",
    "tmt_municipal_share_diff_eur",
)
# Internal: the persons behind a cell's euros, for disclosure control; never published.
PERSONS_ANY_TMT_ROW = "tmt_persons_any_row"

STRUCTURAL_WHOLE = "structural_unemployed"
STRUCTURAL_GROUPS: tuple[str, ...] = (
    "long_term_unemployed",
    "equivalent_long_term_unemployed",
    "returned_from_services",
    "service_to_service",
)
