"""/规范 (/norms): show and configure the stream norms for the team; /节奏 (/cadence): the
in-stream cadence of a stream (pause, resume) or a room (its own minutes).

    /规范                      the settings in force and a stream's checkpoints (/规范 #12)
    /规范 设置 设备 90分钟       a team setting (ops)
    /规范 开启 自评表 / 关闭 …   optional norm reminders (ops)
    /规范 放行 #12 原因 …        an ops lead confirms the script review despite the check
    /节奏 暂停 #12 / 继续 #12    pause or resume a live stream's nudges
    /节奏 1号间 互动 10          a room's own cadence minutes (ops)
"""
from __future__ import annotations

from typing import Any

from bot import records, roles
from bot.access import Scope
from bot.cards import Card, escape_md
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.norms import announce, cadence, checkpoints, config
from bot.norms.models import Checkpoint
from bot.schedule import service as schedule

EXAMPLES = {"cp": "2天 / 90分钟 / 关", "cadence": "5 / 关", "explain": "8-12", "announce": "周日 20:00 / 1 09:00 / 关",
            "latency_max": "200", "optional": "开启", "after": "60", "ontime": "5", "script": "200",
            "sentiment": "3分钟", "adhoc": "30分钟", "emergency": "60分钟", "handover": "3",
            "newbie": "15", "sentiment.replies": "先感谢反馈；展示质检报告", "handover.checklist": "工作文件；直播账号",
            "newbie.template": "1 产品知识；3 话术演练；5 镜头感训练"}



def show_value(ctx: Ctx, key: str, value: Any) -> str:
    if isinstance(value, bool):
        return ctx.t("norms.on" if value else "norms.off")
    if key in config.LIST_KEYS:
        return "；".join(f"D{x[0]} {x[1]}" if isinstance(x, list) else str(x) for x in value)
    if key in ("handover.days", "newbie.days"):
        return ctx.t("norms.days_n", n=value)
    if isinstance(value, list):
        return f"{value[0]}–{value[1]}"
    if key.startswith("announce."):
        return value or ctx.t("norms.off")
    if key == "latency_max":
        return f"{value} ms"
    if key.startswith("script."):
        return ctx.t("norms.script_" + key.split(".")[1], n=value)
    if isinstance(value, int):
        return ctx.t("norms.minutes", n=value) if value else ctx.t("norms.off")
    return str(value)


def names_for(key: str, locale: str = "zh_CN") -> str:
    """A setting's name in the chat's language (whichever name was typed to set it)."""
    names = [n for n, k in config.NAMES.items() if k == key]
    english = locale == "en_US"
    return next((n for n in names if n.isascii() == english), names[0] if names else key)


NORMS = command_group("规范", "norms", summary=("直播规范：检查点、节奏、讲解时长、排期公告等设置",
                                                 "Stream norms: checkpoints, cadence, timers, announcements"),
                      aliases=("节奏规范",), group=("直播", "Live"), order=14)


@NORMS.verb("查看", "show", default=True, scope=Scope.TEAM, accepts=lambda rest: not rest.strip(),
            summary=("现行的规范设置", "The settings in force"), examples=["/规范"], examples_en=["/norms"])
async def show_verb(ctx: Ctx, rest: str) -> None:
    if rest.strip():
        raise UsageError(ctx.t("norms.unknown_setting", name=rest[:20], names=" ".join(sorted(config.NAMES)[:20])))
    await show(ctx)


@NORMS.verb("#场次", "#stream", pattern=r"[#＃]?\d+", scope=Scope.TEAM, ref="none", args=("#<场次>", "#<stream>"),
            summary=("一场的检查点", "A stream's checkpoints"), examples=["/规范 #12"], examples_en=["/norms #12"])
async def checkpoints_verb(ctx: Ctx, rest: str) -> None:
    await show_checkpoints(ctx, rest.split()[0])


@NORMS.verb("设置", "set", role=roles.OPS, scope=Scope.TEAM, args=("<名称> <值>", "<name> <value>"),
            summary=("改一项设置", "Change a setting"), examples=["/规范 设置 设备 90分钟"], examples_en=["/norms set equipment 90"])
