"""Shared by the bench scripts: run a step in its own process and measure it.

How a step is measured
----------------------
Each step (generate, backfill, incremental, ...) runs in a fresh worker process
(`python bench/_measure.py SPEC.json`), so that its peak memory is its own: `ru_maxrss`
only ever grows over a process's life, so steps sharing one process would inherit the
previous step's peak. The worker reports:

- wall s: the step's call itself (imports and interpreter start-up excluded); "proc s" is
  the worker process from spawn to exit, imports included;
- CPU s: user + system time of the worker and of every descendant it reaped: dbt, and
  Chromium's helpers (zygotes, renderers), which outlive their browser's main process and
  are reaped by the worker because it makes itself their subreaper
  (`pipelines.core.child_processes.become_subreaper`);
  without it their CPU time was counted as "other" work on the machine;
- peak RSS "worker": `getrusage(RUSAGE_SELF).ru_maxrss` of the worker, i.e. the Python
  process in which Dagster executes the run in-process (ingest, GX checks, publishing);
- peak RSS "child": `getrusage(RUSAGE_CHILDREN).ru_maxrss`, the largest single reaped
  descendant: the dbt subprocess (with its DuckDB) of the reference or the monthly step, or
  a Chromium of the reports step. Linux counts a child's peak from fork, so a child started
  by a large worker shows at least the worker's RSS at that moment: when "child" is close
  to "worker", read it as an upper bound (the Dagster step table's sampled RSS tells);
- peak RSS "tree": the largest sum of RSS over the worker and all its live descendants,
  sampled by the parent from /proc every 0.2 s (shared pages counted twice; a short spike
  between samples can be missed). Use it for "how much memory does the machine need".

The machine has other users: "other CPU %" is the CPU time the whole machine spent busy
(/proc/stat) minus this step's own CPU time, as a share of wall time x cores; load
averages before and after are printed with it. Figures with a high other-CPU share are
slower than on an idle machine.

Rows are counted by the parent after each step, through read-only DuckDB connections.

The machine has no swap and is shared: if MemAvailable falls below 1 GiB while a step
runs, the bench kills that step's worker (its own process group, nothing else) and
reports the step as failed "out of memory", with the figures and Dagster steps so far.
"""

from __future__ import annotations

import glob
import importlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.core.child_processes import become_subreaper, reap_descendants

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# Public on purpose, like the demo key: protects nothing, for generated data only.
BENCH_PSEUDONYM_KEY = "kaira-bench-key-not-secret-at-least-32-bytes"

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
# The machine is shared and has no swap: a worker whose tree would drive the machine out of
# memory is killed (its own process group only) when MemAvailable falls below this.
MIN_AVAILABLE_BYTES = 1 * 2**30


# ----------------------------------------------------------------------------------------
# Environment of an isolated run
# ----------------------------------------------------------------------------------------


def bench_environment(workdir: Path, *, area_scope: str, municipality_set: str) -> dict[str, str]:
    """Every Kaira variable and DAGSTER_HOME pointing into `workdir`."""
    return {
        "KAIRA_LANDING_DIR": str(workdir / "landing"),
        "KAIRA_WAREHOUSE_DIR": str(workdir / "warehouse"),
        "KAIRA_QUARANTINE_DIR": str(workdir / "quarantine"),
        "KAIRA_REPORTS_DIR": str(workdir / "reports"),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
        "KAIRA_PSEUDONYM_KEY": BENCH_PSEUDONYM_KEY,
        "KAIRA_AREA_SCOPE": area_scope,
        "KAIRA_MUNICIPALITY_SET": municipality_set,
    }


def apply_environment(values: dict[str, str]) -> None:
    """Set the variables here, so the workers inherit them and the parent reads the same files."""
    os.environ.update(values)
    sys.path[:0] = [p for p in (str(REPO_ROOT),) if p not in sys.path]
    from pipelines.cli.dagster_home import prepare_dagster_home
    from pipelines.core.settings import load_settings

    prepare_dagster_home(load_settings().dagster_home)


