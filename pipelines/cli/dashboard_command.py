"""`kaira dashboard`: serve the Finnish dashboard over the published tables.

    kaira dashboard                 http://127.0.0.1:8501/
    kaira dashboard --port 8611     and open /?area=MK18&indicator=structural_unemployed&sex=total

The process becomes Streamlit's server (exec), so stopping `kaira dashboard` (Ctrl-C, a
signal, a service manager) stops the server itself. The server reads only
$KAIRA_WAREHOUSE_DIR/published.duckdb (read-only, per request), never the working warehouse,
and is started so that it sends nothing anywhere: no usage statistics, no browser opened,
no file watcher. Nothing here imports Dagster or Streamlit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipelines.core.settings import child_environment, load_settings

DEFAULT_PORT = 8501
DEFAULT_ADDRESS = "127.0.0.1"


def add_dashboard_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the Finnish dashboard over the published tables (Streamlit)",
        description="Serve the dashboard on http://ADDRESS:PORT/ from $KAIRA_WAREHOUSE_DIR/published.duckdb. "
        "A view can be linked: /?area=MK18&indicator=structural_unemployed&sex=total.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--address",
        default=DEFAULT_ADDRESS,
        help=f"address to listen on (default {DEFAULT_ADDRESS}, this machine only; 0.0.0.0 for every interface)",
    )
    parser.set_defaults(handler=run_dashboard)
    return parser


def app_file() -> Path:
    """The Streamlit script, beside the dashboard's modules (a wheel carries it as a module)."""
    return Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def streamlit_command(python: str, published: Path, port: int, address: str) -> list[str]:
    """The server's command line. Every option that would reach outside is off: usage
    statistics (browser.gatherUsageStats), the first-run e-mail prompt and opening a browser
    (server.headless), and the file watcher, which only a developer editing the app needs."""
    return [
        python,
        "-m",
        "streamlit",
        "run",
        str(app_file()),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
        "--",
        "--published",
        str(published),
    ]


def run_dashboard(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        print(f"kaira dashboard: --port {args.port} is not a port (1-65535)", file=sys.stderr)
        return 2
    settings = load_settings()
    command = streamlit_command(sys.executable, settings.published_path, args.port, args.address)
    print(
        f"kaira dashboard: http://{args.address}:{args.port}/ reading {settings.published_path}",
        file=sys.stderr,
        flush=True,
    )
    # Streamlit keeps its own settings in ~/.streamlit; the options above override them.
    os.execve(sys.executable, command, child_environment())
    return 0  # not reached: the process is the server now
