"""Full-page screenshots of reports for the documentation (docs/report_*.png).

    .venv/bin/python tools/report_screenshots.py PUBLISHED_DUCKDB OUT_DIR [--synthetic] \
        [--shot MK18:2010-12:report_kainuu_2010-12.png ...]

Each report is rendered (HTML only), photographed by headless Chromium (KAIRA_CHROMIUM, else
Debian's chromium on PATH) in a tall window and cropped to the page's end. Needs Pillow
(the test extra).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

from pipelines.core.settings import load_settings
from pipelines.reports import browser
from pipelines.reports.writer import write_report

DEFAULT_SHOTS = ("MK18:2010-12:report_kainuu_2010-12.png", "KU205:2010-12:report_kajaani_2010-12.png")


def crop_bottom(image: Image.Image, margin: int = 24) -> Image.Image:
    """Drop the rows at the bottom that are all the colour of the bottom-left pixel."""
    image = image.convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((0, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    last = box[3] if box else 0  # the row below the last one that differs
    return image.crop((0, 0, image.width, min(image.height, last + margin)))


def full_page_screenshot(
    html_path: Path, png_path: Path, *, chromium: str | None = None, width: int = 1280, height: int = 9000
) -> Path:
    with tempfile.TemporaryDirectory(prefix="kaira-shot-") as folder:
        raw = browser.screenshot(html_path, Path(folder) / "raw.png", width=width, height=height, chromium=chromium)
        with Image.open(raw) as shot:
            image = crop_bottom(shot)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    image.save(png_path, optimize=True)
    return png_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("published", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--synthetic", action="store_true", help="show the synthetic-data banner")
    parser.add_argument("--lang", default="fi")
    parser.add_argument("--shot", action="append", metavar="AREA:YYYY-MM:FILE.png")
    args = parser.parse_args(argv)
    chromium = load_settings().chromium
    with tempfile.TemporaryDirectory(prefix="kaira-reports-") as reports:
        for shot in args.shot or DEFAULT_SHOTS:
            area, month, name = shot.split(":")
            files = write_report(
                args.published, Path(reports), area, month, args.lang, pdf=False, synthetic=args.synthetic
            )
            path = full_page_screenshot(files.html, args.out_dir / name, chromium=chromium)
            print(f"{path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
