"""SQLite's WAL checkpoints on a thread of their own, not in the commit that crosses the line.

In WAL mode every commit appends pages to the ``-wal`` file, and by default the commit that
takes it past 1,000 pages also copies them into the database file and syncs both (a
checkpoint). The bot's commits run on the event loop (bot.store.sqlite_inline), so each such
commit stopped the loop for the copy and two syncs: 5-8 ms every few hundred events under a
burst of webhook deliveries, longer on a slow disk, added to every request in flight
(docs/benchmarks.md). Here the bot's own connections leave checkpoints to a thread: a commit
nudges ``Checkpoints``, whose thread, ``GAP`` later, runs
a PASSIVE checkpoint on a connection of its own. PASSIVE waits for no reader and no writer,
and ``sqlite3`` lets go of the GIL while SQLite works, so the loop keeps serving meanwhile.
Nothing is nudged while nothing is written: an idle bot has an idle thread.

A checkpoint lets the next writer start the WAL again from its beginning only when it copied
everything: under an endless stream of commits a PASSIVE one can keep missing the last few. So
the thread checkpoints again at once (``AGAIN`` times at most) while pages were committed
meanwhile, each time fewer; and when the WAL still holds more than ``FINISH_PAGES``, the next
commit of this process checkpoints once itself, holding the write lock
(``WriteLock.committed``): little is left to copy by then, and the WAL starts again. Should the thread not get to run at all (a
loop that never waits), SQLite's own checkpoint on commit still bounds the WAL, at
``SAFETY_PAGES`` instead of 1,000.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import urllib.parse

log = logging.getLogger("bot.store")

GAP = 0.1  # seconds from the first commit after a checkpoint to the next checkpoint
AGAIN = 3  # checkpoints back to back at most, each copying what was committed during the last
FINISH_PAGES = 8000  # a WAL this long after them: the next commit finishes the checkpoint (~32 MB)
SAFETY_PAGES = 32000  # the bot's connections' wal_autocheckpoint (SQLite's default: 1,000)


class Checkpoints:
    """The checkpoint thread of one database file in this process (started at the first nudge)."""

    def __init__(self, path: str, gap: float = GAP) -> None:
        self.path, self.gap = path, gap
        self.finish = False  # the next commit should checkpoint (see the module docstring)
        self.done = 0  # checkpoints run (for tests and the benchmark)
        self._due = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def nudge(self) -> None:
        """A commit happened: a checkpoint within ``gap``. Cheap when one is already due."""
        if self._due.is_set():
            return
        if self._thread is None:
            with self._start:
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                    self._thread.start()
        self._due.set()

    def close(self) -> None:
        self._stopping.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._due.wait()
                if self._stopping.wait(self.gap):  # commits of the next ``gap`` go into this checkpoint
                    return
                self._due.clear()  # (a commit from here on asks for the next one)
                try:
                    if conn is None:  # mode=rw: never creates a file that was removed meanwhile
                        conn = sqlite3.connect(f"file:{urllib.parse.quote(self.path)}?mode=rw", uri=True,
                                               timeout=0, isolation_level=None, check_same_thread=False)
                    for _ in range(AGAIN):  # what was written meanwhile, while there is some
                        _busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        self.done += 1
                        if copied >= pages:
                            break
                    self.finish = pages > FINISH_PAGES
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint failed: %s", exc)
                    if conn is not None:
                        conn.close()
                        conn = None
                    self.finish = True  # the writers' own checkpoint meanwhile
        finally:
            if conn is not None:
                conn.close()


def finish(conn: sqlite3.Connection, checkpoints: Checkpoints) -> None:
    """The checkpoint a commit runs itself when the thread's keep falling short (holding the
    process's write lock, so nothing of this process writes meanwhile)."""
    checkpoints.finish = False
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.Error as exc:  # another process's checkpoint: the thread tries again
        log.warning("WAL checkpoint failed: %s", exc)