async def set_verb(ctx: Ctx, rest: str) -> None:
    words = rest.split(None, 1)
    if len(words) < 2:
        raise UsageError(ctx.t("norms.unknown_setting", name=rest, names=" ".join(sorted(config.NAMES)[:20])))
    await set_setting(ctx, words[0], words[1], scope="team")


@NORMS.verb("开启", "on", aliases=("打开", "enable"), role=roles.OPS, scope=Scope.TEAM,
            args=("自评表|学习报告|创新|选题会|季度复盘", "selfeval|learning|innovation|topic|quarterly"),
            summary=("打开一项可选提醒", "Switch an optional reminder on"), examples=["/规范 开启 自评表"],
            examples_en=["/norms on selfeval"])
async def on_verb(ctx: Ctx, rest: str) -> None:
    await set_setting(ctx, rest, "开启", scope="team")


@NORMS.verb("关闭", "off", aliases=("disable",), role=roles.OPS, scope=Scope.TEAM,
            args=("自评表|学习报告|创新|选题会|季度复盘", "selfeval|learning|innovation|topic|quarterly"),
            summary=("关掉一项可选提醒", "Switch an optional reminder off"), examples=["/规范 关闭 自评表"],
            examples_en=["/norms off selfeval"])
async def off_verb(ctx: Ctx, rest: str) -> None:
    await set_setting(ctx, rest, "关闭", scope="team")


@NORMS.verb("放行", "override", role=roles.OPS, scope=Scope.TEAM, args=("#<场次> <原因>", "#<stream> <reason>"),
            summary=("人工放行脚本审核", "Let the script review through by hand"), examples=["/规范 放行 #12 已人工复核"],
            examples_en=["/norms override #12 checked by hand"])
async def override_verb(ctx: Ctx, rest: str) -> None:
    await override(ctx, rest)


async def set_setting(ctx: Ctx, name: str, value: str, *, scope: str) -> None:
    key = config.NAMES.get(name.strip().lower())
    if key is None or (scope != "team" and key not in config.ROOM_KEYS):
        raise UserError("norms.unknown_setting", name=name[:20], names="、".join(
            n for n, k in config.NAMES.items() if scope == "team" or k in config.ROOM_KEYS))
    try:
        parsed = config.parse_value(key, value)
    except config.BadValue:
        raise UserError("norms.bad_value", value=value[:20], name=name,
                        example=EXAMPLES.get(key, EXAMPLES.get(key.split(".")[0], ""))) from None
    await config.set_value(ctx.session, key=key, value=parsed, scope=scope, by=ctx.user_id, now=ctx.now())
    if key.startswith(("announce.", "optional.")):
        await announce.ensure(ctx.session, ctx.now(), ctx.svc.settings.timezone)
    await ctx.reply(ctx.t("norms.set_done", name=names_for(key, ctx.locale), value=show_value(ctx, key, parsed)))


async def show(ctx: Ctx) -> None:
    cfg = await config.effective(ctx.session)
    card = Card(ctx.t("norms.config_title"))
    card.fields([(names_for(k, ctx.locale), show_value(ctx, k, v)) for k, v in cfg.items()])
    await ctx.reply(card=card)


async def show_checkpoints(ctx: Ctx, ref: str) -> None:
    stream = await schedule.get_stream(ctx.session, ref)
    rows = await checkpoints.checkpoints_of(ctx.session, stream.id)
    tz = ctx.svc.tz
    lines = [f"{ctx.t('norms.cp.' + c.kind)} · {c.due_at.astimezone(tz):%m-%d %H:%M} · "
             f"{ctx.t('norms.status.' + c.status)}" + (f" · {c.latency_ms} ms" if c.latency_ms is not None else "")
             + (f" · R{c.gate_record_id}" if c.gate_record_id else "")
             for c in rows]
    await ctx.reply(card=Card(ctx.t("norms.checkpoints_title", id=stream.id)).markdown(
        "\n".join(escape_md(x) for x in lines) or "-"))


