"""Shared fixtures: a real database (SQLite file and PostgreSQL), and a harness that runs the
real bot and the local Feishu simulator on random loopback ports with an injected clock."""
from __future__ import annotations

import asyncio
import gc
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlmodel import SQLModel

import bot.store.tables  # noqa: F401
from bot.store.db import Database
from tests import scratch_pg
from bot.sendlimits import PER_LANE
from tests.harness import UNPACED, Harness
from tests.seam import Seam

# The server's own maintenance database: every PostgreSQL server has it, and the test run only
# connects there to create (and at the end drop) a scratch database of its own.
PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)  # Thu 14:00 in Asia/Shanghai
_pg_state: dict[str, object] = {}


async def _pg_db_url() -> str | None:
    """Create one database for this test run (dropped at the end); None if PostgreSQL is down."""
    if "url" in _pg_state:
        return _pg_state["url"]  # type: ignore[return-value]
    # One database per process: each pytest-xdist worker (PYTEST_XDIST_WORKER) has its own.
    name = f"liveops_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"

    async def create() -> str | None:
        url = await scratch_pg.create(PG_ADMIN_URL, name)
        if url is None:
            _pg_state["why"] = scratch_pg.why(PG_ADMIN_URL)
            return None
        db = Database(url)
        await db.migrate()
        async with db.engine.connect() as conn:
            # A scratch database: a commit need not wait for its WAL flush (what a server crash
            # would lose, the test run never needs back). Same behaviour, no fsync wait per commit.
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        await db.close()
        return url

    _pg_state["url"] = await create()
    _pg_state["name"] = name
    return _pg_state["url"]  # type: ignore[return-value]


async def _empty_pg(db: Database) -> None:
    """Every table empty and every sequence back at its start, as after TRUNCATE ... RESTART
    IDENTITY of all tables, but truncating only the tables an earlier test wrote to: truncating
    all ~50 took 0.5-0.9 s a test, finding the few used ones takes one query."""
    async with db.engine.begin() as conn:
        # A bot stopped mid-transaction by an earlier test must not hold locks.
        await conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        await conn.execute(text("SET lock_timeout = '10s'"))
        existing = set((await conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars())
        names = [t.name for t in SQLModel.metadata.sorted_tables if t.name in existing]
        probe = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in names)
        used = list((await conn.execute(text(probe))).scalars()) if names else []
        if used:
            await conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in used) + " CASCADE"))
        # Sequences a test drew from (rows since deleted too): last_value is NULL until the first nextval.
        await conn.execute(text(
            "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
            "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"))


