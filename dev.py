#!/usr/bin/env python3
"""Set-up and entry point for a fresh machine (only Python and pip needed).

    python3 dev.py run     create .venv if needed, install, start the bot (sandbox without credentials)
    python3 dev.py test    create .venv if needed, install with test extras, run the test suite

Any extra arguments are passed on (to `liveops run` or to pytest).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".liveops-installed"


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


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "run"
    rest = argv[1:]
    if what not in ("run", "test"):
        print(__doc__)
        return 2
    ensure_env()
    os.chdir(ROOT)
    if what == "run":
        cmd = [str(BIN / "liveops"), "run", *rest]
    else:
        cmd = [str(BIN / "python"), "-m", "pytest", *(rest or ["-q"])]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
