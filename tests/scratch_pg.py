"""Scratch PostgreSQL databases for tests that need a database of their own (several bot
processes, a copy target): created empty, dropped (with any connections left) at the end."""
from __future__ import annotations

from sqlalchemy import text

from bot.store.db import Database


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
    """A fresh empty database ``name`` next to ``admin_url``'s; None if PostgreSQL is unreachable."""
    try:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    except Exception:  # noqa: BLE001 - the caller skips visibly
        return None
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def drop(admin_url: str, name: str) -> None:
    await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
