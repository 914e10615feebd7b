"""The ``liveops`` command.

    liveops                 run: the real bot with Feishu credentials, else the sandbox
    liveops run --sandbox   force the sandbox (bot + local Feishu simulator + web chat page)
    liveops migrate         apply database migrations and exit
    liveops check-config    validate the settings and print them with secrets masked
    liveops copy-data --to URL [--from URL] [--force]
                            copy all data to another database (e.g. SQLite -> PostgreSQL)
    liveops doctor [--url URL]
                            check the real Feishu app: token, bot identity, scopes, contact range,
                            group-message mode, the request URL; exit 1 when something is missing
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot import config, logs

log = logging.getLogger("bot.cli")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="liveops", description="LiveOps bot for Feishu/Lark")
    sub = parser.add_subparsers(dest="cmd")
    run = sub.add_parser("run", help="run the bot (default)")
    run.add_argument("--sandbox", action="store_true", help="run the local sandbox even with credentials")
    run.add_argument("--port", type=int, help="override BOT_PORT")
    run.add_argument("--host", help="override BOT_HOST")
    run.add_argument("--keep-data", action="store_true", help="sandbox: keep the previous demo database")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("check-config", help="validate settings")
    copy = sub.add_parser("copy-data", help="copy all data to another database (SQLite -> PostgreSQL)")
    copy.add_argument("--to", dest="target", required=True, help="target DATABASE_URL")
    copy.add_argument("--from", dest="source", help="source DATABASE_URL (default: the configured one)")
    copy.add_argument("--force", action="store_true", help="replace rows the target already has")
    doctor = sub.add_parser("doctor", help="check the Feishu app's setup (scopes, identity, request URL)")
    doctor.add_argument("--url", help="the public request URL to check, e.g. https://bot.example.com/feishu/events")
    args = parser.parse_args(argv)
    cmd = args.cmd or "run"
    if cmd == "copy-data":
        return _copy_data(args)
    for name, default in (("sandbox", False), ("port", None), ("host", None), ("keep_data", False)):
        if not hasattr(args, name):
            setattr(args, name, default)

    try:
        settings = config.load(sandbox=args.sandbox or None)
    except config.ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    if cmd == "run":
        overrides = {}
        if args.port is not None:
            overrides["port"] = args.port
        if args.host:
            overrides["host"] = args.host
        if overrides:
            from dataclasses import replace
            settings = replace(settings, **overrides)
    logs.setup(settings.log_level, settings.log_json)

    if cmd == "doctor":
        return _doctor(settings, args.url)
    try:
        if cmd == "migrate":
            from bot.store.db import Database

            async def _migrate() -> None:
                db = Database(settings.database_url)
                await db.migrate()
                await db.close()

            asyncio.run(_migrate())
            print("migrations applied")
            return 0
        if cmd == "check-config":
            for key, value in sorted(vars(settings).items()):
                if key in ("app_secret", "encrypt_key", "verification_token") and value:
                    value = "***"
                print(f"{key} = {value}")
            return 0
        if settings.sandbox:
            from bot.sandbox import run_sandbox

            asyncio.run(run_sandbox(settings, fresh=not args.keep_data))
        else:
            from bot.server import run_server

            asyncio.run(run_server(settings))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        if exc.errno in (98, 48):  # address in use
            print(f"BOT_PORT: port {settings.port} is already in use. Stop the other process or "
                  f"set BOT_PORT to a free port.", file=sys.stderr)
            return 2
        raise
    return 0


def _copy_data(args: argparse.Namespace) -> int:
    from bot.store.copy import CopyError, copy_data

    try:
        target = _url_arg("--to", args.target)
        source = _url_arg("--from", args.source) if args.source else config.load().database_url
    except config.ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(copy_data(source, target, force=args.force))
    except CopyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (OSError, ConnectionError) as exc:
        print(f"copy-data: cannot reach a database: {exc.__class__.__name__}: {exc}".splitlines()[0],
              file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line for the operator, e.g. a DBAPIError
        print(f"copy-data failed: {exc.__class__.__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    return 0


def _doctor(settings, url: str | None) -> int:
    from bot import doctor

    async def _run() -> int:
        return await doctor.run(settings, url=url, group_messages_seen=await _seen(settings))

    return asyncio.run(_run())


async def _seen(settings) -> bool | None:
    """What the bot detected about group messages, if its database can be read."""
    from bot.feishu.groupmode import SEEN_FLAG, PlatformFlag
    from bot.store.db import Database
    from sqlmodel import select

    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            row = (await session.execute(select(PlatformFlag).where(PlatformFlag.key == SEEN_FLAG))).first()
            return row is not None
    except Exception:  # noqa: BLE001 - no database yet: unknown
        return None
    finally:
        await db.close()


def _url_arg(flag: str, url: str) -> str:
    try:
        return config.normalise_db_url(url)
    except config.ConfigError as exc:
        raise config.ConfigError(flag, exc.problem, exc.fix) from None


if __name__ == "__main__":
    raise SystemExit(main())
