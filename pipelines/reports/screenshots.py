"""Full-page screenshots of reports for the documentation (docs/report_*.png).

    python -m pipelines.reports.screenshots PUBLISHED_DUCKDB OUT_DIR [--synthetic] \
        [--shot MK18:2010-12:report_kainuu_2010-12.png ...]

Each report is rendered (HTML only), photographed by headless Chromium in a tall window and
cropped to the page's end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from . import browser
from .png import crop_bottom, read_png, write_png
from .writer import write_report

DEFAULT_SHOTS = ("MK18:2010-12:report_kainuu_2010-12.png", "KU205:2010-12:report_kajaani_2010-12.png")


def full_page_screenshot(html_path: Path, png_path: Path, width: int = 1280, height: int = 9000) -> Path:
    with tempfile.TemporaryDirectory(prefix="kaira-shot-") as folder:
        raw = browser.screenshot(html_path, Path(folder) / "raw.png", width=width, height=height)
        image = crop_bottom(read_png(raw.read_bytes()))
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.write_bytes(write_png(image))
    return png_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("published", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--synthetic", action="store_true", help="show the synthetic-data banner")
    parser.add_argument("--lang", default="fi")
    parser.add_argument("--shot", action="append", metavar="AREA:YYYY-MM:FILE.png")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kaira-reports-") as reports:
        for shot in args.shot or DEFAULT_SHOTS:
            area, month, name = shot.split(":")
            files = write_report(
                args.published, Path(reports), area, month, args.lang, pdf=False, synthetic=args.synthetic
            )
            path = full_page_screenshot(files.html, args.out_dir / name)
            print(f"{path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
