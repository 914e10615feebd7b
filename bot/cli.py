"""The ``liveops`` command.

    liveops                 run the real bot (needs FEISHU_APP_ID and FEISHU_APP_SECRET)
    liveops run --sandbox   the local sandbox (bot + Feishu simulator + web chat page) on
                            127.0.0.1 and its own data/sandbox.db; never started otherwise
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


def build_parser() -> argparse.ArgumentParser:
    """Every sub-command and flag (the docs test checks the docs name only these)."""
    parser = argparse.ArgumentParser(prog="liveops", description="LiveOps bot for Feishu/Lark")
    sub = parser.add_subparsers(dest="cmd")
    run = sub.add_parser("run", help="run the bot (default)")
    run.add_argument("--sandbox", action="store_true",
                     help="run the local sandbox (a simulated Feishu, demo team, web chat page)")
    run.add_argument("--port", type=int, help="override BOT_PORT")
    run.add_argument("--host", help="override BOT_HOST (the sandbox listens on 127.0.0.1 unless given)")
    run.add_argument("--keep-data", action="store_true", help="sandbox: keep the previous demo database")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("check-config", help="validate settings")
    copy = sub.add_parser("copy-data", help="copy all data to another database (SQLite -> PostgreSQL)")
    copy.add_argument("--to", dest="target", required=True, help="target DATABASE_URL")
    copy.add_argument("--from", dest="source", help="source DATABASE_URL (default: the configured one)")
    copy.add_argument("--force", action="store_true", help="replace rows the target already has")
    doctor = sub.add_parser("doctor", help="check the Feishu app's setup (scopes, identity, request URL)")
    doctor.add_argument("--url", help="the public request URL to check, e.g. https://bot.example.com/feishu/events")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
        if not settings.sandbox and not settings.has_credentials:
            print(f"配置错误 / configuration error: {no_credentials(settings)}", file=sys.stderr)
            return 2
        overrides: dict = {}
        if args.port is not None:
            overrides["port"] = args.port
        if settings.sandbox:  # BOT_HOST (e.g. 0.0.0.0 in a container) never exposes the sandbox
            overrides["host"] = args.host or "127.0.0.1"
        elif args.host:
            overrides["host"] = args.host
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
            for key, value in config.redacted(settings):
                print(f"{key} = {value}")
            return 0
        if settings.sandbox:
            from bot.sandbox import run_sandbox

            if not is_loopback(settings.host):
                print(f"注意 / warning: the sandbox has no login; anyone who can reach {settings.host}:"
                      f"{settings.port} can act as any demo user.", file=sys.stderr)
            asyncio.run(run_sandbox(settings, fresh=not args.keep_data))
        else:
            from bot.server import run_server

            asyncio.run(run_server(settings))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl+C, or a stop signal while starting (StopSignals)
        return 0
    except OSError as exc:
        if exc.errno in (98, 48):  # address in use
            print(f"BOT_PORT: port {settings.port} is already in use. Stop the other process or "
                  f"set BOT_PORT to a free port.", file=sys.stderr)
            return 2
        raise
    return 0


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def no_credentials(settings: config.Settings) -> str:
    """Why `liveops run` will not start without Feishu credentials, and what to do."""
    if not (settings.database_url.startswith("sqlite") and is_loopback(settings.host)):
        return ("FEISHU_APP_ID: 没有飞书应用凭据，而 DATABASE_URL 或 BOT_HOST 指向服务器，不会启动沙盒 / no Feishu "
                "app credentials while DATABASE_URL or BOT_HOST point at a server, so nothing is started (the "
                "sandbox never starts by itself). Set FEISHU_APP_ID, FEISHU_APP_SECRET and "
                "FEISHU_VERIFICATION_TOKEN from the developer console; to try the bot on your own machine "
                "instead, run liveops run --sandbox there.")
    return ("FEISHU_APP_ID: 没有飞书应用凭据 / no Feishu app credentials. Set FEISHU_APP_ID and FEISHU_APP_SECRET "
            "to run the bot, or try the local sandbox: liveops run --sandbox (python3 dev.py run does that).")


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
