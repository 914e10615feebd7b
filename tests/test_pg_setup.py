"""The PostgreSQL test set-up: scratch databases come from the server's own `postgres` database,
and a skip says whether the server is unreachable, the database missing, or the login refused."""
from __future__ import annotations

import socket

import pytest

from tests import scratch_pg
from tests.conftest import PG_ADMIN_URL, _pg_db_url


def test_the_default_admin_database_is_the_servers_own():
    assert PG_ADMIN_URL.endswith("/postgres") or "TEST_PG_URL" in __import__("os").environ


async def test_a_server_that_is_not_there():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    assert await scratch_pg.create(url, "liveops_never") is None
    assert scratch_pg.why(url).startswith(f"PostgreSQL server not reachable at 127.0.0.1:{port}")


async def test_a_missing_database_is_told_apart():
    if await _pg_db_url() is None:
        pytest.skip("PostgreSQL is not available here")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/liveops_no_such_database"
    assert await scratch_pg.create(url, "liveops_never") is None
    why = scratch_pg.why(url)
    assert "is up but database 'liveops_no_such_database' is missing" in why and "TEST_PG_URL" in why
