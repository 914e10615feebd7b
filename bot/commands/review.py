"""/复盘 (/review): post-stream reviews, 亮点 / 不足 / 改进, improvements become tasks.

    /复盘                     the latest ended stream of this group (or a review of no stream)
    /复盘 #8 | R3 | 1号间 | 11月26日   open (or show) that review
    /复盘 不足 #8 三款产品讲解超时     add an item (亮点 / 不足 / 改进), to the given or the open review
    /复盘 改进：优化脚本时长，设置倒计时提醒 @小王 7月15日前   an improvement that becomes a task at once
    /复盘 任务 14 @小王 周五前         improvement item [14] → task
    /复盘 完成 [#8]                    finish: the summary card goes to the group
    /复盘 列表
Several lines at once work too: "/复盘\n亮点：…\n不足：…\n改进：… @小王 周五前".
"""
from __future__ import annotations

import re
from datetime import datetime

from bot.commands.registry import action, command, on_startup
from bot.context import Ctx
from bot.data import visibility
from bot.errors import UserError
from bot.feishu.events import CardAction
from bot.people import names as names_of
from bot.reminders import timers
from bot.reviews import cards, service
from bot.reviews.models import DONE, HIGHLIGHT, IMPROVEMENT, SHORTCOMING, Review, ReviewItem
from bot.tasks import notify, parse
from bot.tasks import service as tasks
from bot.tasks.models import REVIEW, Task

KIND_WORDS = {"亮点": HIGHLIGHT, "highlight": HIGHLIGHT, "highlights": HIGHLIGHT, "不足": SHORTCOMING,
              "问题": SHORTCOMING, "shortcoming": SHORTCOMING, "shortcomings": SHORTCOMING, "改进": IMPROVEMENT,
              "改进项": IMPROVEMENT, "improvement": IMPROVEMENT, "improve": IMPROVEMENT}
LIST = {"列表", "list", "全部"}
FINISH = {"完成", "结束", "提交", "finish", "done", "close"}
TO_TASK = {"任务", "转任务", "task"}
LINE = re.compile(r"^\s*(亮点|不足|问题|改进项?|highlights?|shortcomings?|improvements?|improve)\s*[:：]?\s*(.*)$", re.I)
REF = re.compile(r"^([#＃]\d{1,9}|[Rr]\d{1,9})$")


@command("复盘", "review", examples_en=["/review", "/review list", "/review #8", "/review shortcoming #8 three products ran over time"],
         summary=("直播复盘：亮点、不足、改进，改进转任务", "Post-stream review: highlights, shortcomings, improvements"),
         usage=("/复盘 [#场次|R编号|直播间|日期] ｜ /复盘 亮点/不足/改进 [#场次] <内容> ｜ /复盘 任务 <条目号> @负责人 <截止> ｜ "
                "/复盘 完成 ｜ /复盘 列表",
                "/review [#stream|R id|room|date] | /review highlight/shortcoming/improvement [#stream] <text> | "
                "/review task <item> @owner <deadline> | /review finish | /review list"),
         examples=["/复盘", "/复盘 不足 #8 三款产品讲解超时", "/复盘 改进：优化脚本时长，设置倒计时提醒 @小王 7月15日前",
                   "/复盘 列表", "/review #8"],
         aliases=("复盘会",), group=("复盘与任务", "Reviews & tasks"), order=40)
