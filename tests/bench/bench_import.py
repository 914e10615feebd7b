"""Benchmark importing a large per-minute trend export: parsing, then the whole import into a
database (``bot.data.importer.import_file``: parse, ledger, chunked insert, commit).

Run:  .venv/bin/python tests/bench/bench_import.py [--rows 100000] [--repeat 3]

What it does: writes a trend CSV of ``--rows`` per-minute rows (時间 as "2026-11-20 19:00",
the Compass trend columns, realistic values, about 4 MB for 100,000 rows) into a temporary
directory, then
  * times ``read_tables`` on it (best of ``--repeat``, without tracemalloc),
  * times the same file with bare "HH:MM" times (midnight roll-over path),
  * measures peak Python allocations with tracemalloc for ``read_tables`` (every row kept)
    and for ``iter_trend_rows`` (streamed, rows dropped as they come),
  * reports the process's peak RSS (ru_maxrss) before and after the read_tables runs.
  * times the full import of the file into a fresh SQLite database (or ``--pg``: a scratch
    PostgreSQL database) for one stream, with tracemalloc's peak for that import.
Target: read_tables on 100,000 rows well under 2 s.

The last line is machine-readable: ``RESULT {"bench": "import", "figures": [...]}``.
``generate_trend_csv(path, rows)`` is importable for benches that add the database insert.
"""
from __future__ import annotations

import argparse
import hashlib
from datetime import datetime, timedelta
import json
import math
from pathlib import Path
import random
import resource
import sys
import tempfile
import time
import tracemalloc

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.data.parse import TREND, iter_trend_rows, read_tables  # noqa: E402

START = datetime(2026, 11, 20, 19, 0)
TARGET_S = 2.0


def generate_trend_csv(path: str | Path, rows: int, *, start: datetime = START, seed: int = 7,
                       bare_times: bool = False) -> Path:
    """Write a per-minute trend CSV with ``rows`` data rows (header 时间, 在线人数, 进入人数,
    离开人数, 成交金额(元), 成交订单数, 新增粉丝数). Times are "YYYY-MM-DD HH:MM", or "HH:MM"
    with ``bare_times`` (then a reader needs ``default_date=start.date()``). Returns the path."""
    rng = random.Random(seed)
    path = Path(path)
    online = 300
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("时间,在线人数,进入人数,离开人数,成交金额(元),成交订单数,新增粉丝数\n")
        lines = []
        for i in range(rows):
            when = start + timedelta(minutes=i)
            target = 320 + 250 * math.sin(i / 37) + 120 * math.sin(i / 5.3)
            entering = max(0, round(online * 0.8 + (target - online) * 0.5 + rng.randint(-20, 20)))
            leaving = max(0, min(online + entering, round(online * 0.8 + rng.randint(-20, 20))))
            online = online + entering - leaving
            orders = rng.randint(0, 12)
            gmv = orders * rng.randint(3000, 30000) / 100
            label = when.strftime("%H:%M") if bare_times else when.strftime("%Y-%m-%d %H:%M")
            lines.append(f"{label},{online},{entering},{leaving},{gmv:.2f},{orders},{rng.randint(0, 5)}\n")
            if len(lines) >= 10_000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)
    return path


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        result = None            # drop the previous run's rows before the next run
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # ru_maxrss is KiB on Linux


