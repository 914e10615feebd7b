"""Run every benchmark script (tests/bench/bench_*.py) and print one table of figures.

    python3 dev.py bench                       # all, with quick arguments (~6 minutes here)
    python -m tests.bench.run_all --only webhook,replicas
    python -m tests.bench.run_all --full       # each script's own defaults (long)
    python3 dev.py bench --write docs/benchmarks.md   # and put the table into that page

With ``--write FILE`` the table (with the date, the machine's cores and load, and the arguments)
replaces what stands between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` in FILE: the
figures in docs/benchmarks.md are that run's output, never typed in by hand.

Convention: a bench script prints its human-readable output, then as its last stdout line
``RESULT {"bench": name, "figures": [{"name", "value", "unit", "target", "ok"}]}`` (ok is
true, false or null when the figure has no target). A new bench_*.py is picked up as it is;
QUICK below only shortens the ones whose defaults take long. Exit status 1 when a script
failed, printed no RESULT, or a figure missed its target.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# Arguments for a run of a few minutes in all; scripts not listed run with their defaults.
QUICK: dict[str, list[str]] = {
    "timers": ["--count", "20000", "--spread", "60", "--grace", "30"],
    "briefing": ["--groups", "1000"],  # the figure; ~2 min with the wait for the next minute
    "replicas": ["--events", "3000"],
    "outage": ["--seconds", "30"],
    "webhook": ["--requests", "3000", "--rounds", "5", "--reply", "--both"],  # as shipped, both databases; issue 20's load
    "cpu": ["--idle", "20", "--events", "150", "--timers", "150"],
}
PG_CAPABLE = {"webhook", "timers", "briefing", "cpu"}  # scripts with a --pg switch (SQLite otherwise)


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def run_one(name: str, args: list[str], timeout: float) -> tuple[dict | None, str, float]:
    """Run one script, echoing its output; returns (RESULT object or None, problem, seconds)."""
    cmd = [sys.executable, "-m", f"tests.bench.bench_{name}", *args]
    print(f"\n=== {name}: {' '.join(cmd[2:])}", flush=True)
    started = time.monotonic()
    result = None
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    except OSError as exc:
        return None, f"could not start: {exc}", 0.0
    assert proc.stdout is not None
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        for line in proc.stdout:
            if line.startswith("RESULT "):
                try:
                    result = json.loads(line[len("RESULT "):])
                except ValueError:
                    result = None
            else:
                print("  " + line, end="", flush=True)
        code = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    elapsed = time.monotonic() - started
    if elapsed >= timeout:
        return result, f"killed after {timeout:.0f} s", elapsed
    if result is None:
        return None, f"no RESULT line (exit {code})", elapsed
    return result, "" if code in (0, 1) else f"exit {code}", elapsed


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "—" if value is None else str(value)


def table(rows: list[list[str]]) -> str:
    head = ["bench", "figure", "value", "unit", "target", "ok"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    right = {2}
    out = []
    for r in [head, ["-" * w for w in widths], *rows]:
        out.append("  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(line.rstrip() for line in out)


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def markdown(rows: list[list[str]], heading: str) -> str:
    """The table as the docs show it: generated, with the conditions of the run."""
    out = [heading, "", "| bench | figure | value | unit | target | ok |", "|---|---|--:|---|---|:-:|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def write_into(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{path} has no {START} … {END} section to fill")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    path.write_text(pattern.sub(lambda _m: f"{START}\n{block}\n{END}", text, count=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated bench names (e.g. webhook,replicas)")
    ap.add_argument("--skip", default="", help="comma-separated bench names to leave out")
    ap.add_argument("--full", action="store_true", help="each script's own default arguments")
    ap.add_argument("--pg", action="store_true", help="PostgreSQL for the scripts that have a --pg switch")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per script (1800)")
    ap.add_argument("--write", metavar="FILE", help="put the table between the bench markers in FILE "
                                                    "(docs/benchmarks.md)")
    args = ap.parse_args(argv)

    names = discover()
    load = os.getloadavg()[0]
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            print(f"unknown bench: {', '.join(unknown)}; there are: {', '.join(names)}")
            return 2
        names = wanted
    names = [n for n in names if n not in {s.strip() for s in args.skip.split(",")}]

    rows: list[list[str]] = []
    failed = False
    summary: list[str] = []
    for name in names:
        extra = [] if args.full else QUICK.get(name, [])
        if args.pg and name in PG_CAPABLE:
            extra = [*extra, "--pg"]
        result, problem, elapsed = run_one(name, extra, args.timeout)
        summary.append(f"{name} {elapsed:.0f} s")
        if result is None:
            rows.append([name, problem, "", "", "", "error"])
            failed = True
            continue
        for fig in result.get("figures", []):
            ok = fig.get("ok")
            failed |= ok is False
            rows.append([result.get("bench", name), str(fig.get("name", "")), fmt(fig.get("value")),
                         str(fig.get("unit") or ""), fmt(fig.get("target")),
                         "✓" if ok is True else "✗" if ok is False else "—"])
        if problem:
            rows.append([name, problem, "", "", "", "error"])
            failed = True
    print(f"\n{os.cpu_count()} CPU cores; {', '.join(summary)}"
          f"{'' if args.full else ' (quick arguments; --full for the defaults)'}\n")
    print(table(rows))
    if args.write:
        how = "quick arguments" if not args.full else "each script's defaults"
        heading = (f"Generated by `python3 dev.py bench{' --full' if args.full else ''}"
                   f"{' --pg' if args.pg else ''}` on {datetime.date.today().isoformat()}: "
                   f"{os.cpu_count()} CPU cores, load average {load:.1f} at the start, {how}; "
                   f"{', '.join(summary)}.")
        write_into(ROOT / args.write, markdown(rows, heading))
        print(f"\nwrote the table into {args.write}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
