"""Which browser prints the PDFs and what it is given: the configured one (Settings.chromium)
or Debian's on PATH, never read from the environment by the lookup itself; a browser that is
not installed is told apart from a setting that is wrong; the browser gets a minimal
environment, so no secret of Kaira's reaches it."""

import shutil

import pytest

from pipelines.reports.browser import (
    ChromiumConfigError,
    ChromiumNotFoundError,
    child_environment,
    find_chromium,
)


@pytest.fixture
def empty_path(tmp_path, monkeypatch):
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    return tmp_path / "empty-bin"


def test_nothing_installed_is_not_found_and_names_the_package(empty_path, monkeypatch):
    # The lookup does not read KAIRA_CHROMIUM itself: the caller passes Settings.chromium.
    monkeypatch.setenv("KAIRA_CHROMIUM", shutil.which("true", path="/usr/bin:/bin"))
    with pytest.raises(ChromiumNotFoundError, match="apt-get install chromium"):
        find_chromium(None)


def test_a_configured_browser_is_used_and_a_wrong_one_is_a_setting_error(tmp_path, empty_path):
    configured = shutil.which("true", path="/usr/bin:/bin")
    assert find_chromium(configured) == configured
    with pytest.raises(ChromiumConfigError, match="KAIRA_CHROMIUM"):
        find_chromium(str(tmp_path / "no-such-chromium"))
    assert not issubclass(ChromiumConfigError, ChromiumNotFoundError)  # never taken for "not installed"


def test_the_browser_gets_a_minimal_environment_without_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("KAIRA_PSEUDONYM_KEY", "secret-key-of-the-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "another-secret")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("TZ", "Europe/Helsinki")
    monkeypatch.setenv("HOME", "/root/of/the/user")
    environment = child_environment(str(tmp_path / "profile"))
    assert environment["HOME"] == str(tmp_path / "profile")
    assert environment["PATH"] == "/usr/bin:/bin" and environment["TZ"] == "Europe/Helsinki"
    assert set(environment) <= {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"}
    assert "secret-key-of-the-test" not in environment.values()
