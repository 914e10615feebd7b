"""Scratch PostgreSQL databases for tests: created empty next to the admin URL's database
(the server's own ``postgres`` database by default, TEST_PG_URL to change it), dropped (with any
connections left) at the end. When that fails, :func:`why` says whether the server could not be
reached, the database named in the URL is missing, or the login was refused."""
from __future__ import annotations

from sqlalchemy import text

from bot.store.db import Database

LAST: dict[str, BaseException] = {}  # admin URL -> the last failure


async def _admin(admin_url: str, *statements: str) -> None:
    admin = Database(admin_url)
    try:
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await admin.close()


async def create(admin_url: str, name: str) -> str | None:
    """A fresh empty database ``name`` next to ``admin_url``'s; None if that fails (see why())."""
    try:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - the caller skips visibly
        LAST[admin_url] = exc
        return None
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def drop(admin_url: str, name: str) -> None:
    await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def describe(admin_url: str, exc: BaseException | None) -> str:
    """One line for a skip notice: which of server, database or login is the problem."""
    server = admin_url.split("@", 1)[-1].rsplit("/", 1)[0]
    database = admin_url.rsplit("/", 1)[-1]
    chain, seen = [], exc
    while seen is not None and len(chain) < 6:
        chain.append(seen)
        seen = getattr(seen, "orig", None) or seen.__cause__
    names = {type(e).__name__ for e in chain}
    detail = f"{type(chain[-1]).__name__}: {chain[-1]}"[:160] if chain else "unknown"
    if "InvalidCatalogNameError" in names:
        return (f"PostgreSQL server at {server} is up but database '{database}' is missing "
                f"(set TEST_PG_URL to an existing one, e.g. postgresql+asyncpg://postgres@{server}/postgres)")
    if names & {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}:
        return f"PostgreSQL server at {server} refused the login ({detail})"
    if any(isinstance(e, OSError) for e in chain) or "ConnectionDoesNotExistError" in names:
        return f"PostgreSQL server not reachable at {server} ({detail})"
    return f"PostgreSQL at {server} failed: {detail}"


def why(admin_url: str) -> str:
    return describe(admin_url, LAST.get(admin_url))
