"""The pseudonymisation key's rules, without a warehouse: length, key file, demo key,
fingerprint, and the key kept out of reprs and child environments.

Protects: a key shorter than 32 bytes is refused with a message naming the variable and
the rule and never the key; the demo key is long enough and refused on real data; the
fingerprint identifies the key without being the key or a plain hash of it; the
settings' repr never shows the key; a child's environment never contains it.
"""

import hashlib
import hmac
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.core.pseudonym_key import (
    DEMO_PSEUDONYM_KEY,
    MIN_KEY_BYTES,
    DemoKeyRefusedError,
    PseudonymKeyChangedError,
    check_demo_key,
    check_key_unchanged,
    fingerprint,
)
from pipelines.core.settings import child_environment, load_settings, secrets_withheld_from_children

ROOT = Path(__file__).parents[2]
GOOD_KEY = "0123456789abcdef0123456789abcdef"  # exactly 32 bytes
assert len(GOOD_KEY.encode()) == 32


def test_a_short_key_is_refused_naming_the_variable_and_the_rule_never_the_key():
    short = "kaira-demo-key-not-secret"  # the old demo key, 25 bytes
    settings = load_settings({"KAIRA_PSEUDONYM_KEY": short})
    assert settings.pseudonym_key is None
    problem = settings.pseudonym_key_problem
    assert "KAIRA_PSEUDONYM_KEY" in problem and "at least 32 bytes" in problem
    assert short not in problem and short not in repr(settings)


def test_thirty_two_bytes_is_enough_and_bytes_not_characters_count():
    assert load_settings({"KAIRA_PSEUDONYM_KEY": GOOD_KEY}).pseudonym_key == GOOD_KEY
    assert load_settings({"KAIRA_PSEUDONYM_KEY": GOOD_KEY[:-1]}).pseudonym_key is None
    # 16 characters, 32 bytes in UTF-8
    assert load_settings({"KAIRA_PSEUDONYM_KEY": "ä" * 16}).pseudonym_key == "ä" * 16
    assert MIN_KEY_BYTES == 32


def test_no_key_is_no_problem_until_a_key_is_needed():
    settings = load_settings({})
    assert settings.pseudonym_key is None and settings.pseudonym_key_problem is None


def test_the_key_never_appears_in_the_settings_repr():
    settings = load_settings({"KAIRA_PSEUDONYM_KEY": GOOD_KEY})
    assert GOOD_KEY not in repr(settings) and GOOD_KEY not in str(settings)


def test_a_key_file_gives_the_key_without_its_line_end(tmp_path):
    path = tmp_path / "kaira.key"
    path.write_text(GOOD_KEY + "\n")
    path.chmod(0o600)
    settings = load_settings({"KAIRA_PSEUDONYM_KEY_FILE": str(path)})
    assert settings.pseudonym_key == GOOD_KEY
    assert GOOD_KEY not in repr(settings)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_file_others_can_read_is_refused(tmp_path, mode):
    path = tmp_path / "kaira.key"
    path.write_text(GOOD_KEY)
    path.chmod(mode)
    settings = load_settings({"KAIRA_PSEUDONYM_KEY_FILE": str(path)})
    assert settings.pseudonym_key is None
    assert "KAIRA_PSEUDONYM_KEY_FILE" in settings.pseudonym_key_problem and "chmod 600" in settings.pseudonym_key_problem
    assert GOOD_KEY not in settings.pseudonym_key_problem


def test_a_missing_empty_or_short_key_file_is_refused(tmp_path):
    missing = load_settings({"KAIRA_PSEUDONYM_KEY_FILE": str(tmp_path / "absent.key")})
    assert missing.pseudonym_key is None and "absent.key" in missing.pseudonym_key_problem
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    empty.chmod(0o600)
    assert "empty" in load_settings({"KAIRA_PSEUDONYM_KEY_FILE": str(empty)}).pseudonym_key_problem
    short = tmp_path / "short.key"
    short.write_text("too-short\n")
    short.chmod(0o600)
    problem = load_settings({"KAIRA_PSEUDONYM_KEY_FILE": str(short)}).pseudonym_key_problem
    assert "at least 32 bytes" in problem and "too-short" not in problem


