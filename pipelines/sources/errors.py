"""Why an ingest fails. Messages name the file, the line and the problem, never an
identity code: they go to logs, the Dagster UI and quarantine reason files.

The messages are built not to contain a value of the file; the base class redacts them
all the same (and again when they are shown, with the quarantine path appended), so that
a message built by mistake from a value still cannot carry an identity code out of ingest.
"""

from __future__ import annotations

from pipelines.core.identity_codes import redact


class IngestError(Exception):
    """Base of every error that fails a month's ingest; its text is redacted."""

    def __init__(self, message: str = "") -> None:
        super().__init__(redact(str(message)))

    def __str__(self) -> str:
        return redact(super().__str__())


class PseudonymKeyMissingError(IngestError):
    def __init__(self) -> None:
        super().__init__(
            "KAIRA_PSEUDONYM_KEY is not set: person-level files are not read without a "
            "pseudonymisation key (the demo command sets a documented demo key; production "
            "sets it from a secret store)"
        )


class MissingDeliveryError(IngestError):
    def __init__(self, source: str, month: str, expected_path: str) -> None:
        self.source, self.month, self.expected_path = source, month, expected_path
        super().__init__(f"no {source} delivery for {month}: expected the file {expected_path}")


class UnreadableFileError(IngestError):
    """The file cannot be read as a whole: nothing of it may reach the warehouse."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file, self.line, self.problem = file, line, redact(problem)
        self.quarantined_to: str | None = None
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{where}: {problem}")

    def __str__(self) -> str:
        text = super().__str__()
        if self.quarantined_to:
            text += f" (file copied to quarantine: {self.quarantined_to})"
        return redact(text)


class UnexpectedIngestError(IngestError):
    """Reading or validating a file failed in a way ingest does not foresee (a bug, not the
    file's fault). It replaces the original exception, whose message might quote a value."""

    def __init__(self, file: str, error: BaseException) -> None:
        self.file = file
        super().__init__(f"{file}: unexpected {type(error).__name__} while reading or validating the file: {error}")


class RejectLimitExceeded(IngestError):
    """Too large a share of the file's rows were rejected: the month fails, nothing loads."""

    def __init__(self, message: str, *, file: str, rows_read: int, rows_rejected: int, limit: float) -> None:
        self.file, self.rows_read, self.rows_rejected, self.limit = file, rows_read, rows_rejected, limit
        self.quarantined_to: str | None = None
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        if self.quarantined_to:
            text += f" (file and the list of rejected lines copied to quarantine: {self.quarantined_to})"
        return redact(text)