def make_workdir(given: str | None, prefix: str) -> Path:
    if given:
        path = Path(given).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix=prefix))


def months_between(first: str, last: str) -> list[str]:
    """'2004-09', '2005-01' -> ['2004-09', ..., '2005-01'] (both inclusive)."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# ----------------------------------------------------------------------------------------
# Steps in worker processes
# ----------------------------------------------------------------------------------------


@dataclass
class StepFigures:
    name: str
    months: list[str]
    started_at: float = 0.0  # unix time
    wall_s: float = 0.0
    process_s: float = 0.0
    cpu_s: float = 0.0
    worker_peak_mb: float = 0.0
    child_peak_mb: float = 0.0
    tree_peak_mb: float = 0.0
    other_cpu_share: float = 0.0
    load_before: float = 0.0
    load_after: float = 0.0
    value: Any = None
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_out: dict[str, int] = field(default_factory=dict)
    # (unix time, worker RSS bytes, tree RSS bytes), every 0.2 s: attributes memory to Dagster steps
    samples: list[tuple[float, int, int]] = field(default_factory=list, repr=False)


class StepFailed(RuntimeError):
    def __init__(self, message: str, figures: StepFigures):
        super().__init__(message)
        self.figures = figures


def run_step(name: str, function: str, months: list[str], *, log_dir: Path, also_sample: int | None = None,
             **kwargs: Any) -> StepFigures:
    """Run `function` ('module:attribute', the module in bench/ or the project) with kwargs
    in a worker process and measure it; the worker's output (Dagster's and dbt's logs) goes
    to log_dir/<name>.log. Raises StepFailed if the worker fails. `also_sample`: the pid of
    another process whose tree does the step's work (a `kaira worker`), added to the
    memory samples."""
    figures = StepFigures(name=name, months=months, started_at=time.time(), load_before=os.getloadavg()[0])
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with tempfile.TemporaryDirectory(prefix="kaira-bench-step-") as scratch, open(log_path, "w") as log:
        spec_path, result_path = Path(scratch) / "spec.json", Path(scratch) / "result.json"
        spec_path.write_text(json.dumps({"function": function, "kwargs": kwargs, "result": str(result_path)}))
        busy_before = machine_busy_seconds()
        began = time.monotonic()
        worker = subprocess.Popen([sys.executable, "-u", str(Path(__file__)), str(spec_path)], cwd=REPO_ROOT,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        sampler = _TreeSampler(worker.pid, also=also_sample)
        sampler.start()
        # wait4, not wait: the worker's rusage (itself and the children it reaped) even when
        # it was killed before it could report its own figures.
        try:
            _, status, usage = os.wait4(worker.pid, 0)
        except BaseException:  # interrupted: the worker is in its own session, end it (and only it)
            os.killpg(worker.pid, signal.SIGKILL)
            os.wait4(worker.pid, 0)
            sampler.stop()
            raise
        worker.returncode = returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        figures.process_s = time.monotonic() - began
        busy = machine_busy_seconds() - busy_before
        result = json.loads(result_path.read_text()) if result_path.exists() else {}
    figures.load_after = os.getloadavg()[0]
    figures.tree_peak_mb = sampler.peak_bytes / 2**20
    figures.samples = sampler.samples
    if returncode != 0 or "error" in result:
        figures.wall_s = figures.process_s
        figures.cpu_s = usage.ru_utime + usage.ru_stime
        figures.worker_peak_mb = usage.ru_maxrss / 1024  # the largest of the worker and its reaped children
        figures.other_cpu_share = max(0.0, busy - figures.cpu_s) / (figures.process_s * CORES)
        reason = sampler.killed or result.get("error", "(no result written)")
        raise StepFailed(f"step {name} failed (exit {returncode}, log {log_path}):\n{reason}", figures)
    figures.wall_s = result["wall_s"]
    figures.cpu_s = result["cpu_s"]
    figures.worker_peak_mb = result["self_maxrss_kb"] / 1024
    figures.child_peak_mb = result["children_maxrss_kb"] / 1024
    figures.other_cpu_share = max(0.0, busy - figures.cpu_s) / (figures.process_s * CORES)
    figures.value = result["value"]
    return figures


def _worker_main(spec_path: str) -> int:
    """In the worker: import and call the function, time it, write the result file."""
    spec = json.loads(Path(spec_path).read_text())
    for path in (str(REPO_ROOT), str(BENCH_DIR)):
        if path not in sys.path:
            sys.path.insert(0, path)
    out: dict[str, Any] = {}
    code = 0
    become_subreaper()
    try:
        module_name, attribute = spec["function"].split(":")
        function = getattr(importlib.import_module(module_name), attribute)
        began = time.monotonic()
        out["value"] = function(**spec["kwargs"])
        out["wall_s"] = time.monotonic() - began
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the bench
        out["error"] = traceback.format_exc()
        code = 1
    # Only those that have ended: some never end before the worker does (multiprocessing's
    # resource tracker, which a library starts), and waiting for them would add to "proc s".
    reap_descendants(seconds=0)
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out["cpu_s"] = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    out["self_maxrss_kb"] = own.ru_maxrss  # Linux: kilobytes
    out["children_maxrss_kb"] = children.ru_maxrss
    Path(spec["result"]).write_text(json.dumps(out, default=str))
    return code


def _mem_available() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 2**62


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot, all cores (/proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / _CLOCK_TICKS  # user..steal, without guest (counted in user)


class _TreeSampler(threading.Thread):
    """The largest sum of RSS over a process and its descendants, from /proc."""

    def __init__(self, root_pid: int, interval: float = 0.2, also: int | None = None):
        super().__init__(daemon=True)
        self.root_pid, self.interval, self.also = root_pid, interval, also
        self.peak_bytes = 0
        self.samples: list[tuple[float, int, int]] = []
        self.killed: str | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            root, tree = self._tree_rss()
            self.samples.append((time.time(), root, tree))
            self.peak_bytes = max(self.peak_bytes, tree)
            available = _mem_available()
            if available < MIN_AVAILABLE_BYTES and self.killed is None:
                self.killed = (f"killed by the bench: the machine had {available / 2**20:,.0f} MiB available "
                               f"with the step's process tree at {tree / 2**20:,.0f} MiB (out of memory)")
                try:
                    os.killpg(self.root_pid, signal.SIGKILL)  # the worker's own session: it and its children
                except ProcessLookupError:
                    pass
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def _tree_rss(self) -> tuple[int, int]:
        """(RSS of the root process, sum of RSS over the root and its descendants)."""
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    text = stat.read()
                parents[int(entry)] = int(_stat_fields(text)[1])
            except (OSError, ValueError):
                continue
        roots = [self.root_pid] + ([self.also] if self.also else [])
        tree, frontier = set(roots), list(roots)
        while frontier:
            pid = frontier.pop()
            for child, parent in parents.items():
                if parent == pid and child not in tree:
                    tree.add(child)
                    frontier.append(child)
        root = total = 0
        for pid in tree:
            try:
                with open(f"/proc/{pid}/statm") as statm:
                    rss = int(statm.read().split()[1]) * _PAGE_SIZE
            except (OSError, ValueError, IndexError):
                continue
            total += rss
            root = rss if pid == self.root_pid else root
        return root, total


# ----------------------------------------------------------------------------------------
# Step functions shared by the scripts (called in the worker)
# ----------------------------------------------------------------------------------------


def generate(out: str, start: str, end: str, scale: str, population: float = 1.0) -> dict:
    """The project's generator; returns the rows it wrote per source and the persons."""
    from pipelines.sample import generate_sample

    summary = generate_sample(Path(out), start=start, end=end, scale=scale, population=population)
    return {"rows": summary["rows"], "persons": summary["persons"], "files": len(summary["files"])}


