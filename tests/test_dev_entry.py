"""`python3 dev.py run` is the bot itself, not a wrapper around it: a SIGTERM sent to the process
the README's command started stops the bot (before, it ended the wrapper and left the bot
running, still holding its port)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sigterm_to_dev_run_stops_the_bot(tmp_path):
    port = _free_port()
    env = {**os.environ, "BOT_PORT": str(port), "BOT_DATA_DIR": str(tmp_path / "data")}
    env.pop("FEISHU_APP_ID", None)
    proc = subprocess.Popen([sys.executable, str(ROOT / "dev.py"), "run", "--sandbox"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        banner = ""
        while "sandbox running" not in banner:
            line = proc.stdout.readline()
            assert line, banner[-3000:]
            banner += line
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # it listens
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0  # stopped in order
        try:  # and nothing is left listening on its port
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            still_listening = True
        except OSError:
            still_listening = False
        assert not still_listening
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