async def override(ctx: Ctx, rest: str) -> None:
    words = rest.split(None, 1)
    if not words:
        raise UsageError(ctx.t("norms.override_need_reason"))
    stream = await schedule.get_stream(ctx.session, words[0])
    reason = words[1].strip() if len(words) > 1 else ""
    for prefix in ("原因", "reason"):
        reason = reason.removeprefix(prefix).strip(" ：:")
    if not reason:
        raise UserError("norms.override_need_reason")
    cp = await checkpoints.get_checkpoint(ctx.session, stream.id, "script")
    if cp is None:
        cp = Checkpoint(stream_id=stream.id, kind="script", due_at=ctx.now(), chat_id=stream.chat_id)
        ctx.session.add(cp)
        await ctx.session.flush()
    from bot.commands.live import confirm

    if cp.status != "open":
        cp.status = "open"
    await confirm(ctx, cp, override=reason)
    await ctx.reply(ctx.t("norms.override_done", id=stream.id))


CADENCE = command_group("节奏", "cadence", summary=("直播中节奏提醒：暂停、继续、按直播间设置",
                                                   "In-stream cadence: pause, resume, per-room minutes"),
                        group=("直播", "Live"), order=13)


@CADENCE.verb("#场次", "#stream", pattern=r"[#＃]\d+", scope=Scope.TEAM, ref="none", args=("#<场次>", "#<stream>"),
              summary=("一场的节奏状态", "A stream's cadence"), examples=["/节奏 #12"], examples_en=["/cadence #12"])
async def cadence_state(ctx: Ctx, rest: str) -> None:
    stream = await schedule.get_stream(ctx.session, rest.split()[0])
    state = await cadence.state(ctx.session, stream.id)
    if not state:
        raise UserError("norms.cadence_none", id=stream.id)
    items = "、".join(f"{ctx.t('norms.what.' + w)} {ctx.t('norms.state.' + t.state)}" for w, t in state.items())
    await ctx.reply(ctx.t("norms.cadence_state", id=stream.id, items=items))


async def _pause_or_resume(ctx: Ctx, pausing: bool) -> None:
    stream = await schedule.get_stream(ctx.session, str(ctx.ref))
    if pausing:
        n = await cadence.pause(ctx.session, stream.id)
    else:
        n = await cadence.resume(ctx.session, stream.id, ctx.now())
    if not n:
        raise UserError("norms.cadence_none", id=stream.id)
    await ctx.reply(ctx.t("norms.cadence_paused" if pausing else "norms.cadence_resumed", id=stream.id, n=n))


@CADENCE.verb("暂停", "pause", aliases=("stop",), scope=Scope.OWNERS, record=records.STREAM, args=("#<场次>", "#<stream>"),
              summary=("暂停这场的提醒", "Pause a stream's nudges"), examples=["/节奏 暂停 #12"], examples_en=["/cadence pause #12"])
async def pause_verb(ctx: Ctx, rest: str) -> None:
    await _pause_or_resume(ctx, True)


@CADENCE.verb("继续", "resume", aliases=("恢复",), scope=Scope.OWNERS, record=records.STREAM, args=("#<场次>", "#<stream>"),
              summary=("恢复这场的提醒", "Resume a stream's nudges"), examples=["/节奏 继续 #12"],
              examples_en=["/cadence resume #12"])
async def resume_verb(ctx: Ctx, rest: str) -> None:
    await _pause_or_resume(ctx, False)


@CADENCE.verb("设置", "set", default=True, role=roles.OPS, scope=Scope.TEAM,
              accepts=lambda rest: len(rest.split()) == 3,
              args=("<直播间> 互动|数据|福袋 <分钟>", "<room> interact|data|bag <minutes>"),
              summary=("某个直播间自己的节奏", "A room's own cadence"), examples=["/节奏 1号间 互动 10"],
              examples_en=["/cadence 1号间 interact 10"])
async def cadence_room(ctx: Ctx, args: str) -> None:
    words = args.split()
    if len(words) < 3:
        raise UsageError(ctx.t("norms.unknown_setting", name=args[:20], names="互动 数据 福袋"))
    room = await schedule.find_room(ctx.session, words[0])
    await set_setting(ctx, words[1], words[2], scope=f"room:{room.id}")
