"""The code lists of the register files (docs/source-contracts.md): the jobseeker
register's statuses and services and Kela's benefits. Ingest validates against these,
the sample writes them, and their order is the contract's order."""

from __future__ import annotations

# `tila` of a status spell.
STATUSES: tuple[str, ...] = ("TYOTON", "LOMAUTETTU", "LYHENNETTY", "PALVELU", "TYOLLINEN", "MUU")
SERVICE_STATUS = "PALVELU"
# `palvelu`, required when `tila` is PALVELU and empty otherwise.
SERVICES: tuple[str, ...] = (
    "PALKKATUKI",
    "TYOHARJOITTELU",
    "TYOKOKEILU",
    "TYOVOIMAKOULUTUS",
    "VALMENNUS",
    "VUOROTTELUSIJAINEN",
    "OMAEHTOINEN_OPISKELU",
    "KUNTOUTTAVA_TYOTOIMINTA",
)
# `etuus` of a Kela payment row; the indicators use TMT, the others are kept for later use.
LABOUR_MARKET_SUBSIDY = "TMT"
BENEFITS: tuple[str, ...] = (LABOUR_MARKET_SUBSIDY, "PPR", "APR")