def test_the_key_and_a_key_file_together_are_refused(tmp_path):
    path = tmp_path / "kaira.key"
    path.write_text(GOOD_KEY)
    path.chmod(0o600)
    settings = load_settings({"KAIRA_PSEUDONYM_KEY": GOOD_KEY, "KAIRA_PSEUDONYM_KEY_FILE": str(path)})
    assert settings.pseudonym_key is None and "only one" in settings.pseudonym_key_problem


def test_the_fingerprint_is_a_keyed_hash_never_the_key_nor_its_plain_hash():
    value = fingerprint(GOOD_KEY)
    assert re.fullmatch(r"[0-9a-f]{16}", value)
    assert value == hmac.new(GOOD_KEY.encode(), b"kaira key fingerprint", hashlib.sha256).hexdigest()[:16]
    assert value not in hashlib.sha256(GOOD_KEY.encode()).hexdigest()
    assert value != fingerprint(GOOD_KEY + "x") and value == fingerprint(GOOD_KEY.encode())


def test_a_changed_key_is_named_by_fingerprints_and_points_to_repseudonymise(tmp_path):
    check_key_unchanged(tmp_path, [fingerprint(GOOD_KEY)], fingerprint(GOOD_KEY))
    check_key_unchanged(tmp_path, [], fingerprint(GOOD_KEY))
    with pytest.raises(PseudonymKeyChangedError) as caught:
        check_key_unchanged(tmp_path, [fingerprint(GOOD_KEY)], fingerprint(DEMO_PSEUDONYM_KEY))
    message = str(caught.value)
    assert "kaira repseudonymise" in message and fingerprint(GOOD_KEY) in message
    assert GOOD_KEY not in message and DEMO_PSEUDONYM_KEY not in message


def test_the_demo_key_is_long_enough_and_only_for_the_generated_sample(tmp_path):
    assert len(DEMO_PSEUDONYM_KEY.encode()) >= MIN_KEY_BYTES
    assert load_settings({"KAIRA_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY}).pseudonym_key == DEMO_PSEUDONYM_KEY
    check_demo_key(DEMO_PSEUDONYM_KEY, synthetic=True, landing_dir=tmp_path)
    check_demo_key(GOOD_KEY, synthetic=False, landing_dir=tmp_path)
    with pytest.raises(DemoKeyRefusedError, match="the public demo key is only for the generated sample"):
        check_demo_key(DEMO_PSEUDONYM_KEY, synthetic=False, landing_dir=tmp_path)


def test_the_makefile_and_the_readme_name_the_same_demo_key():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^DEMO_KEY := (\S+)$", makefile, re.M).group(1) == DEMO_PSEUDONYM_KEY
    assert DEMO_PSEUDONYM_KEY in (ROOT / "README.md").read_text()
    assert DEMO_PSEUDONYM_KEY in (ROOT / "docs" / "security.md").read_text()


def test_a_child_environment_never_has_the_key(monkeypatch):
    monkeypatch.setenv("KAIRA_PSEUDONYM_KEY", GOOD_KEY)
    assert "KAIRA_PSEUDONYM_KEY" not in child_environment()
    assert child_environment({"PATH": "/bin", "KAIRA_PSEUDONYM_KEY": GOOD_KEY}) == {"PATH": "/bin"}


def test_secrets_are_withheld_from_children_inside_the_block_and_restored_after(monkeypatch):
    monkeypatch.setenv("KAIRA_PSEUDONYM_KEY", GOOD_KEY)
    script = "import os; print(os.environ.get('KAIRA_PSEUDONYM_KEY', 'absent'))"
    with secrets_withheld_from_children():
        with secrets_withheld_from_children():  # blocks may nest
            assert "KAIRA_PSEUDONYM_KEY" not in os.environ
        assert "KAIRA_PSEUDONYM_KEY" not in os.environ
        # a child that inherits the environment, as dagster-dbt's dbt does
        assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout.strip() == "absent"
        assert load_settings().pseudonym_key == GOOD_KEY  # this process still reads it
    assert os.environ["KAIRA_PSEUDONYM_KEY"] == GOOD_KEY