def traced_peak(fn) -> float:
    """Peak bytes allocated by Python while ``fn`` runs (tracemalloc; slows the run down)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def full_import(data: bytes, rows: int, pg: bool) -> tuple[float, float, int]:
    """(seconds, peak RSS growth in MB, rows stored) of one import into a fresh database."""
    import os
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select, text

    from bot.data import importer
    from bot.data.models import TrendPoint
    from bot.schedule.models import ENDED, Room, Stream
    from bot.store.db import Database

    tz = ZoneInfo("Asia/Shanghai")
    admin_url = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    name = f"liveops_bench_import_{os.getpid()}"
    if pg:
        admin = Database(admin_url)
        async with admin.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.close()
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='bench_import_db_')) / 'bench.db'}"
    db = Database(url)
    await db.migrate()
    start = START.replace(tzinfo=tz)
    now = datetime.now(tz)
    async with db.session() as session:
        room = Room(name="1号直播间", aliases=[], created_at=now)
        session.add(room)
        await session.flush()
        stream = Stream(room_id=room.id, starts_at=start, ends_at=start + timedelta(minutes=rows),
                        status=ENDED, created_at=now, updated_at=now)
        session.add(stream)
        await session.commit()
        sid = stream.id
    rss0 = max_rss_mb()
    began = time.perf_counter()
    async with db.session() as session:
        tables = importer.read(data, "trend_full.csv")  # as /数据 does it (there off the loop, bounded)
        await importer.import_tables(session, tables, digest=hashlib.sha256(data).hexdigest(),
                                     file_name="trend_full.csv", stream_id=sid, chat_id="oc_bench", by="ou_bench",
                                     now=now, tz=tz, locale="zh_CN")
        await session.commit()
    took = time.perf_counter() - began
    peak = max_rss_mb() - rss0  # growth of the process's peak RSS (no tracemalloc: it would slow the timing)
    async with db.session() as session:
        stored = (await session.execute(select(func.count()).select_from(TrendPoint))).scalar_one()
    await db.close()
    if pg:
        admin = Database(admin_url)
        async with admin.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.close()
    return took, peak, stored


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pg", action="store_true", help="the full import into PostgreSQL instead of SQLite")
    args = ap.parse_args(argv)
    rows, repeat = args.rows, args.repeat
    figures = []

    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        full = generate_trend_csv(Path(tmp) / "trend_full.csv", rows)
        bare = generate_trend_csv(Path(tmp) / "trend_hhmm.csv", rows, bare_times=True)
        data, data_bare = full.read_bytes(), bare.read_bytes()
    day = START.date()
    limit = max(rows, 200_000)

    def parse_full():
        return read_tables(data, "trend_full.csv", max_rows=limit)

    def parse_bare():
        return read_tables(data_bare, "trend_hhmm.csv", default_date=day, max_rows=limit)

    def stream():
        n = 0
        for _ in iter_trend_rows(data, "trend_full.csv", max_rows=limit):
            n += 1
        return n

    rss_before = max_rss_mb()
    t_full, tables = best_of(parse_full, repeat)
    rss_after = max_rss_mb()
    (table,) = tables
    assert table.kind == TREND and len(table.rows) == rows and not table.rejected, "parse failed"
    t_bare, tables_bare = best_of(parse_bare, repeat)
    last = tables_bare[0].rows[-1]["minute"]
    assert last == START + timedelta(minutes=rows - 1), f"roll-over went wrong: {last}"
    t_stream, n = best_of(stream, repeat)
    assert n == rows
    del tables, tables_bare, table
    peak_keep = traced_peak(parse_full)
    peak_stream = traced_peak(stream)

    import asyncio

    t_import, peak_import, stored = asyncio.run(full_import(data, rows, args.pg))
    assert stored == rows, f"import stored {stored} of {rows} rows"
    mb = 1024 * 1024
    print(f"trend CSV: {rows} rows, {len(data) / mb:.1f} MB ({len(data_bare) / mb:.1f} MB with HH:MM times)")
    print(f"read_tables, 'YYYY-MM-DD HH:MM' times:  {t_full:6.3f} s  ({rows / t_full:,.0f} rows/s; "
          f"target < {TARGET_S:g} s)")
    print(f"read_tables, 'HH:MM' + default_date:    {t_bare:6.3f} s  ({rows / t_bare:,.0f} rows/s; "
          f"{(rows - 1) // 1440} midnight roll-overs)")
    print(f"iter_trend_rows (streamed):            {t_stream:6.3f} s")
    print(f"tracemalloc peak, read_tables:        {peak_keep / mb:7.1f} MB (file {len(data) / mb:.1f} MB; "
          f"{peak_keep / rows:.0f} B/row)")
    print(f"tracemalloc peak, iter_trend_rows:    {peak_stream / mb:7.1f} MB")
    print(f"process peak RSS (ru_maxrss):         {rss_after:7.1f} MB after read_tables "
          f"(+{rss_after - rss_before:.1f} MB over the {rss_before:.1f} MB before it)")

    where = "PostgreSQL" if args.pg else "SQLite"
    print(f"full import into {where} (parse + ledger + insert + commit): {t_import:6.3f} s, "
          f"peak RSS +{peak_import:.1f} MB over the parse benchmarks' peak, {stored} rows stored")
    figures = [
        {"name": f"import {rows} trend rows into {where} (end to end)", "value": round(t_import, 2), "unit": "s",
         "target": None, "ok": None},
        {"name": "peak RSS growth during that import", "value": round(peak_import, 1), "unit": "MB",
         "target": None, "ok": None},
        {"name": f"read_tables {rows} trend rows", "value": round(t_full, 3), "unit": "s",
         "target": f"< {TARGET_S:g} s", "ok": t_full < TARGET_S},
        {"name": f"read_tables {rows} trend rows, HH:MM times", "value": round(t_bare, 3), "unit": "s",
         "target": f"< {TARGET_S:g} s", "ok": t_bare < TARGET_S},
        {"name": f"iter_trend_rows {rows} rows", "value": round(t_stream, 3), "unit": "s",
         "target": None, "ok": None},
        {"name": "tracemalloc peak read_tables", "value": round(peak_keep / mb, 1), "unit": "MB",
         "target": None, "ok": None},
        {"name": "tracemalloc peak iter_trend_rows", "value": round(peak_stream / mb, 1), "unit": "MB",
         "target": None, "ok": None},
        {"name": "peak RSS after read_tables", "value": round(rss_after, 1), "unit": "MB", "target": None,
         "ok": None},
        {"name": "peak RSS growth during read_tables", "value": round(rss_after - rss_before, 1), "unit": "MB",
         "target": None, "ok": None},
    ]
    print("RESULT " + json.dumps({"bench": "import", "figures": figures}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