async def review_command(ctx: Ctx, args: str) -> None:
    await service.ensure_sweep(ctx.session, ctx.now())
    text = args.strip()
    lines = [m for m in (LINE.match(x) for x in text.splitlines()) if m]
    if len(lines) > 1 or (lines and "\n" in text):
        review = await current(ctx, "")
        for m in lines:
            await add(ctx, review, KIND_WORDS[m.group(1).lower()], m.group(2))
        await refresh(ctx, review)
        await ctx.reply(ctx.t("reviews.added_many", n=len(lines), ref=cards.ref(review)))
        return
    head, _, rest = text.partition(" ")
    word = head.lower().rstrip(":：")
    m = LINE.match(text)
    if word in LIST:
        reviews = await service.list_reviews(ctx.session, ctx.chat_id)
        counts = await service.counts(ctx.session, [r.id for r in reviews])
        await ctx.reply(card=cards.list_card(ctx.t, reviews, counts, ctx.svc.tz, ctx.locale))
    elif word in FINISH:
        await finish(ctx, await current(ctx, rest.strip()))
    elif word in TO_TASK:
        item_ref, _, more = rest.strip().partition(" ")
        if not item_ref.strip("[]").isdigit():
            raise UserError("reviews.need_item")
        await item_to_task(ctx, await service.get_item(ctx.session, int(item_ref.strip("[]"))), more)
    elif m:
        body = m.group(2).strip()
        first, _, after = body.partition(" ")
        review = await current(ctx, first) if REF.match(first) else await current(ctx, "")
        if REF.match(first):
            body = after
        item = await add(ctx, review, KIND_WORDS[m.group(1).lower()], body)
        await refresh(ctx, review)
        await ctx.reply(ctx.t("reviews.added", ref=cards.ref(review), id=item.id,
                              kind=ctx.t("reviews.kind." + item.kind)))
    else:
        await open_(ctx, text)


async def current(ctx: Ctx, ref: str, *, create: bool = True) -> Review:
    """The review a command means: by ref, else this group's open one, else a new one."""
    if ref:
        review = await service.by_ref(ctx.session, ctx.chat_id, ref)
        if review is None and ref.lstrip("#＃").isdigit():
            stream = await service.get_stream(ctx.session, int(ref.lstrip("#＃")))
            if stream is None:
                raise UserError("reviews.stream_not_found", ref=ref)
            review, _ = await service.open_review(ctx.session, chat_id=ctx.chat_id, stream=stream, by=ctx.user_id,
                                                  now=ctx.now(), tz=ctx.svc.tz)
        if review is None:
            raise UserError("reviews.not_found", ref=ref)
        return review
    review = await service.latest_open(ctx.session, ctx.chat_id)
    if review is None:
        stream = await service.latest_ended_stream(ctx.session, ctx.chat_id)
        review, _ = await service.open_review(ctx.session, chat_id=ctx.chat_id, stream=stream, by=ctx.user_id,
                                              now=ctx.now(), tz=ctx.svc.tz)
    return review


async def open_(ctx: Ctx, text: str) -> None:
    if REF.match(text):
        review = await current(ctx, text)
    elif text:
        stream = await service.find_stream(ctx.session, ctx.chat_id, text, ctx.now(), ctx.svc.tz)
        if stream is None:
            raise UserError("reviews.stream_not_found", ref=text[:30])
        review, _ = await service.open_review(ctx.session, chat_id=ctx.chat_id, stream=stream, by=ctx.user_id,
                                              now=ctx.now(), tz=ctx.svc.tz)
    else:
        stream = await service.latest_ended_stream(ctx.session, ctx.chat_id)
        found = await service.review_for_stream(ctx.session, stream.id) if stream is not None else None
        if stream is None or found is not None and found.status == DONE:
            found = await service.latest_open(ctx.session, ctx.chat_id)
        if found is not None:
            review = found
        else:
            review, _ = await service.open_review(ctx.session, chat_id=ctx.chat_id, stream=stream, by=ctx.user_id,
                                                  now=ctx.now(), tz=ctx.svc.tz)
    card = await render(ctx, review)
    key = await ctx.reply(card=card)
    if review.status != DONE:
        review.card_key = key


