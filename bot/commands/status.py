"""/状态 (/status): the inbox and outbox at a glance, and recent send failures (admins)."""
from __future__ import annotations

from sqlalchemy import func, select

from bot import roles
from bot.cards import Card
from bot.clock import wall_now
from bot.access import Scope
from bot.commands.registry import command, no_args
from bot.context import Ctx
from bot.store import inbox
from bot.store.models import OutboxMessage


@command("状态", "status", examples_en=["/status"],
         summary=("查看收发队列与发送失败", "Inbox, outbox and send failures"),
         scope=Scope.TEAM, accepts=no_args, examples=["/状态"], role=roles.ADMIN,
         group=("管理", "Admin"), order=90)
async def status(ctx: Ctx, args: str) -> None:
    box = await inbox.counts(ctx.session)
    out: dict[str, int] = dict((await ctx.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
    oldest = (await ctx.session.execute(select(func.min(OutboxMessage.created_at))
                                        .where(OutboxMessage.status == "pending"))).scalar()
    age = f"{int((wall_now() - oldest).total_seconds())}s" if oldest else ctx.t("status.none")
    card = Card(ctx.t("status.title"), template="grey").markdown(ctx.t(
        "status.body", inbox_pending=box.get("pending", 0), inbox_claimed=box.get("claimed", 0),
        inbox_failed=box.get("failed", 0), outbox_pending=out.get("pending", 0) + out.get("sending", 0),
        outbox_failed=out.get("failed", 0), oldest=age))
    failed = (await ctx.session.execute(
        select(OutboxMessage).where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id.desc()).limit(5))).scalars().all()
    if failed:
        lines = [ctx.t("status.failures")]
        for row in failed:
            when = row.sent_at.astimezone(ctx.svc.tz).strftime("%m-%d %H:%M") if row.sent_at else ""
            lines.append(f"- {when} `{row.op}` → `{row.target[:24]}` code {row.error_code}: {row.last_error or ''}"[:300])
        card.markdown("\n".join(lines))
    else:
        card.markdown(ctx.t("status.no_failures"))
    await ctx.reply(card=card)