def pipeline_run(first: str, last: str) -> dict:
    """`run_months(first, last)` through Dagster, with the instance of $DAGSTER_HOME, after
    the settings check that `kaira run` makes first (it records the settings of a first
    run: without the record, a first backfill that fails before publishing leaves months
    that no later partial run may publish)."""
    import dagster as dg

    from pipelines.cli.commands import held_months
    from pipelines.cli.runner import run_months
    from pipelines.core.configuration import plan_run
    from pipelines.core.months import months_between
    from pipelines.core.settings import load_settings

    os.environ["KAIRA_WORKER"] = "off"  # the month in this process alone: a resident worker takes not even its dbt
    settings = load_settings()
    plan_run(settings, months_between(first, last), held_months(settings))
    instance = dg.DagsterInstance.get()
    outcome = run_months(first, last, instance=instance)
    return {"run_ids": outcome.run_ids, "success": outcome.success, "failure": outcome.failure}


def start_resident_worker(log_path: Path, socket_path: Path | None = None) -> subprocess.Popen:
    """`kaira worker` on `socket_path`, by default a socket of its own (KAIRA_WORKER_SOCKET,
    set here for the steps that follow), its output to `log_path`; returns once it listens."""
    socket_path = socket_path or Path(tempfile.mkdtemp(prefix="kaira-bench-worker-")) / "worker.sock"
    os.environ["KAIRA_WORKER_SOCKET"] = str(socket_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        worker = subprocess.Popen([str(Path(sys.executable).parent / "kaira"), "worker"], cwd=REPO_ROOT,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while not socket_path.exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"kaira worker did not start (exit {worker.poll()}): see {log_path}")
        time.sleep(0.1)
    return worker


def stop_resident_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    worker.wait(timeout=60)
    os.environ.pop("KAIRA_WORKER_SOCKET", None)


def _stat_fields(text: str) -> list[str]:
    """The fields of a /proc/<pid>/stat line after the command's name (which may hold
    spaces and parentheses): state, ppid, ... (proc(5)'s third field on)."""
    return text[text.rindex(")") + 2 :].split()


def children_cpu_s(pid: int) -> float:
    """CPU seconds of the children `pid` has reaped (cutime + cstime, /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = _stat_fields(stat.read())
    return (int(fields[13]) + int(fields[14])) / _CLOCK_TICKS


def resident_run(first: str, last: str) -> dict:
    """`kaira run --from first --to last` as a person types it, handed to the running
    `kaira worker` (KAIRA_WORKER_SOCKET); timed as its client waited."""
    command = [str(Path(sys.executable).parent / "kaira"), "run", "--from", first, "--to", last]
    began = time.monotonic()
    completed = subprocess.run(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client_wall_s = time.monotonic() - began
    print(completed.stdout, flush=True)
    if "run by the resident worker" not in completed.stdout:  # refused, or no worker: not this step's figure
        raise RuntimeError("the run did not go through the worker: see the log")
    run_ids = re.findall(r"Dagster runs: (\S+)", completed.stdout)
    failure = None if completed.returncode == 0 else f"kaira run exited {completed.returncode}"
    return {"run_ids": run_ids[-1].split(", ") if run_ids else [], "success": completed.returncode == 0,
            "failure": failure, "client_wall_s": client_wall_s}


# ----------------------------------------------------------------------------------------
# Rows in and out (parent, read-only)
# ----------------------------------------------------------------------------------------


def _month_dates(months: list[str]) -> list[date]:
    return [date(int(m[:4]), int(m[5:7]), 1) for m in months]


def _count(con, table: str, column: str, months: list[str]) -> int:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema || '.' || table_name = ?", [table]
    ).fetchone()[0]
    if not exists:
        return 0
    placeholders = ", ".join("?" for _ in months)
    sql = f"select count(*) from {table} where {column} in ({placeholders})"
    return con.execute(sql, _month_dates(months)).fetchone()[0]


def warehouse_rows(warehouse_dir: Path, months: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(rows in, rows out) of the months: raw rows loaded; mart and published rows."""
    import duckdb

    rows_in: dict[str, int] = {}
    rows_out: dict[str, int] = {}
    warehouse = warehouse_dir / "kaira.duckdb"
    if warehouse.exists():
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            rows_in["raw.jobseeker_spells"] = _count(con, "raw.jobseeker_spells", "delivery_month", months)
            rows_in["raw.kela_payments"] = _count(con, "raw.kela_payments", "delivery_month", months)
            rows_out["fct_person_month_status"] = _count(con, "marts.fct_person_month_status", "month", months)
            rows_out["fct_indicators_monthly"] = _count(con, "marts.fct_indicators_monthly", "month", months)
        finally:
            con.close()
    published = warehouse_dir / "published.duckdb"
    if published.exists():
        con = duckdb.connect(str(published), read_only=True)
        try:
            rows_out["published indicators_monthly"] = _count(con, "main.indicators_monthly", "month", months)
        finally:
            con.close()
    return rows_in, rows_out


# ----------------------------------------------------------------------------------------
# Inside a run: Dagster steps and dbt nodes (parent, after the step)
# ----------------------------------------------------------------------------------------


@dataclass
class DagsterStep:
    run_id: str
    job: str
    step_key: str
    status: str
    duration_s: float
    started_at: float

    def peak_rss_mb(self, samples: list[tuple[float, int, int]]) -> tuple[float | None, float | None]:
        """Peak (worker, tree) RSS sampled while the step ran; None without samples."""
        ended_at = self.started_at + self.duration_s
        inside = [(root, tree) for at, root, tree in samples if self.started_at <= at <= ended_at]
        if not inside:
            return None, None
        return max(r for r, _ in inside) / 2**20, max(t for _, t in inside) / 2**20


def dagster_steps(run_ids: list[str]) -> list[DagsterStep]:
    """Each step of the runs, with the duration Dagster recorded at its STEP_SUCCESS (or the
    time from STEP_START to STEP_FAILURE), in the order the steps started."""
    import dagster as dg

    instance = dg.DagsterInstance.get()
    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    steps: list[DagsterStep] = []
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        job = run.job_name if run else "?"
        started: dict[str, float] = {}
        last_event_at = 0.0
        for record in instance.get_records_for_run(run_id, of_type=kinds).records:
            entry = record.event_log_entry
            event = entry.dagster_event
            last_event_at = max(last_event_at, entry.timestamp)
            if event.event_type == dg.DagsterEventType.STEP_START:
                started[entry.step_key] = entry.timestamp
                continue
            begun = started.pop(entry.step_key, entry.timestamp)
            if event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                duration = event.event_specific_data.duration_ms / 1000
                steps.append(DagsterStep(run_id, job, entry.step_key, "success", duration, begun))
            else:
                steps.append(DagsterStep(run_id, job, entry.step_key, "failure", entry.timestamp - begun, begun))
        for step_key, begun in started.items():  # the process died inside the step
            steps.append(DagsterStep(run_id, job, step_key, "unfinished", max(0.0, time.time() - begun), begun))
    return sorted(steps, key=lambda step: step.started_at)


def runs_since(started_at: float) -> list[str]:
    """Ids of the runs of $DAGSTER_HOME's instance created after `started_at` (unix time),
    oldest first: the runs of a step whose worker died before it could report them."""
    import dagster as dg

    instance = dg.DagsterInstance.get()
    records = instance.get_run_records()
    return [r.dagster_run.run_id for r in sorted(records, key=lambda r: r.create_timestamp.timestamp())
            if r.create_timestamp.timestamp() >= started_at]


@dataclass
class DbtNode:
    unique_id: str
    status: str
    execution_s: float


def dbt_invocations(run_id: str) -> list[tuple[Path, float, list[DbtNode]]]:
    """The dbt invocations of a Dagster run: dagster-dbt gives each its own target path,
    <KAIRA_WAREHOUSE_DIR>/dbt_target/<op name>-<run id[:7]>-<uuid[:7]>/, holding run_results.json."""
    from pipelines.core.settings import load_settings

    target_dir = load_settings().warehouse_dir / "dbt_target"
    invocations = []
    for path in sorted(glob.glob(str(target_dir / f"*-{run_id[:7]}-*" / "run_results.json"))):
        results = json.loads(Path(path).read_text())
        nodes = [DbtNode(r["unique_id"], r["status"], r["execution_time"]) for r in results["results"]]
        invocations.append((Path(path).parent, results["elapsed_time"], nodes))
    return invocations


# ----------------------------------------------------------------------------------------
# Printing
# ----------------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[Any]], right_from: int = 1) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.rjust(w) if i >= right_from else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def print_steps(title: str, steps: list[StepFigures]) -> None:
    print(f"\n== {title}")
    print(f"   machine: {CORES} cores, {os.sysconf('SC_PHYS_PAGES') * _PAGE_SIZE / 2**30:.0f} GiB; "
          "peak RSS in MiB: worker = RUSAGE_SELF, child = largest RUSAGE_CHILDREN (dbt), "
          "tree = sampled sum over the process tree")
    print(_table(
        ["step", "months", "wall s", "proc s", "CPU s", "RSS worker", "RSS child", "RSS tree", "other CPU %",
         "load before/after"],
        [[s.name, _span(s.months), s.wall_s, s.process_s, s.cpu_s, s.worker_peak_mb, s.child_peak_mb,
          s.tree_peak_mb, 100 * s.other_cpu_share, f"{s.load_before:.2f}/{s.load_after:.2f}"] for s in steps],
        right_from=2,
    ))
    names_in = sorted({k for s in steps for k in s.rows_in})
    names_out = sorted({k for s in steps for k in s.rows_out}, key=_out_order)
    print("\n   rows in (loaded into raw, for the step's months) and rows out (for the step's months)")
    print(_table(
        ["step", *names_in, *names_out],
        [[s.name, *(s.rows_in.get(k) for k in names_in), *(s.rows_out.get(k) for k in names_out)] for s in steps],
    ))


def _out_order(name: str) -> tuple[int, str]:
    order = ("landing", "fct_person", "fct_ind", "published")
    return next((i for i, prefix in enumerate(order) if name.startswith(prefix)), len(order)), name


def _span(months: list[str]) -> str:
    return f"{months[0]}..{months[-1]} ({len(months)})" if months else ""


def print_run_breakdown(title: str, run_ids: list[str], samples: list[tuple[float, int, int]] | None = None,
                        top_tests: int = 5) -> None:
    """Dagster steps of the runs (duration, and the peak RSS sampled while each ran), then
    the dbt nodes of each dbt invocation."""
    steps = dagster_steps(run_ids)
    print(f"\n== {title}: Dagster steps (STEP_SUCCESS duration; peak RSS MiB sampled during the step)")
    print(_table(["job", "step", "status", "s", "RSS worker", "RSS tree"],
                 [[s.job, s.step_key, s.status, s.duration_s, *s.peak_rss_mb(samples or [])] for s in steps]))
    for run_id in run_ids:
        for target, elapsed, nodes in dbt_invocations(run_id):
            models = [n for n in nodes if not n.unique_id.startswith("test.")]
            tests = sorted((n for n in nodes if n.unique_id.startswith("test.")), key=lambda n: -n.execution_s)
            print(f"\n   dbt invocation {target.name}: dbt elapsed {elapsed:.1f} s "
                  f"(nodes {sum(n.execution_s for n in nodes):.1f} s, {len(tests)} tests "
                  f"{sum(n.execution_s for n in tests):.1f} s)")
            rows = [[n.unique_id, n.status, n.execution_s] for n in sorted(models, key=lambda n: -n.execution_s)]
            rows += [[n.unique_id, n.status, n.execution_s] for n in tests[:top_tests]]
            print(_table(["node", "status", "s"], rows))


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1]))
