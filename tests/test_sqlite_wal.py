"""WAL checkpoints off the event loop (bot.store.sqlite_wal, issue 20): the bot's connections
leave checkpoints to a thread that a commit nudges once enough pages wait (read from SQLite's WAL
index), a trickle of commits wakes nothing, the WAL starts again
from its beginning under a steady stream of commits, an idle database has no thread at work,
and a database file removed under it is never created again."""
from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from datetime import datetime, timezone

from sqlalchemy import text

from bot.store import inbox, sqlite_wal
from bot.store.db import Database


def event(n: int) -> dict:
    return {"event_id": f"ev_{n}", "event_type": "im.message.receive_v1", "message_id": f"om_{n}",
            "payload": {"schema": "2.0", "event": {"text": "今天灯光不错 " + "x" * 2000, "n": n}}, "lane": f"oc_{n % 7}"}


async def until(check, seconds: float = 10.0) -> bool:
    """``check()`` became true within ``seconds`` (the thread works on the real clock)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def wal_bytes(db: Database) -> int:
    path = db.url.split(":///", 1)[1] + "-wal"
    return os.path.getsize(path) if os.path.exists(path) else 0


async def test_a_trickle_of_commits_wakes_no_thread(sqlite_file_db):
    db = sqlite_file_db
    writer = inbox.InboxWriter(db)
    for n in range(20):  # about 60 pages: far below the line
        await writer.store(now=datetime.now(timezone.utc), **event(n))
    checkpoints = db.write_lock.checkpoints
    assert 0 < checkpoints.behind() < sqlite_wal.PAGES
    assert checkpoints._thread is None and checkpoints.done == 0


async def test_commits_leave_checkpoints_to_the_thread(sqlite_file_db, monkeypatch):
    monkeypatch.setattr(sqlite_wal, "PAGES", 50)
    db = sqlite_file_db
    checkpoints = db.write_lock.checkpoints
    assert checkpoints is not None and checkpoints._thread is None  # nothing written yet: no thread
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == sqlite_wal.SAFETY_PAGES
    writer = inbox.InboxWriter(db)
    now = datetime.now(timezone.utc)
    await asyncio.gather(*(writer.store(now=now, **event(n)) for n in range(50)))
    assert await until(lambda: checkpoints.done >= 1)
    assert checkpoints.behind() < 50  # copied (the WAL index says so too)
    # Everything is in the database file now: a reader of the file alone (no WAL) sees the rows.
    path = db.url.split(":///", 1)[1]
    copy = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    assert copy.execute("SELECT count(*) FROM inbox").fetchone()[0] == 50
    copy.close()
    done = checkpoints.done
    await asyncio.sleep(3 * sqlite_wal.GAP)
    assert checkpoints.done == done  # no commit, no checkpoint: an idle bot has an idle thread


async def test_the_wal_starts_again_under_a_steady_stream_of_commits(sqlite_file_db, monkeypatch):
    monkeypatch.setattr(sqlite_wal, "FINISH_PAGES", 20)
    monkeypatch.setattr(sqlite_wal, "PAGES", 100)
    db = sqlite_file_db
    writer = inbox.InboxWriter(db)
    now = datetime.now(timezone.utc)
    for batch in range(60):  # about 6 MB of rows, a batch every few ms
        await asyncio.gather(*(writer.store(now=now, **event(batch * 50 + n)) for n in range(50)))
        await asyncio.sleep(0.005)  # (in service the loop waits on the network in between)
    assert db.write_lock.checkpoints.done >= 1
    assert wal_bytes(db) < 8_000_000  # without a restart it holds every page written: some 17 MB


async def test_a_commit_finishes_what_the_thread_could_not(sqlite_file_db):
    db = sqlite_file_db
    checkpoints = db.write_lock.checkpoints
    checkpoints.finish = True
    writer = inbox.InboxWriter(db)
    await writer.store(now=datetime.now(timezone.utc), **event(1))
    assert checkpoints.finish is False  # that commit checkpointed itself
    path = db.url.split(":///", 1)[1]
    copy = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    assert copy.execute("SELECT count(*) FROM inbox").fetchone()[0] == 1
    copy.close()


async def test_a_removed_file_is_not_created_again(tmp_path, caplog):
    path = tmp_path / "gone.db"
    checkpoints = sqlite_wal.Checkpoints(str(path), gap=0.01)
    checkpoints.committed(None)  # no WAL index to read: every commit nudges
    assert checkpoints.behind() is None
    assert await until(lambda: "WAL checkpoint failed" in caplog.text)
    checkpoints.close()
    assert not path.exists() and checkpoints.finish is True
    assert checkpoints._thread is not None and not checkpoints._thread.is_alive()  # stopped by close


async def test_close_stops_the_thread(tmp_path, sqlite_template, monkeypatch):
    import shutil
    monkeypatch.setattr(sqlite_wal, "PAGES", 1)
    path = tmp_path / "bot.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    await inbox.InboxWriter(db).store(now=datetime.now(timezone.utc), **event(1))
    thread = db.write_lock.checkpoints._thread
    assert thread is not None and thread.is_alive()
    await db.close()
    assert not thread.is_alive()


def test_a_new_wal_index_is_read_after_sqlite_made_it_again(tmp_path, monkeypatch):
    """When every connection to the file closed, SQLite removes the -shm file and the next
    connection makes a new one: the mapped old one would say nothing more."""
    monkeypatch.setattr(sqlite_wal, "RECHECK", 1)
    path = str(tmp_path / "x.db")
    checkpoints = sqlite_wal.Checkpoints(path)

    def write(conn: sqlite3.Connection, rows: int) -> None:
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 3000,) for _ in range(rows)])

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (v TEXT)")
    write(conn, 10)
    first = checkpoints.behind()
    assert first and first > 0
    conn.close()  # the last connection: SQLite checkpoints and removes -wal and -shm
    assert not os.path.exists(path + "-shm")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    write(conn, 40)
    assert checkpoints.behind() > first  # the new index's count, not the old one's
    conn.close()
    checkpoints.close()


async def test_trouble_with_checkpoints_never_fails_a_commit(sqlite_file_db, caplog):
    db = sqlite_file_db

    def broken(conn) -> None:
        raise OSError("the WAL index went away")

    db.write_lock.checkpoints.committed = broken
    assert await inbox.InboxWriter(db).store(now=datetime.now(timezone.utc), **event(1)) is True
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar() == 1
    assert "WAL checkpoint not asked for" in caplog.text
