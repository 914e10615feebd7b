#!/usr/bin/env python3
"""Set-up and entry points for a fresh machine (only Python >= 3.11 and pip needed).

    python3 dev.py run        create .venv if needed, install, start the bot (the local sandbox, with
                              --sandbox, when no FEISHU_APP_ID is set in the environment or .env)
    python3 dev.py test       the same set-up with test extras, then the whole test suite (pytest; about
                              7 minutes on 2 cores, see docs/benchmarks.md); `test -k webhook` runs a part
    python3 dev.py bench      the same set-up, then every benchmark (tests/bench/run_all.py) and one table
    python3 dev.py liveops …  any `liveops` sub-command inside .venv, e.g. `python3 dev.py liveops doctor`,
                              `python3 dev.py liveops check-config`, `python3 dev.py liveops migrate`
    python3 dev.py lint       ruff (bot/ and tests/) and mypy (bot/), as configured in pyproject.toml
    python3 dev.py docs       regenerate the tables in README.md and docs/ that come from the code
                              (`docs --check` only reports what is out of date)

Any extra arguments are passed on (to `liveops run`, pytest or the sub-command). The first run
creates .venv and installs the dependencies; later runs reinstall only when pyproject.toml changed.
Without dev.py, activate the environment first (`source .venv/bin/activate`) or call
`.venv/bin/liveops` and `.venv/bin/python` directly. run and test also fetch the pinned VChart
browser build into .cache/vchart/ (git-ignored) for the sandbox page's charts, when npm can.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".liveops-installed"
# @visactor/vchart (MIT), the library Feishu draws card charts with; the sandbox page only. Never committed.
VCHART_VERSION = "2.1.7"
VCHART_SHA256 = "6474a89614d83c5152817f9f59b7bec8b3295f2ae051e97b65ee8b37268bba91"  # package/build/index.min.js
VCHART = ROOT / ".cache" / "vchart" / "vchart.min.js"
ENTRIES = ("run", "test", "bench", "liveops", "docs", "lint")


def ensure_env() -> None:
    if sys.version_info < (3, 11):
        sys.exit("LiveOps needs Python 3.11 or newer (found %s)." % sys.version.split()[0])
    if not (BIN / "python").exists():
        print("creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("installing dependencies into .venv ...", flush=True)
        pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.check_call(pip + ["--upgrade", "pip"])
        subprocess.check_call(pip + ["-e", f"{ROOT}[test]"])
        STAMP.write_text(wanted)


def fetch_vchart() -> None:
    """Put VChart's UMD build where the sandbox serves it; on any failure say so in one line and go on."""
    if VCHART.exists() and hashlib.sha256(VCHART.read_bytes()).hexdigest() == VCHART_SHA256:
        return
    npm = shutil.which("npm")
    if not npm:
        print("charts: no npm here, the sandbox page draws charts with its own SVG", flush=True)
        return
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pack = [npm, "pack", f"@visactor/vchart@{VCHART_VERSION}", "--silent", "--fetch-retries=0",
                    "--fetch-timeout=60000"]
            subprocess.run(pack, cwd=tmp, check=True, capture_output=True, timeout=120)
            with tarfile.open(next(Path(tmp).glob("*.tgz"))) as tar:
                data = tar.extractfile("package/build/index.min.js").read()
        if hashlib.sha256(data).hexdigest() != VCHART_SHA256:
            raise ValueError("checksum mismatch")
        VCHART.parent.mkdir(parents=True, exist_ok=True)
        part = VCHART.with_name(f"{VCHART.name}.{os.getpid()}.part")
        part.write_bytes(data)
        os.replace(part, VCHART)
        print(f"charts: fetched VChart {VCHART_VERSION} into {VCHART.parent.relative_to(ROOT)}/", flush=True)
    except (OSError, subprocess.SubprocessError, tarfile.TarError, StopIteration, KeyError, AttributeError,
            ValueError) as exc:
        print(f"charts: could not fetch VChart {VCHART_VERSION} ({exc.__class__.__name__}), "
              "the sandbox page draws charts with its own SVG", flush=True)


def has_credentials() -> bool:
    """FEISHU_APP_ID set in the environment or in .env (as `liveops` reads them)."""
    if os.environ.get("FEISHU_APP_ID", "").strip():
        return True
    env = ROOT / ".env"
    if not env.is_file():
        return False
    for line in env.read_text("utf-8", "replace").splitlines():
        key, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and key.strip() == "FEISHU_APP_ID" and value.strip().strip("'\"").strip():
            return True
    return False


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "run"
    rest = argv[1:]
    if what not in ENTRIES:
        print(__doc__)
        return 0 if what in ("-h", "--help", "help") else 2
    ensure_env()
    if what in ("run", "test"):
        fetch_vchart()
    os.chdir(ROOT)
    if what == "run":
        # A fresh machine has no Feishu app: start the local sandbox (`liveops run` alone never does).
        sandbox = [] if has_credentials() or "--sandbox" in rest else ["--sandbox"]
        cmd = [str(BIN / "liveops"), "run", *sandbox, *rest]
    elif what == "liveops":
        cmd = [str(BIN / "liveops"), *rest]
    elif what == "docs":
        cmd = [str(BIN / "python"), "-m", "bot.docgen", *rest]
    elif what == "lint":
        ruff = subprocess.call([str(BIN / "ruff"), "check", "bot", "tests", *rest])
        return subprocess.call([str(BIN / "mypy")]) or ruff
    elif what == "bench":
        cmd = [str(BIN / "python"), "-m", "tests.bench.run_all", *rest]
    else:
        if not rest:  # the figure lives in the docstring above (and docs/benchmarks.md)
            minutes = re.search(r"about\s+(\d+)\s+minutes", __doc__ or "")
            print(f"running the whole test suite (about {minutes.group(1) if minutes else '?'} minutes on 2 cores; "
                  "python3 dev.py test -k NAME runs a part)", flush=True)
        cmd = [str(BIN / "python"), "-m", "pytest", *(rest or ["-q"])]
    if os.name == "nt":  # no exec there (it would start a new process and return at once)
        return subprocess.call(cmd)
    # This process becomes the command: a SIGTERM (a process manager, `kill`) reaches the bot and
    # stops it in order, instead of ending this wrapper and leaving the bot running.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(cmd[0], cmd)
    return 0  # not reached: execv does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
