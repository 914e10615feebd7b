"""The tables in README.md and docs/ that are generated from the code, and the tool that
rewrites them: ``python3 dev.py docs`` (or ``python -m bot.docgen``; ``--check`` only reports).

A generated block sits between two markers in a Markdown file::

    <!-- BEGIN GENERATED settings (python3 dev.py docs) -->
    ...
    <!-- END GENERATED settings -->

tests/test_docs.py fails when a block differs from what the code generates now, so a new
command, verb, role or setting shows up in the docs the moment it is declared.

* ``commands``: every command, verb, @-mention/file handler and card button, with its role and
  scope, from the registry (bot/commands/registry.py).
* ``permissions``: "who may do what", one row per verb and button (bot.commands.help.permission_table).
* ``roles``: the short version for README.md: which commands each role unlocks.
* ``settings``: every setting the code reads, with its default taken from the code itself.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- BEGIN GENERATED (?P<name>[a-z-]+) \(python3 dev\.py docs\) -->\n)(?P<body>.*?)"
                   r"(<!-- END GENERATED (?P=name) -->)", re.S)


# ---- settings --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    name: str
    default: Callable[[], str]  # read from the code, so the table cannot drift from it
    zh: str
    en: str


def _settings_default(attr: str) -> Callable[[], str]:
    def read() -> str:
        from bot.config import Settings

        value = getattr(Settings(), attr)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return ",".join(value)
        return str(value)
    return read


def _fault_default(attr: str) -> Callable[[], str]:
    def read() -> str:
        from bot.faults.policy import Policy

        value = getattr(Policy(), attr)
        if isinstance(value, dict):
            return ",".join(f"{k}={v}" for k, v in value.items())
        if isinstance(value, tuple):
            return ",".join(value)
        return str(value)
    return read


def _const(module: str, name: str) -> Callable[[], str]:
    def read() -> str:
        import importlib

        return str(getattr(importlib.import_module(module), name))
    return read


def _text(value: str) -> Callable[[], str]:
    return lambda: value


def _office_hours() -> str:
    from bot.faults.policy import Policy

    p = Policy()
    return f"{p.office_start:%H:%M}-{p.office_end:%H:%M}"


SETTINGS: list[Setting] = [
    Setting("FEISHU_APP_ID", _text(""), "应用凭据 App ID（`cli_` 开头）；没有时 `liveops run` 不启动，只有 `--sandbox` 能用",
            "the app's App ID (starts with `cli_`); without it `liveops run` refuses and only `--sandbox` runs"),
    Setting("FEISHU_APP_SECRET", _text(""), "应用凭据 App Secret，和 App ID 成对设置", "the App Secret, set together with the App ID"),
    Setting("FEISHU_ENCRYPT_KEY", _text(""), "事件加密 Encrypt Key；设置后事件必须加密并签名",
            "the event Encrypt Key; when set, events must be encrypted and signed"),
    Setting("FEISHU_VERIFICATION_TOKEN", _text(""), "事件校验 Verification Token；webhook 模式下与 Encrypt Key 至少设置一个",
            "the Verification Token; webhook mode needs it or the Encrypt Key"),
    Setting("FEISHU_DOMAIN", _text("feishu"), "`feishu`、`lark` 或一个 https 基础地址", "`feishu`, `lark` or an https base URL"),
    Setting("BOT_TRANSPORT", _settings_default("transport"), "`webhook`（飞书推送到 `/feishu/events`）或 `ws`（长连接）",
            "`webhook` (Feishu posts to `/feishu/events`) or `ws` (long connection)"),
    Setting("DATABASE_URL", _text("sqlite:///data/liveops.db"), "SQLite 文件或 `postgresql://用户:密码@主机/库`；沙盒从不使用它",
            "an SQLite file or `postgresql://user:pass@host/db`; the sandbox never uses it"),
    Setting("BOT_DATA_DIR", _settings_default("data_dir"), "默认 SQLite 文件所在目录（`liveops.db`，沙盒 `sandbox.db`）",
            "where the default SQLite files live (`liveops.db`, the sandbox's `sandbox.db`)"),
    Setting("BOT_TIMEZONE", _settings_default("timezone"), "团队所在时区（IANA 名称）", "the team's time zone (IANA name)"),
    Setting("BOT_LOCALE", _settings_default("locale"), "默认回复语言 `zh_CN` 或 `en_US`；每个群可用 `/语言` 改",
            "default reply language `zh_CN` or `en_US`; per chat with `/语言`"),
    Setting("BOT_ADMINS", _settings_default("admins"), "管理员的 open_id（`ou_` 开头），逗号分隔；发 `/我是谁` 可查看自己的",
            "admins' open_ids (`ou_...`), comma separated; `/我是谁` shows yours"),
    Setting("BOT_GROUP_MESSAGES", _settings_default("group_messages"),
            "群消息模式：`auto`（自动判断）、`mentions`（只收 @）、`all`（需敏感权限 `im:message.group_msg`）",
            "group-message mode: `auto` (detect), `mentions` (@-only), `all` (needs the sensitive scope `im:message.group_msg`)"),
    Setting("BOT_HOST", _settings_default("host"), "HTTP 监听地址（容器里用 `0.0.0.0`）", "HTTP listen address (`0.0.0.0` in a container)"),
    Setting("BOT_PORT", _settings_default("port"), "HTTP 端口（webhook、`/healthz`、`/readyz`、沙盒页面）",
            "HTTP port (webhook, `/healthz`, `/readyz`, the sandbox page)"),
    Setting("BOT_HTTP_TIMEOUT", _settings_default("http_timeout"), "客户端发完请求头和请求体的时限（秒，从连接发来第一个字节算起）",
            "seconds a client has to send a request's headers, and its body (from the connection's first bytes)"),
    Setting("BOT_METRICS_PORT", _settings_default("metrics_port"), "`/metrics` 单独使用的端口（0：与 `BOT_PORT` 相同）",
            "serve `/metrics` on this port only (0: on `BOT_PORT`)"),
    Setting("BOT_METRICS_TOKEN", _settings_default("metrics_token"), "设置后 `/metrics` 要求 `Authorization: Bearer <token>`",
            "when set, `/metrics` asks for `Authorization: Bearer <token>`"),
    Setting("BOT_PUBLIC_URL", _text(""), "`liveops doctor` 检查的公网请求地址，如 `https://bot.example.com/feishu/events`",
            "the public request URL `liveops doctor` checks, e.g. `https://bot.example.com/feishu/events`"),
    Setting("BOT_LOG_JSON", _settings_default("log_json"), "`true`：日志为 JSON 行（带 request_id / event_id）",
            "`true`: JSON-lines logs (with request_id / event_id)"),
    Setting("BOT_LOG_LEVEL", _settings_default("log_level"), "日志级别", "log level"),
    Setting("BOT_LEASE_SECONDS", _settings_default("lease_seconds"), "事件被领取后多久未完成可由别的 worker 重试（秒）",
            "how long a claimed event is held before another worker may retry it (seconds)"),
    Setting("BOT_KEEP_DAYS", _const("bot.housekeeping", "DEFAULT_DAYS"),
            "已处理的收件箱事件、已发送的消息、已完成的定时器保留天数（失败的保留）",
            "days to keep handled inbox events, sent outbox rows and finished timers (failed rows are kept)"),
    Setting("BOT_COMPLIANCE_RETENTION_YEARS", _settings_default("compliance_retention_years"),
            "话术检查记录保留年数（3–50；规定至少 3 年）", "years to keep script-check records (3–50; the rules require at least 3)"),
    Setting("BOT_SCHEDULE_MAX_HOURS", _const("bot.schedule.service", "DEFAULT_MAX_HOURS"), "一场直播最长小时数",
            "longest allowed stream, in hours"),
    Setting("BOT_BRIEFING_HOLIDAYS", _text("keep"), "新日报订阅在法定节假日：`keep` 照发，`skip` 不发",
            "new briefing subscriptions on statutory holidays: `keep` or `skip`"),
    Setting("BOT_DATA_DROP_DIR", _text(""), "每分钟扫描一次、导入罗盘导出文件的目录（空：不扫描）",
            "a folder polled every minute for Compass exports (empty: off)"),
    Setting("BOT_TASK_CHECK_MINUTES", _const("bot.tasks.mirror", "DEFAULT_CHECK_MINUTES"),
            "没有 `task:task` 事件时，多久检查一次飞书任务是否已完成（分钟）",
            "without the `task:task` event, how often Feishu Tasks are checked for completion (minutes)"),
    Setting("BOT_FAULT_ACK_MINUTES", _fault_default("ack_minutes"), "各级故障的认领时限（分钟）", "ack target per severity (minutes)"),
    Setting("BOT_FAULT_RESOLVE_MINUTES", _fault_default("resolve_minutes"), "各级故障的解决时限（分钟）",
            "resolve target per severity (minutes)"),
    Setting("BOT_FAULT_NUDGE_MINUTES", _fault_default("nudge_minutes"), "已认领未解决时多久催一次（分钟）",
            "acked but not resolved: nudge every N minutes"),
    Setting("BOT_FAULT_GROUP_SEVERITIES", _fault_default("group_severities"), "哪些级别建故障群（其余在原群跟进）",
            "severities that get a fault group (others are followed in the reporting chat)"),
    Setting("BOT_FAULT_MERGE_MINUTES", _fault_default("merge_minutes"), "没写直播间的报告：同群同类在这么多分钟内有动静的故障单会合并",
            "a report without a room joins the same chat's open ticket of its category active within N minutes"),
    Setting("BOT_FAULT_OFFICE_HOURS", _office_hours, "工作时间（中国日历的工作日）；之外按非工作时间升级",
            "office hours (on Chinese working days); outside them the off-hours escalation applies"),
    Setting("BOT_FAULT_PAID_URGENT", _fault_default("paid_urgent"), "超时时额外的付费加急：空、`sms` 或 `phone`",
            "paid buzz at the SLA breach: empty, `sms` or `phone`"),
]


def settings_table() -> str:
    rows = ["| 设置 setting | 默认 default | 说明 | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = s.default()
        rows.append(f"| `{s.name}` | {f'`{default}`' if default else '（空 empty）'} | {s.zh} | {s.en} |")
    return "\n".join(rows)


def settings_read_by_code() -> set[str]:
    """Every setting name the code reads: quoted names in bot/, plus the fault policy's keys."""
    names: set[str] = {"DATABASE_URL"}
    quoted = re.compile(r"[\"']((?:BOT|FEISHU)_[A-Z0-9_]*[A-Z0-9])[\"']")
    for path in (ROOT / "bot").rglob("*.py"):
        if path.name == "docgen.py" or "sim" in path.relative_to(ROOT).parts:
            continue
        names.update(quoted.findall(path.read_text(encoding="utf-8")))
    policy = (ROOT / "bot" / "faults" / "policy.py").read_text(encoding="utf-8")
    names.update(f"BOT_FAULT_{key}" for key in re.findall(r"\bget\(\"([A-Z_]+)\"\)", policy))
    return names