async def add(ctx: Ctx, review: Review, kind: str, text: str) -> ReviewItem:
    if review.status == DONE:
        raise UserError("reviews.already_done", ref=cards.ref(review))
    owner, due = None, None
    if kind == IMPROVEMENT and re.search(r"[@＠]", text):
        owners, text = await parse.owners_in(ctx, text, chat_id=review.chat_id)
        owner = owners[0] if owners else None
        if parse.has_deadline(ctx, text):
            due, text = parse.deadline_in(ctx, text)
    item = await service.add_item(ctx.session, review, kind, text.strip(" ，,。"), by=ctx.user_id, now=ctx.now(),
                                  owner_id=owner, due=due)
    if owner and due:
        await make_task(ctx, review, item, owner, due)
    return item


async def make_task(ctx: Ctx, review: Review, item: ReviewItem, owner: str, due: datetime) -> Task:
    task, created = await tasks.create_task(
        ctx.session, chat_id=review.chat_id, title=item.text, owners=[owner], due=due, by=ctx.user_id, now=ctx.now(),
        source=REVIEW, source_ref=f"review:{review.id}", review_id=review.id, review_item_id=item.id,
        stream_id=review.stream_id, idem_key=f"review-item:{item.id}")
    item.task_id, item.owner_id, item.due_at = task.id, owner, due
    if created:
        await notify.assigned(ctx, task)
    return task


async def item_to_task(ctx: Ctx, item: ReviewItem, more: str, *, message_id: str | None = None) -> None:
    review = await ctx.session.get(Review, item.review_id)
    if item.task_id is not None:
        await ctx.reply(ctx.t("reviews.item_has_task", id=item.id, task=item.task_id))
        return
    owners, rest = await parse.owners_in(ctx, more, chat_id=review.chat_id) if more.strip() else ([], "")
    owner = owners[0] if owners else item.owner_id
    due = parse.deadline_in(ctx, rest)[0] if rest.strip() else item.due_at
    if not owner:
        raise UserError("reviews.task_needs_owner", id=item.id)
    if due is None:
        raise UserError("reviews.task_needs_due", id=item.id)
    await make_task(ctx, review, item, owner, due)
    await refresh(ctx, review, message_id)


async def finish(ctx: Ctx, review: Review, message_id: str | None = None) -> None:
    if not await service.finish(ctx.session, review, by=ctx.user_id, now=ctx.now()):
        await ctx.reply(ctx.t("reviews.already_done", ref=cards.ref(review)))
        return
    card = await render(ctx, review)
    await refresh(ctx, review, message_id)
    await ctx.send(review.chat_id, card=card)
    if ctx.chat_id != review.chat_id:
        await ctx.reply(ctx.t("reviews.finished", ref=cards.ref(review)))


async def render(ctx: Ctx, review: Review):
    items = await service.items_of(ctx.session, review.id)
    task_ids = [i.task_id for i in items if i.task_id]
    found = {tid: await ctx.session.get(Task, tid) for tid in task_ids}
    task_map = {k: v for k, v in found.items() if v is not None}
    people = {i.owner_id for i in items if i.owner_id} | ({review.finished_by} if review.finished_by else set())
    names = await names_of(ctx, sorted(people)) if people else {}
    members = []
    if review.status != DONE and any(i.kind == IMPROVEMENT and not i.task_id for i in items):
        group = await parse.members(ctx, review.chat_id)
        members = sorted(((oid, n or oid[-6:]) for oid, n in group.items()), key=lambda p: p[1])
    stream = await service.get_stream(ctx.session, review.stream_id) if review.stream_id is not None else None
    # the card lives in the review's group (and may be answered here): sales hidden if either hides them
    hide = any([await visibility.sales_hidden(ctx.session, chat, held=ctx.roles if chat == ctx.chat_id else None)
                for chat in {review.chat_id, ctx.chat_id}])
    figures = await service.stream_figures(ctx.session, stream, hide_sales=hide) if stream is not None else []
    return cards.review_card(ctx.t, review, items, task_map, names, members, figures, ctx.svc.tz, ctx.locale)


