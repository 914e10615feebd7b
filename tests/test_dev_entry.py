"""Stopping the bot by signal, as a process manager does: `python3 dev.py run` is the bot itself,
not a wrapper around it (a SIGTERM to the README's command used to end the wrapper and leave the
bot running on its port), and a signal while the bot is still starting ends it at once instead
of being lost or held until start-up is over (bot.server.StopSignals)."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]


def _dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _ready_without_setup() -> bool:
    """dev.py would neither install packages nor fetch VChart (what `dev.py test` did already)."""
    dev = _dev()
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    installed = dev.STAMP.exists() and dev.STAMP.read_text() == wanted
    charts = not shutil.which("npm") or (
        dev.VCHART.exists() and hashlib.sha256(dev.VCHART.read_bytes()).hexdigest() == dev.VCHART_SHA256)
    return installed and charts


class Started:
    """A process in a session of its own, its output collected by a thread (a read never blocks
    the test); killed with all it started when the test ends."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.output = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.output += line

    def wait_for(self, check, what: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert self.proc.poll() is None, f"exited {self.proc.returncode} before {what}:\n{self.output[-3000:]}"
            assert time.monotonic() < deadline, f"no {what} in {timeout:.0f} s:\n{self.output[-3000:]}"
            time.sleep(0.05)

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self.proc.stdout.close()  # type: ignore[union-attr]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def _env(tmp_path: Path, port: int, **more: str) -> dict[str, str]:
    """A minimal environment: nothing of the developer's own (FEISHU_*, BOT_*) leaks in."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "BOT_PORT": str(port),
            "BOT_DATA_DIR": str(tmp_path / "data"), **more}


def test_sigterm_to_dev_run_stops_the_bot(tmp_path):
    if not _ready_without_setup():
        pytest.skip("dev.py would install packages or fetch VChart first (run python3 dev.py test)")
    port = free_port()
    bot = Started([sys.executable, str(ROOT / "dev.py"), "run", "--sandbox"], _env(tmp_path, port))
    try:
        bot.wait_for(lambda: "sandbox running" in bot.output, "banner")
        assert _listening(port)
        bot.proc.send_signal(signal.SIGTERM)  # to the process the README's command started
        assert bot.proc.wait(timeout=30) == 0, bot.output[-3000:]  # stopped in order
        assert not _listening(port)  # and nothing of it is left on its port
    finally:
        bot.close()


def test_a_stop_signal_while_starting_ends_it_at_once(tmp_path):
    """Start-up waits on Feishu here (its address answers nothing: the identity call has seconds
    of timeout and retries), with the webhook already listening. A SIGTERM then ends the process
    at once and cleanly: not the signal's default action, and not held until start-up is over."""
    silent = socket.socket()  # a "Feishu" that takes connections and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = free_port()
    env = _env(tmp_path, port, FEISHU_APP_ID="cli_starting", FEISHU_APP_SECRET="s",
               FEISHU_DOMAIN=f"http://127.0.0.1:{silent.getsockname()[1]}", BOT_TRANSPORT="webhook",
               FEISHU_VERIFICATION_TOKEN="t", FEISHU_ENCRYPT_KEY="k",
               DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", PYTHONPATH=str(ROOT))
    bot = Started([sys.executable, "-m", "bot", "run"], env)
    try:
        bot.wait_for(lambda: _listening(port), "listening socket")
        time.sleep(0.5)  # well inside the identity call's wait
        started = time.monotonic()
        bot.proc.send_signal(signal.SIGTERM)
        assert bot.proc.wait(timeout=30) == 0, bot.output[-3000:]
        assert time.monotonic() - started < 5, "held until start-up gave up"
    finally:
        bot.close()
        silent.close()
