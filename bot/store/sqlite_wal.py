"""SQLite's WAL checkpoints on a thread of their own, not in the commit that crosses the line.

In WAL mode every commit appends pages to the ``-wal`` file, and by default the commit that
takes it past 1,000 pages also copies them into the database file and syncs both (a
checkpoint). The bot's commits run on the event loop (bot.store.sqlite_inline), so each such
commit stopped the loop for the copy and two syncs: 5-8 ms every few hundred events under a
burst of webhook deliveries, longer on a slow disk, added to every request in flight
(docs/benchmarks.md). Here the same line is kept but the work moves: after a commit, the loop
reads how many WAL pages are not yet copied from SQLite's shared WAL index (the ``-shm`` file,
mapped once; its header is part of SQLite's documented file format,
https://www.sqlite.org/walformat.html), and from ``PAGES`` on it nudges ``Checkpoints``, whose
thread, ``GAP`` later, runs a PASSIVE checkpoint on a connection of its own. PASSIVE waits for
no reader and no writer, and ``sqlite3`` lets go of the GIL while SQLite works, so the loop keeps
serving meanwhile. A trickle of commits (a chat's messages, timers) wakes the thread as rarely as
SQLite's own checkpoint would run; nothing written, nothing woken. Where the index cannot be
read (no ``-shm`` file), every commit nudges. Nothing here may fail a commit that happened:
``WriteLock.committed`` logs what goes wrong and carries on.

A checkpoint lets the next writer start the WAL again from its beginning only when it copied
everything: under an endless stream of commits a PASSIVE one can keep missing the last few. So
the thread checkpoints again at once (``AGAIN`` times at most) while pages were committed
meanwhile, each time fewer; and when the WAL still holds more than ``FINISH_PAGES``, the next
commit of this process checkpoints once itself, holding the write lock
(``Checkpoints.committed``): little is left to copy by then, and the WAL starts again. Should the
thread not get to run at all (a loop that never waits), SQLite's own checkpoint on commit still
bounds the WAL, at ``SAFETY_PAGES`` instead of 1,000.
"""
from __future__ import annotations

import logging
import mmap
import os
import sqlite3
import struct
import threading
import urllib.parse

log = logging.getLogger("bot.store")

PAGES = 1000  # WAL pages not yet copied that ask for a checkpoint (SQLite's own line)
RECHECK = 256  # commits between looks at which -shm file is SQLite's now (one stat each time)
GAP = 0.1  # seconds from the nudge to the checkpoint: the commits meanwhile go into it
AGAIN = 3  # checkpoints back to back at most, each copying what was committed during the last
FINISH_PAGES = 8000  # a WAL this long after them: the next commit finishes the checkpoint (~32 MB)
SAFETY_PAGES = 32000  # the bot's connections' wal_autocheckpoint (SQLite's default: 1,000)
# The WAL index's header (walformat.html, 2.1): mxFrame, the last valid frame, at byte 16 of the
# first copy of the header; nBackfill, the frames already copied, at byte 96 (the checkpoint
# information after the header's two copies); both 32-bit, in the host's byte order.
_U32, _HEADER = struct.Struct("=I"), 136


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
        self._index: mmap.mmap | None = None
        self._inode = 0  # the mapped -shm file's (SQLite makes a new one when every connection closed)
        self._reads = 0

    def committed(self, conn: sqlite3.Connection) -> None:
        """After a commit on ``conn``, the process's write lock still held: the checkpoint the
        thread could not finish, finished here; one asked for once enough pages wait."""
        if self.finish:
            self.finish = False
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:  # another process's checkpoint: the thread tries again
                log.warning("WAL checkpoint failed: %s", exc)
        behind = self.behind()
        if behind is None or behind >= PAGES:
            self.nudge()

    def behind(self) -> int | None:
        """WAL pages not yet copied into the database file, as SQLite's WAL index says (a
        heuristic read without SQLite's locks: a torn read only moves a checkpoint), or None
        when there is no index to read. Every ``RECHECK`` reads the file is looked up again."""
        self._reads += 1
        if self._reads % RECHECK == 0 or self._reads == 1:
            self._remap()
        if self._index is None:
            return None
        return _U32.unpack_from(self._index, 16)[0] - _U32.unpack_from(self._index, 96)[0]

    def _remap(self) -> None:
        try:
            inode = os.stat(self.path + "-shm").st_ino
        except OSError:
            inode = 0
        if self._index is not None and inode == self._inode:
            return
        if self._index is not None:
            self._index.close()
            self._index = None
        if inode:
            try:
                with open(self.path + "-shm", "rb") as shm:
                    self._index = mmap.mmap(shm.fileno(), _HEADER, access=mmap.ACCESS_READ)
                    self._inode = os.fstat(shm.fileno()).st_ino
            except (OSError, ValueError):  # gone meanwhile, or shorter than the header
                self._index = None

    def nudge(self) -> None:
        """A checkpoint within ``gap``. Cheap when one is already due."""
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
        if self._index is not None:
            self._index.close()
            self._index = None

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._due.wait()
                if self._stopping.wait(self.gap):  # the commits of the next ``gap`` go into this checkpoint
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

