"""The report's words, from `assets/translations.json` (Finnish by default, English by option)."""

from __future__ import annotations

import json
from functools import lru_cache

from pipelines.package_files import (
    report_assets_dir,
)

ASSETS_DIR = report_assets_dir()
TRANSLATIONS_PATH = ASSETS_DIR / "translations.json"


@lru_cache(maxsize=1)
def load_translations() -> dict[str, dict]:
    return json.loads(TRANSLATIONS_PATH.read_text(encoding="utf-8"))


class Translator:
    """`t("goal1_heading")`, `t("sexes.male")`, `t("legend_target", value="2 244,5")`."""

    def __init__(self, lang: str):
        translations = load_translations()
        if lang not in translations:
            raise ValueError(f"no translations for language {lang!r}: use one of {', '.join(sorted(translations))}")
        self.lang = lang
        self.strings = translations[lang]

    def lookup(self, key: str):
        node = self.strings
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"translation {key!r} missing for language {self.lang!r}")
            node = node[part]
        return node

    def __call__(self, key: str, **values) -> str:
        text = self.lookup(key)
        if not isinstance(text, str):
            raise KeyError(f"translation {key!r} is not a text")
        return text.format(**values) if values else text
