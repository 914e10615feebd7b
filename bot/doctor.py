"""``liveops doctor``: checks a real Feishu app against what the bot needs, and says what to fix
in Chinese and English.

With the app's credentials from the settings it checks, in order:
1. the tenant token (app id and secret);
2. the bot's identity (GET /open-apis/bot/v3/info: the bot ability is on and the app released);
3. every scope the bot asks for (bot.feishu.scopes), each with one harmless call to an id that
   does not exist: Feishu checks the scope first, so any answer except 99991672 means the
   scope is there ("如何为应用申请所需权限？": 99991672 carries the scope hint);
4. the contact data range: the admins' names can be read (41050 otherwise);
5. the group-message mode (BOT_GROUP_MESSAGES, and what the bot detected);
6. the request URL, when given (--url or BOT_PUBLIC_URL): the same unsigned url_verification
   challenge Feishu sends when the URL is saved, answered within 1 s;
7. the event subscriptions, which no API reports: listed to check by hand.
Exit code 0 when nothing needs fixing, 1 otherwise.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Callable

import aiohttp

from bot.config import Settings
from bot.feature_settings import DoctorSettings, of
from bot.feishu import crypto, scopes
from bot.feishu.platform import Platform, TokenError

SCOPE_DENIED = 99991672
OK, BAD, INFO = "[OK]", "[!!]", "[..]"


class Report:
    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.problems = 0

    def ok(self, zh: str, en: str) -> None:
        self.out(f"{OK} {zh} / {en}")

    def bad(self, zh: str, en: str, fix_zh: str, fix_en: str) -> None:
        self.problems += 1
        self.out(f"{BAD} {zh} / {en}")
        self.out(f"     修复 / fix: {fix_zh} / {fix_en}")

    def info(self, zh: str, en: str) -> None:
        self.out(f"{INFO} {zh} / {en}")


async def run(settings: Settings, *, url: str | None = None, out: Callable[[str], None] = print,
              group_messages_seen: bool | None = None) -> int:
    report = Report(out)
    if not settings.has_credentials:
        report.bad("没有应用凭证", "no app credentials",
                   "在 .env 里设置 FEISHU_APP_ID 和 FEISHU_APP_SECRET", "set FEISHU_APP_ID and FEISHU_APP_SECRET in .env")
        return 1
    platform = Platform(settings.domain, settings.app_id, settings.app_secret, timeout=10.0)
    try:
        if not await _token(platform, report):
            return 1
        await _identity(platform, report)
        await _scopes(platform, report)
        await _contact_range(platform, settings, report)
    finally:
        await platform.close()
    _mode(settings, report, group_messages_seen)
    await _url(settings, url or of(settings, DoctorSettings).public_url, report)
    _subscriptions(report)
    if report.problems:
        out(f"\n{report.problems} 项需要处理 / {report.problems} thing(s) to fix.")
        return 1
    out("\n一切就绪 / all set.")
    return 0


async def _token(platform: Platform, report: Report) -> bool:
    try:
        await platform.tokens.get()
    except (TokenError, aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        report.bad(f"拿不到 tenant_access_token（{type(exc).__name__}）", f"cannot get a tenant token ({type(exc).__name__})",
                   "核对 FEISHU_APP_ID / FEISHU_APP_SECRET（开发者后台 → 凭证与基础信息）和 FEISHU_DOMAIN",
                   "check FEISHU_APP_ID / FEISHU_APP_SECRET (console → Credentials) and FEISHU_DOMAIN")
        return False
    report.ok("应用凭证有效", "app credentials work")
    return True


async def _identity(platform: Platform, report: Report) -> None:
    info = await platform.bot_info()
    if info.get("open_id"):
        report.ok(f"机器人身份：{info.get('app_name', '')} {info['open_id']}",
                  f"bot identity: {info.get('app_name', '')} {info['open_id']}")
    else:
        report.bad("读不到机器人身份", "cannot read the bot's identity",
                   "开发者后台 → 应用能力 → 添加「机器人」，然后发布版本",
                   "console → Features → add Bot, then release a version")


async def _scopes(platform: Platform, report: Report) -> None:
    for scope in scopes.needed_scopes(optional=True):
        probe = scopes.PROBES.get(scope)
        optional = scope not in scopes.needed_scopes()
        if probe is None:
            continue  # event scopes: no API shows them (see the mode and subscriptions below)
        result = await platform.call(probe.method, probe.path, paths=probe.paths, query=probe.query,
                                     body=probe.body)
        if result.code == SCOPE_DENIED:
            why_zh, why_en = "；".join(scopes.why(scope)), "; ".join(scopes.why(scope, "en_US"))
            if optional:
                report.info(f"未开通可选权限 {scope}（{why_zh}）", f"optional scope {scope} not granted ({why_en})")
                continue
            report.bad(f"缺少权限 {scope}（{why_zh}）", f"missing scope {scope} ({why_en})",
                       f"开发者后台 → 权限管理 → 开通 {scope}，再发布版本",
                       f"console → Permissions → add {scope}, then release a version")
        elif result.code is None and result.status == 0:
            report.bad(f"无法检查 {scope}（网络）", f"cannot check {scope} (network)",
                       "检查网络和 FEISHU_DOMAIN", "check the network and FEISHU_DOMAIN")
        else:
            report.ok(f"已开通 {scope}", f"scope {scope} granted")


async def _contact_range(platform: Platform, settings: Settings, report: Report) -> None:
    for admin in settings.admins:
        result = await platform.call("GET", "/open-apis/contact/v3/users/:user_id", paths={"user_id": admin},
                                     query={"user_id_type": "open_id"})
        if result.ok:
            continue
        if result.code == SCOPE_DENIED:
            return  # already reported as a missing scope
        report.bad(f"读不到管理员 {admin} 的通讯录信息（{result.code}）",
                   f"cannot read admin {admin} from contacts ({result.code})",
                   "开发者后台 → 权限管理 → 数据权限 → 通讯录权限范围：加入团队成员",
                   "console → Permissions → Data permissions → contacts range: include the team")
        return
    if settings.admins:
        report.ok("通讯录权限范围包含管理员", "the contact data range includes the admins")


def _mode(settings: Settings, report: Report, seen: bool | None) -> None:
    mode = settings.group_messages
    if mode == "all" or (mode == "auto" and seen):
        report.ok("群消息：收到所有群消息（需要敏感权限 im:message.group_msg）",
                  "group messages: every message arrives (needs the sensitive im:message.group_msg)")
    elif mode == "mentions" or seen is False:
        report.info("群消息：只收到 @机器人 的消息。群里命令写成 @机器人 命令；导入请把文件私聊发给机器人。"
                    "要收到所有群消息：开通敏感权限 im:message.group_msg（需管理员审批）",
                    "group messages: only @mentions arrive. Write commands as @bot command; send files to the "
                    "bot directly. For every group message: grant the sensitive im:message.group_msg (admin approval)")
    else:
        report.info("群消息：自动检测（收到第一条未 @ 的群消息后切换为全部消息）",
                    "group messages: auto (switches to every message at the first un-@ group message)")


async def _url(settings: Settings, url: str, report: Report) -> None:
    if settings.transport == "ws":
        report.ok("长连接模式：不需要请求网址", "long-connection mode: no request URL needed")
        return
    if not url:
        report.info("未检查请求网址（用 --url https://你的域名/feishu/events 或 BOT_PUBLIC_URL）",
                    "request URL not checked (pass --url https://your.host/feishu/events or set BOT_PUBLIC_URL)")
        return
    challenge = secrets.token_hex(16)
    payload = {"challenge": challenge, "token": settings.verification_token, "type": "url_verification"}
    text = json.dumps(payload)
    if settings.encrypt_key:
        text = json.dumps({"encrypt": crypto.encrypt(settings.encrypt_key, text)})
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1.0)) as session:
            async with session.post(url, data=text.encode(), headers={"Content-Type": "application/json"}) as resp:
                status, raw = resp.status, await resp.read()
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        report.bad(f"请求网址 1 秒内没有应答（{type(exc).__name__}）", f"the request URL did not answer within 1 s "
                   f"({type(exc).__name__})", "确认机器人已启动、网址可从公网访问", "make sure the bot runs and the URL "
                   "is reachable from the internet")
        return
    elapsed = time.monotonic() - started
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if status == 200 and isinstance(answer, dict) and answer.get("challenge") == challenge:
        report.ok(f"请求网址校验通过（{elapsed * 1000:.0f} ms）", f"request URL check passed ({elapsed * 1000:.0f} ms)")
    else:
        report.bad(f"请求网址校验失败（HTTP {status}）", f"request URL check failed (HTTP {status})",
                   "核对 FEISHU_VERIFICATION_TOKEN / FEISHU_ENCRYPT_KEY 与开发者后台一致，网址以 /feishu/events 结尾",
                   "check FEISHU_VERIFICATION_TOKEN / FEISHU_ENCRYPT_KEY match the console and the URL ends in "
                   "/feishu/events")


def _subscriptions(report: Report) -> None:
    names = "、".join(e[0] for e in scopes.EVENTS)
    report.info(f"请在开发者后台 → 事件与回调 确认已订阅：{names}（飞书没有接口可以读取订阅）",
                f"in the console → Events & callbacks make sure these are subscribed: {names} "
                f"(no API reports subscriptions)")
    for event, needs, zh, en in scopes.OPTIONAL_EVENTS:
        report.info(f"可选事件 {event}（需要权限 {'、'.join(needs)}）：{zh}",
                    f"optional event {event} (needs {', '.join(needs)}): {en}")