# ---- commands and permissions ----------------------------------------------------------------------

def _registry():
    from bot.commands import load_all
    from bot.commands.registry import REGISTRY

    load_all()
    return REGISTRY


def _who(role: str, zh: bool = True) -> str:
    from bot import roles
    from bot.i18n import t

    if role == roles.MEMBER:
        return "所有人" if zh else "everyone"
    who = t("zh_CN" if zh else "en_US", f"roles.{role}")
    if role in (roles.TECH, roles.STREAMER):
        who += "、运营、管理员" if zh else ", ops, admin"
    elif role == roles.OPS:
        who += "、管理员" if zh else ", admin"
    return who


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def commands_table() -> str:
    """Every command with each verb's usage (both languages), role and scope."""
    from bot.access import Scope
    from bot.commands.help import SCOPE_TEXT

    short = {Scope.OPEN: "任何人 anyone", Scope.TEAM: "团队成员 team", Scope.RECORD: "记录相关人 record's people",
             Scope.OWNERS: "记录本人 record's own people"}
    registry = _registry()
    out: list[str] = []
    for spec in sorted(registry.specs, key=lambda s: (s.order, s.name)):
        aliases = "、".join(f"`/{a}`" for a in spec.aliases)
        out.append(f"### /{spec.name} (/{spec.en})\n")
        out.append(f"{spec.summary[0]} — {spec.summary[1]}" + (f"。别名 aliases: {aliases}" if aliases else ""))
        out.append("")
        out.append("| 用法 usage | English | 谁可以 who | 范围 scope |")
        out.append("|---|---|---|---|")
        for verb in spec.verbs:
            out.append(f"| `{_cell(verb.usage_for('zh_CN'))}` | `{_cell(verb.usage_for('en_US'))}` | "
                       f"{_who(verb.role)} | {short[verb.scope]} |")
        examples = spec.examples_for("zh_CN")
        if examples:
            out.append("")
            out.append("例子 examples: " + "、".join(f"`{_cell(e)}`" for e in examples[:4]))
        out.append("")
    out.append("### @LiveOps 和文件 / mentions and files\n")
    out.append("不以命令开头的 @LiveOps 消息和上传的文件，按优先级交给第一个认得它的处理器。"
               "Mentions that are not commands, and uploaded files, go to the first handler (by priority) that "
               "recognises them.\n")
    out.append("| 处理器 handler | 种类 kind | 优先级 priority | 谁可以 who | 范围 scope |")
    out.append("|---|---|---:|---|---|")
    for kind, handlers in (("@提及 mention", registry.mention_handlers), ("文件 file", registry.file_handlers)):
        for h in sorted(handlers, key=lambda h: (h.priority, h.name)):
            doc = (getattr(h.handle, "__doc__", None) or "").strip().splitlines()
            label = f"{h.label[0]} / {h.label[1]}" if h.label[0] else (_cell(doc[0]) if doc else h.name)
            out.append(f"| {label} (`{h.name}`) | {kind} | {h.priority} | {_who(h.role)} | {short[h.scope]} |")
    out.append("\n### 卡片按钮 / card buttons\n")
    out.append("按按钮和发命令一样检查角色和范围；被拒时只有按的人看到提示。"
               "A button press is checked like a command; a refusal is a toast to the presser only.\n")
    out.append("| 按钮 button | 动作 action id | 谁可以 who | 范围 scope |")
    out.append("|---|---|---|---|")
    for action in sorted(registry.actions.values(), key=lambda a: a.name):
        out.append(f"| {action.label[0]} / {action.label[1]} | `{action.name}` | {_who(action.role)} | "
                   f"{short[action.scope]} |")
    out.append("\n范围 scope: " + "；".join(f"**{short[s]}** = {SCOPE_TEXT[s][0]} ({SCOPE_TEXT[s][1]})" for s in Scope))
    return "\n".join(out)


