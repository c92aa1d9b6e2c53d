"""A screenshot of the dashboard for the documentation (docs/dashboard_kainuu.png).

    .venv/bin/python -m tools.dashboard_screenshot WAREHOUSE_DIR docs/dashboard_kainuu.png \
        [--view "/?area=MK18&indicator=structural_unemployed&sex=total"]

Starts `kaira dashboard` on the published tables in WAREHOUSE_DIR (a finished run's
KAIRA_WAREHOUSE_DIR; make it from the synthetic sample, whose banner then shows in the
picture), opens the view in headless Chromium (tools/live_page.py), photographs it in a tall
window and crops the empty bottom. Needs Pillow (the test extra). Run it as a module (`-m`)
from the repository root: it imports its neighbour tools/live_page.py as `tools.live_page`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

from tools.live_page import LivePage, running_dashboard


def crop_below_content(image: Image.Image, margin: int = 32) -> Image.Image:
    """Drop the empty rows at the bottom. The sidebar runs the window's full height in its
    own colour, so only the main column (right of it) is looked at, against its background,
    the bottom-right pixel's colour."""
    image = image.convert("RGB")
    main = image.crop((image.width // 3, 0, image.width, image.height))
    background = Image.new("RGB", main.size, main.getpixel((main.width - 1, main.height - 1)))
    box = ImageChops.difference(main, background).getbbox()
    last = box[3] if box else image.height
    return image.crop((0, 0, image.width, min(image.height, last + margin)))


READY = "document.querySelectorAll('[data-testid=\"stTable\"]').length >= 2"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse_dir", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--view", default="/?area=MK18&indicator=structural_unemployed&sex=total")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2600)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kaira-dashboard-shot-") as home:
        env = {"KAIRA_WAREHOUSE_DIR": str(args.warehouse_dir.resolve()), "HOME": home}
        with running_dashboard(env) as (base, seconds), LivePage(width=args.width, height=args.height) as page:
            page.open(base + args.view, ready=READY, settle=3)
            raw = page.screenshot(Path(home) / "raw.png")
            with Image.open(raw) as shot:
                image = crop_below_content(shot)
    args.png.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.png, optimize=True)
    print(f"{args.png} ({args.png.stat().st_size // 1024} KiB; the server answered after {seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
