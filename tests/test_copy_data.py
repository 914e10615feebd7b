"""``liveops copy-data``: every row moves from SQLite to PostgreSQL (or SQLite) with its id,
sequences continue after the copied ids, a non-empty target is refused unless --force."""
from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

import bot.store.tables  # noqa: F401
from bot import cli
from bot.timers.models import Timer
from bot.schedule.models import Room, Stream
from bot.store.copy import CopyError, copy_data
from bot.store.db import Database
from bot.store.models import InboxEvent, OutboxMessage, RoleGrant
from tests import scratch_pg
from tests.conftest import PG_ADMIN_URL

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)


async def _scratch_pg(name: str) -> str | None:
    return await scratch_pg.create(PG_ADMIN_URL, name)


async def _drop_pg(name: str) -> None:
    await scratch_pg.drop(PG_ADMIN_URL, name)


async def _make_source(path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    await db.migrate()
    async with db.session() as s:
        for i in range(3):
            s.add(InboxEvent(event_id=f"ev{i}", message_id=f"om{i}", event_type="im.message.receive_v1",
                             lane="oc_team", payload={"n": i, "text": "你好"}, received_at=T0))
            s.add(OutboxMessage(key=f"k{i}", op="send", lane="oc_team", target="oc_team",
                                payload={"text": f"回复 {i}"}, created_at=T0, next_attempt_at=T0))
        s.add(RoleGrant(open_id="ou_ops", role="ops", granted_by="ou_admin", granted_at=T0))
        s.add(RoleGrant(open_id="ou_tech", role="tech", granted_by="ou_admin", granted_at=T0))
        room = Room(name="1号间", aliases=["A1", "一号"], platform="抖音", created_at=T0)
        s.add(room)
        await s.flush()
        s.add(Stream(room_id=room.id, starts_at=T0, ends_at=T0 + timedelta(hours=4), brand="品牌",
                     target_gmv=12_000_000_000, chat_id="oc_team", created_at=T0, updated_at=T0))
        s.add(Timer(key="stream:1:t-2h", kind="stream.reminder", payload={"stream": 1},
                    next_due=T0 - timedelta(hours=2), rule=None, chat_id="oc_team",
                    created_at=T0, updated_at=T0))
    # A gap in the ids: the copy must keep them, not renumber.
    async with db.session() as s:
        await s.execute(InboxEvent.__table__.delete().where(InboxEvent.id == 2))
    await db.close()
    return url


async def _dump(url: str) -> dict[str, list[dict]]:
    db = Database(url)
    out = {}
    async with db.engine.connect() as conn:
        for t in SQLModel.metadata.sorted_tables:
            rows = (await conn.execute(select(t).order_by(*t.primary_key.columns))).all()
            out[t.name] = [dict(r._mapping) for r in rows]
    await db.close()
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
async def target(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"
        return
    name = f"liveops_copy_{os.getpid()}"
    url = await _scratch_pg(name)
    if url is None:
        pytest.skip(scratch_pg.why(PG_ADMIN_URL))
    yield url
    await _drop_pg(name)


async def test_copy_keeps_rows_and_ids_and_refuses_a_second_time(tmp_path, target):
    src = await _make_source(tmp_path / "source.db")
    lines: list[str] = []
    counts = await copy_data(src, target, out=lines.append)
    assert counts["inbox"] == 2 and counts["outbox"] == 3 and counts["role_grants"] == 2
    assert counts["rooms"] == 1 and counts["streams"] == 1 and counts["timers"] == 1
    assert "  inbox: 2" in lines and lines[-1].startswith("done: 10 rows")
    before, after = await _dump(src), await _dump(target)
    assert after == before
    assert [r["id"] for r in after["inbox"]] == [1, 3]

    # New rows on the target continue after the copied ids.
    db = Database(target)
    async with db.session() as s:
        ev = InboxEvent(event_id="new", event_type="x", payload={}, received_at=T0)
        grant = RoleGrant(open_id="ou_new", role="ops", granted_by="ou_admin", granted_at=T0)
        room = Room(name="2号间", created_at=T0)
        s.add_all([ev, grant, room])
        await s.flush()
        assert (ev.id, grant.id, room.id) == (4, 3, 2)
    await db.close()

    with pytest.raises(CopyError, match="already has rows.*--force"):
        await copy_data(src, target, out=lines.append)

    # --force replaces what the target holds.
    await copy_data(src, target, force=True, out=lines.append)
    assert await _dump(target) == before


async def test_empty_target_sequence_starts_at_one(tmp_path, target):
    src = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    counts = await copy_data(src, target, out=lambda _line: None)
    assert set(counts.values()) == {0}
    db = Database(target)
    async with db.session() as s:
        grant = RoleGrant(open_id="ou_a", role="ops", granted_by="ou_b", granted_at=T0)
        s.add(grant)
        await s.flush()
        assert grant.id == 1
        assert (await s.execute(select(func.count()).select_from(Timer))).scalar_one() == 0
    await db.close()


def test_cli_bad_to_url_is_one_line_and_exit_2(tmp_path, capsys):
    code = cli.main(["copy-data", "--from", f"sqlite:///{tmp_path / 'a.db'}", "--to", "mysql://x/y"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("配置错误 / configuration error: --to:")


def test_cli_refuses_non_empty_target_with_exit_2(tmp_path, capsys):
    src = asyncio.run(_make_source(tmp_path / "s.db"))
    dst = f"sqlite:///{tmp_path / 'd.db'}"
    assert cli.main(["copy-data", "--from", src, "--to", dst]) == 0
    out = capsys.readouterr().out
    assert "  timers: 1" in out and "counts verified" in out
    assert cli.main(["copy-data", "--from", src, "--to", dst]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--force" in err
    assert cli.main(["copy-data", "--from", src, "--to", dst, "--force"]) == 0