async def refresh(ctx: Ctx, review: Review, message_id: str | None = None) -> None:
    card = await render(ctx, review)
    if message_id:
        await ctx.update_card(message_id, card)
    if review.card_key:
        await ctx.update_card(f"@{review.card_key}", card, chat_id=review.chat_id)


# --------------------------------------------------------------------------- card buttons

async def _review(ctx: Ctx, act: CardAction) -> Review:
    review = await ctx.session.get(Review, int(act.value.get("id", 0)))
    if review is None:
        raise UserError("reviews.not_found", ref=str(act.value.get("id", "")))
    return review


@action("review.add")
async def add_pressed(ctx: Ctx, act: CardAction) -> None:
    review = await _review(ctx, act)
    form = act.form_value or {}
    added = 0
    for kind in (HIGHLIGHT, SHORTCOMING, IMPROVEMENT):
        for line in str(form.get(kind) or "").splitlines():
            if line.strip():
                await add(ctx, review, kind, line)
                added += 1
    if not added:
        raise UserError("reviews.need_text")
    await refresh(ctx, review, act.message_id)


@action("review.task")
async def task_pressed(ctx: Ctx, act: CardAction) -> None:
    form = act.form_value or {}
    item_id = str(form.get("item") or "")
    if not item_id.isdigit():
        raise UserError("reviews.need_item")
    item = await service.get_item(ctx.session, int(item_id))
    owner = str(form.get("owner") or "")
    group = await parse.members(ctx, ctx.chat_id)
    if owner and group and owner not in group:
        raise UserError("tasks.owner_not_in_group", name=owner[-6:])
    if owner:
        item.owner_id = owner
    due_text = str(form.get("due") or "").strip()
    if due_text:
        item.due_at = parse.deadline_in(ctx, due_text)[0]
    await item_to_task(ctx, item, "", message_id=act.message_id)


@action("review.totask")
async def totask_pressed(ctx: Ctx, act: CardAction) -> None:
    item = await service.get_item(ctx.session, int(act.value.get("item", 0)))
    await item_to_task(ctx, item, "", message_id=act.message_id)


@action("review.finish")
async def finish_pressed(ctx: Ctx, act: CardAction) -> None:
    await finish(ctx, await _review(ctx, act), act.message_id)


# --------------------------------------------------------------------------- the 24-hour rule

@timers.handler("review.missing")
async def review_missing(ctx: Ctx, timer, *, due: datetime, late: bool) -> None:
    stream_id = int(timer.payload.get("stream", 0))
    review = await service.review_for_stream(ctx.session, stream_id)
    if review is not None and review.status == DONE:
        return
    stream = await service.get_stream(ctx.session, stream_id)
    if stream is None:
        return
    chat = stream.chat_id or timer.chat_id
    label = f"#{stream.id} " + await service.stream_label(ctx.session, stream, ctx.svc.tz)
    text = cards.overdue_text(ctx.t, label, stream.actual_end or stream.ends_at, ctx.svc.tz, ctx.locale)
    settings = await tasks.settings_for(ctx.session, chat)
    if timer.payload.get("stage") == "escalate":
        people = await notify.ops_leads(ctx, settings, [])
        text = ctx.t("reviews.missing_escalated") + text
    else:
        people = [stream.created_by] if stream.created_by else await notify.ops_leads(ctx, settings, [])
    for person in people:
        await ctx.dm(person, text)
    if chat:
        mentions = " ".join(f'<at user_id="{p}"></at>' for p in people)
        await ctx.send(chat, f"{text} {mentions}".strip())


@on_startup
async def plan_sweep(svc, session) -> None:
    """The hourly missing-review sweep is planned when the bot starts, not on the first /复盘."""
    await service.ensure_sweep(session, svc.clock.now())


@timers.handler(service.SWEEP_KEY)
async def sweep(ctx: Ctx, timer, *, due: datetime, late: bool) -> None:
    await service.sweep(ctx.session, ctx.now())