def pytest_configure(config):
    config.addinivalue_line("markers", "feishu_pace: the harness keeps Feishu's 5 messages a second to one "
                            "chat (tests/harness.py; by default it does not pace them)")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (pyproject's addopts): the whole suite runs in one and a half workers a core
    (most tests wait on loopback HTTP and the database, so a worker uses about half a core; on
    2 cores 3 workers beat 2, 4 and 6); a run of named test files runs in this process, as
    starting workers costs more than it saves there (``-n 3`` asks for workers anyway).
    LIVEOPS_TEST_WORKERS sets the number."""
    if os.environ.get("LIVEOPS_TEST_WORKERS"):
        return int(os.environ["LIVEOPS_TEST_WORKERS"])
    here = Path(config.invocation_params.dir)
    whole = {config.rootpath.resolve(), (config.rootpath / "tests").resolve()}
    if any((here / arg.split("::")[0]).resolve() not in whole for arg in config.args):
        return 0
    cores = os.cpu_count() or 1
    return max(2, cores + cores // 2)


# Modules whose tests share one live process and whose last tests check what all the others did
# to it: under pytest-xdist each runs whole, in order, in one worker. (xdist's own xdist_group
# mark does nothing on pytest 9: it renames item._nodeid, which pytest 9 no longer reads.)
ONE_WORKER = ("tests/test_fuzz_webhook.py",)


# The longest tests (``--durations``: 95 s of real processes and leases for the replicas, a
# browser, outages) start first, so no worker is left alone with one of them at the end of the
# run; the scheduler hands out tests in collection order. Each a prefix of node ids.
LONG_FIRST = ("tests/test_replicas.py", "tests/test_browser.py", "tests/test_outage.py",
              "tests/test_docs.py::test_the_readme_tour_in_chromium", "tests/test_http_safety.py::test_explicit_sandbox",
              "tests/test_native_sandbox.py", "tests/test_issue3_flow.py", "tests/test_outbox_sender.py")


def pytest_collection_modifyitems(session, config, items):
    """LONG_FIRST to the front, in its order; everything else keeps its place (the same order
    in every xdist worker, as the scheduler checks)."""
    def rank(item) -> int:
        return next((i for i, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)), len(LONG_FIRST))

    items.sort(key=rank)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist load`` (pyproject's addopts): each test to whichever worker is free, except that
    a module in ONE_WORKER goes to one worker whole (and first: it is the largest unit)."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneTestOrModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER else nodeid

    return OneTestOrModule(config, log)


def pytest_collection_finish(session):
    """What collection imported (lark-oapi alone is thousands of modules) lives until the end:
    keep it out of every later garbage collection's walk."""
    gc.collect()
    gc.freeze()


_pg_seen: dict[str, object] = {}  # the PostgreSQL notice of this process or, with xdist, of its workers


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: a worker's PostgreSQL notice (its own database, or why it had none)."""
    seen = getattr(node, "workeroutput", {}).get("liveops_pg")
    if seen:
        _pg_seen["ran"] = _pg_seen.get("ran") or seen["ran"]
        _pg_seen["why"] = _pg_seen.get("why") or seen["why"]


def pytest_sessionfinish(session, exitstatus):
    if "name" in _pg_state:
        seen = {"ran": bool(_pg_state.get("url")), "why": None if _pg_state.get("url") else str(_pg_state.get("why"))}
        _pg_seen.update(seen)
        if hasattr(session.config, "workeroutput"):
            session.config.workeroutput["liveops_pg"] = seen
    if _pg_state.get("url"):
        async def drop() -> None:
            admin = Database(PG_ADMIN_URL)
            async with admin.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{_pg_state["name"]}" WITH (FORCE)'))
            await admin.close()

        try:
            asyncio.run(drop())
        except Exception:  # noqa: BLE001
            pass


def pytest_terminal_summary(terminalreporter):
    if shutil.which("promtool") is None:
        terminalreporter.write_line("NOTICE: promtool is missing, the alert rule checks were SKIPPED "
                                    "(apt-get install prometheus)", yellow=True, bold=True)
    if _pg_seen.get("why"):
        terminalreporter.write_line(
            f"NOTICE: PostgreSQL tests were SKIPPED: {_pg_seen['why']}", red=True, bold=True)
    elif _pg_seen.get("ran"):
        terminalreporter.write_line("PostgreSQL tests ran against " + PG_ADMIN_URL.rsplit("/", 1)[0])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate()
        await db.close()  # the last connection closing checkpoints the WAL into the file

    asyncio.run(build())
    return str(path)


@pytest_asyncio.fixture
async def sqlite_file_db(tmp_path, sqlite_template):
    """A migrated, empty SQLite file (its intake writes on sqlite3 itself: ``db.raw``)."""
    path = tmp_path / "file.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    yield db
    await db.close()


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def database(request, tmp_path, sqlite_template):
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "bot.db"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite+aiosqlite:///{path}")
    else:
        url = await _pg_db_url()
        if url is None:
            pytest.skip(str(_pg_state.get("why")))
        db = Database(url)
        await _empty_pg(db)
    yield db
    await db.close()


@pytest_asyncio.fixture
async def harness(request, database):
    """The real bot and the simulator (tests/harness.py); Feishu's 5-a-second limit per chat
    only for tests marked ``feishu_pace``."""
    paced = request.node.get_closest_marker("feishu_pace") is not None
    h = Harness(database, START, lane_qps=PER_LANE if paced else UNPACED)
    await h.start()
    yield h
    await h.stop()


@pytest_asyncio.fixture
async def seam(database):
    """One command at a time through the real router on a real database, no HTTP (tests/seam.py)."""
    s = Seam(database, START)
    await s.start()
    yield s
    await s.stop()


@pytest.fixture(autouse=True)
def _fresh_holiday_data():
    """The holiday data a bot loads from its database lives in workdays' memory: forget it after
    each test so the next one (with another database, or none) starts from the shipped data."""
    yield
    from bot.timeparse import workdays

    workdays.load([], {})


@pytest.fixture(autouse=True)
def _forget_finished_apps():
    """aiohttp caches each route's middleware chain by (handler, app) (web_app's
    lru_cache(maxsize=1024)): one app in production, but every test builds a new bot and
    simulator, and the cache kept the last ~1,000 of them alive with their engines and
    caches. The process grew by ~1.5 MB a test and each garbage collection walked it all:
    tests late in a run were up to 5x slower than alone. Let each test's apps go."""
    yield
    from aiohttp import web_app

    cached = getattr(web_app, "_cached_build_middleware", None)
    if cached is not None:
        cached.cache_clear()

