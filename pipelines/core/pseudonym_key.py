"""The pseudonymisation key: its rules, its fingerprint, and the refusals that guard it.

Every person's identity code becomes HMAC-SHA-256(key, code) at ingest
(pipelines/core/identity_codes.py). The key decides who can link a pseudonym back to a
person, and with the birth date stored beside each pseudonym a guessed key is checked
with about a thousand HMACs, so:

- a key is at least MIN_KEY_BYTES (32) bytes: 256 bits, as much as HMAC-SHA-256 can use;
- the public demo key is accepted only where the landing folder carries the sample
  generator's synthetic marker (checked by ingest: pipelines/sources/loader.py);
- every delivery records the key's fingerprint, and a load with another key than the one
  the warehouse was built with is refused: two keys would give every person two
  pseudonyms. Changing the key is `kaira repseudonymise`, which reloads every month.

No message, repr or log line here contains the key. The settings read it
(pipelines/core/settings.py, the only module that reads the environment); docs/security.md
says where to keep it and how to rotate it.
"""

from __future__ import annotations

import hashlib
import hmac
import stat
from collections.abc import Iterable
from pathlib import Path

MIN_KEY_BYTES = 32
KEY_VARIABLE = "KAIRA_PSEUDONYM_KEY"
KEY_FILE_VARIABLE = "KAIRA_PSEUDONYM_KEY_FILE"

# Public on purpose (README, Makefile): it protects nothing and is for the generated sample
# only. Long enough to pass the length rule, so that the demo is refused for the right reason.
DEMO_PSEUDONYM_KEY = "kaira-demo-key-not-secret-synthetic-only"

# The fingerprint is HMAC-SHA-256(key, this text), not a hash of the key: it identifies the
# key without being a value that could be looked up, and is unrelated to any pseudonym.
FINGERPRINT_MESSAGE = b"kaira key fingerprint"
FINGERPRINT_HEX_DIGITS = 16

GENERATE_HINT = "generate one with: python3 -c 'import secrets; print(secrets.token_hex(32))'"


class PseudonymKeyError(Exception):
    """The key cannot be used for this load. The message names the variable and the rule,
    never the key."""


class PseudonymKeyInvalidError(PseudonymKeyError):
    """Too short, or its file cannot be used."""


class DemoKeyRefusedError(PseudonymKeyError):
    """The public demo key on data that is not the generated sample."""


class PseudonymKeyChangedError(PseudonymKeyError):
    """The warehouse was built with another key."""

    def __init__(self, warehouse: Path, recorded: Iterable[str], current: str) -> None:
        self.recorded, self.current = sorted(set(recorded)), current
        super().__init__(
            f"the working warehouse {warehouse} holds deliveries pseudonymised with another key "
            f"(key fingerprint {', '.join(self.recorded)}); the key set now has fingerprint {current}. "
            "Nothing was loaded: with two keys every person would get two pseudonyms. If the key was "
            "changed on purpose, run `kaira repseudonymise` to reload every landed month with the new key; "
            "otherwise set the key this warehouse was built with."
        )


def fingerprint(key: str | bytes) -> str:
    """The key's fingerprint as raw.deliveries records it: the first 16 hex digits of
    HMAC-SHA-256(key, "kaira key fingerprint")."""
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(raw, FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX_DIGITS]


def key_problem(key: str, variable: str) -> str | None:
    """Why `key` (given through `variable`) is not a usable key, or None."""
    length = len(key.encode("utf-8"))
    if length < MIN_KEY_BYTES:
        return (
            f"{variable}: the pseudonymisation key is {length} bytes long; it must be at least "
            f"{MIN_KEY_BYTES} bytes (256 bits) of secret, random text ({GENERATE_HINT})"
        )
    return None


def read_key_file(path: Path) -> tuple[str | None, str | None]:
    """(key, None) from an owner-only key file, or (None, why not). One trailing line end
    is not part of the key (`echo` and editors add one)."""
    path = Path(path)
    try:
        status = path.stat()
    except OSError as error:
        return None, f"{KEY_FILE_VARIABLE}: cannot read the key file {path} ({error.strerror or error})"
    if not stat.S_ISREG(status.st_mode):
        return None, f"{KEY_FILE_VARIABLE}: {path} is not a regular file"
    if stat.S_IMODE(status.st_mode) & 0o077:
        return None, (
            f"{KEY_FILE_VARIABLE}: the key file {path} can be read by other users "
            f"(mode {stat.S_IMODE(status.st_mode):04o}); make it owner-only: chmod 600 {path}"
        )
    try:
        raw = path.read_bytes()
    except OSError as error:
        return None, f"{KEY_FILE_VARIABLE}: cannot read the key file {path} ({error.strerror or error})"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"{KEY_FILE_VARIABLE}: the key file {path} is not UTF-8 text ({GENERATE_HINT})"
    key = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
    if not key:
        return None, f"{KEY_FILE_VARIABLE}: the key file {path} is empty"
    return key, None


def resolve_key(value: str | None, file: str | None) -> tuple[str | None, str | None]:
    """The key from KAIRA_PSEUDONYM_KEY (`value`) or KAIRA_PSEUDONYM_KEY_FILE (`file`):
    (key, None) when usable, (None, why not) when given but unusable, (None, None) when
    neither is set."""
    if value and file:
        return None, f"both {KEY_VARIABLE} and {KEY_FILE_VARIABLE} are set: set only one of them"
    if file:
        key, problem = read_key_file(Path(file))
        if problem:
            return None, problem
        variable = f"{KEY_FILE_VARIABLE} ({file})"
    elif value:
        key, variable = value, KEY_VARIABLE
    else:
        return None, None
    problem = key_problem(key, variable)
    return (None, problem) if problem else (key, None)


def check_demo_key(key: str, *, synthetic: bool, landing_dir: Path) -> None:
    """Refuse the public demo key unless the landing folder holds the generated sample."""
    if key == DEMO_PSEUDONYM_KEY and not synthetic:
        raise DemoKeyRefusedError(
            "the public demo key is only for the generated sample (a landing folder whose README.txt "
            f"is the sample generator's synthetic marker); {landing_dir} has no such marker, so its files "
            f"are taken as real person data. Set {KEY_VARIABLE} (or {KEY_FILE_VARIABLE}) to a secret key of "
            f"at least {MIN_KEY_BYTES} bytes ({GENERATE_HINT}). Nothing was loaded."
        )


def check_key_unchanged(warehouse: Path, recorded: Iterable[str], current: str) -> None:
    """Raise PseudonymKeyChangedError when a recorded fingerprint is not `current`'s."""
    others = {value for value in recorded if value and value != current}
    if others:
        raise PseudonymKeyChangedError(warehouse, others, current)