def permissions_table() -> str:
    from bot.commands.help import permission_table

    _registry()
    return permission_table("zh_CN")


def roles_table() -> str:
    """README's short "who may do what": for each role, the commands it unlocks."""
    from bot import roles
    from bot.access import Scope

    registry = _registry()
    specs = sorted(registry.specs, key=lambda s: (s.order, s.name))

    def names(pred) -> str:
        found = [f"`/{s.name}`" for s in specs if any(pred(v) for v in s.verbs)]
        return " ".join(found) or "—"

    rows = ["| 谁 who | 可以用 may use |", "|---|---|",
            f"| 任何人，包括团队外的人 anyone, outsiders too | {names(lambda v: v.scope == Scope.OPEN)} |",
            f"| 团队成员（在团队群里或有角色）team members | "
            f"{names(lambda v: v.role == roles.MEMBER and v.scope != Scope.OPEN)} |"]
    for role in (roles.STREAMER, roles.TECH, roles.OPS, roles.ADMIN):
        found = names(lambda v, r=role: v.role == r)
        if found != "—":
            rows.append(f"| {_who(role)} {role} | 另外 also: {found} |")
    return "\n".join(rows)


BLOCKS: dict[str, Callable[[], str]] = {
    "commands": commands_table,
    "permissions": permissions_table,
    "roles": roles_table,
    "settings": settings_table,
}
WHERE = {"commands": "docs/commands.md", "permissions": "docs/security.md", "roles": "README.md",
         "settings": "docs/configuration.md"}


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def render(text: str, cache: dict[str, str] | None = None) -> str:
    """``text`` with every generated block replaced by what the code generates now."""
    cache = {} if cache is None else cache

    def fill(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in BLOCKS:
            raise KeyError(f"unknown generated block {name!r} (known: {', '.join(BLOCKS)})")
        if name not in cache:
            cache[name] = BLOCKS[name]().rstrip("\n")
        return f"{m.group(1)}{cache[name]}\n{m.group(4)}"
    return BLOCK.sub(fill, text)


def stale() -> list[str]:
    """The files whose generated blocks differ from the code."""
    cache: dict[str, str] = {}
    return [str(p.relative_to(ROOT)) for p in doc_files()
            if p.read_text(encoding="utf-8") != render(p.read_text(encoding="utf-8"), cache)]


def main(argv: list[str]) -> int:
    if argv and argv[0] not in ("--check",):
        print(__doc__)
        return 2
    if argv:
        files = stale()
        for name in files:
            print(f"out of date: {name} (run python3 dev.py docs)")
        return 1 if files else 0
    cache: dict[str, str] = {}
    for path in doc_files():
        old = path.read_text(encoding="utf-8")
        new = render(old, cache)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
