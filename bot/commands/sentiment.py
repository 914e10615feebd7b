"""/舆情 (/backlash): a negative comment or brewing controversy during a stream, answered
within 3 minutes (bot.norms.sentiment); also "@LiveOps 3号间有人刷差评" when the words say so.

    /舆情 1号间 评论区有人带节奏说是假货     opens an alert: card, owner, 3-minute clock
    /舆情 列表                              the open ones
"""
from __future__ import annotations

from bot.access import Scope
from bot.cards import Card, escape_md
from bot.commands.registry import command_group, on_mention
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction, IncomingMessage
from bot.norms import config, sentiment
from bot.norms.more_models import CommentAlert

SENTIMENT = command_group("舆情", "backlash", summary=("差评/带节奏：3 分钟内正面回应", "Negative comments: answer within 3 minutes"),
                          aliases=("差评", "negative"), group=("直播", "Live"), order=16)


def _message_id(ctx: Ctx) -> str:
    return ctx.message.message_id if ctx.message is not None else ""


@SENTIMENT.verb("报告", "report", aliases=("报",), default=True, scope=Scope.TEAM, accepts=lambda rest: bool(rest.strip()),
                args=("[直播间] <评论内容或情况>", "[room] <what is being said>"),
                summary=("报一条差评或带节奏，开始 3 分钟计时", "Report a negative comment; the 3-minute clock starts"),
                examples=["/舆情 1号间 评论区有人带节奏说是假货"], examples_en=["/backlash room 1 someone says the goods are fake"])
async def report_verb(ctx: Ctx, rest: str) -> None:
    if not rest.strip():
        raise UsageError(ctx.t("more.sentiment_need_text"))
    await sentiment.report(ctx, rest, message_id=_message_id(ctx))


@SENTIMENT.verb("列表", "list", aliases=("open",), scope=Scope.TEAM, summary=("未处理的舆情", "Open alerts"),
                examples=["/舆情 列表"], examples_en=["/backlash list"])
async def list_verb(ctx: Ctx, rest: str) -> None:
    rows = await sentiment.open_alerts(ctx.session)
    card = Card(ctx.t("more.sentiment_list_title", n=len(rows)), template="orange" if rows else "green")
    tz = ctx.svc.tz
    card.markdown("\n".join(ctx.t("more.sentiment_line", id=r.id, where=escape_md(r.room_name or "-"),
                                  text=escape_md(r.text[:40]), due=r.due_at.astimezone(tz).strftime("%H:%M"))
                            for r in rows[:30]) or ctx.t("more.sentiment_none"))
    await ctx.reply(card=card)


def wants(msg: IncomingMessage) -> bool:
    """Words of a negative comment, and nothing the fault triage calls a fault (a real fault —
    "推流断了，评论区有人带节奏" — stays a fault)."""
    if not sentiment.WORDS.search(msg.text or ""):
        return False
    from bot.faults.classify import classify

    return not classify(msg.text).is_fault


@on_mention(priority=70, match=wants, scope=Scope.TEAM, label=("报舆情", "report a negative comment"))
async def sentiment_mention(ctx: Ctx, msg: IncomingMessage) -> bool:
    from bot.faults import service as faults

    if await faults.by_group(ctx.session, ctx.chat_id) is not None:
        return False  # said in a fault group: evidence on the fault's timeline
    await sentiment.report(ctx, msg.text, message_id=msg.message_id)
    return True


@sentiment.HANDLED_BUTTON.handle
async def handled_pressed(ctx: Ctx, act: CardAction) -> None:
    alert = await ctx.session.get(CommentAlert, int(ctx.ref or 0))
    if alert is None:
        raise UserError("more.not_found")
    if not await sentiment.mark_handled(ctx, alert):
        ctx.toast(ctx.t("more.sentiment_already"), "info")
        return
    cfg = await config.effective(ctx.session)
    shown = sentiment.card(ctx, alert, cfg["sentiment.replies"], stage="handled")
    ctx.respond_card(shown)
    if alert.card_key:
        await ctx.update_card(f"@{alert.card_key}", shown, chat_id=alert.chat_id)
    took = int((alert.handled_at - alert.created_at).total_seconds())
    ctx.toast(ctx.t("more.sentiment_handled_toast", id=alert.id, m=took // 60, s=took % 60), "success")
