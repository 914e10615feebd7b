"""Alembic environment: runs on a connection handed over by bot.store.db (start-up,
tests), or on DATABASE_URL when invoked from the alembic CLI for new revisions."""
from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import bot.store.tables  # noqa: F401  - registers every table on SQLModel.metadata

target_metadata = SQLModel.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    import os

    from bot.config import normalise_db_url

    async def _main() -> None:
        engine = create_async_engine(normalise_db_url(os.environ["DATABASE_URL"]))
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(_main())
