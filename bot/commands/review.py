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

from bot import records
from bot.access import Scope, parse_ref
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.faults.classify import reads_as_fault
from bot.data import visibility
from bot.errors import UserError
from bot.feishu.events import CardAction
from bot.people import names as names_of
from bot.reviews import cards, service
from bot.reviews.models import DONE, HIGHLIGHT, IMPROVEMENT, SHORTCOMING, Review, ReviewItem
from bot.tasks import notify, parse
from bot.tasks import service as tasks
from bot.tasks.models import REVIEW, Task

KIND_WORDS = {"亮点": HIGHLIGHT, "highlight": HIGHLIGHT, "highlights": HIGHLIGHT, "不足": SHORTCOMING,
              "问题": SHORTCOMING, "shortcoming": SHORTCOMING, "shortcomings": SHORTCOMING, "改进": IMPROVEMENT,
              "改进项": IMPROVEMENT, "improvement": IMPROVEMENT, "improve": IMPROVEMENT}
LINE = re.compile(r"^\s*(亮点|不足|问题|改进项?|highlights?|shortcomings?|improvements?|improve)\s*[:：]?\s*(.*)$", re.I)
REF = re.compile(r"^([#＃]\d{1,9}|[Rr]\d{1,9})$")


COMMAND = command_group("复盘", "review", summary=("直播复盘：亮点、不足、改进，改进转任务",
                                                  "Post-stream review: highlights, shortcomings, improvements"),
                       aliases=("复盘会",), group=("复盘与任务", "Reviews & tasks"), order=40)


def _is_review_text(rest: str) -> bool:
    """"@LiveOps 复盘 …" is the review unless the rest reads as a fault report."""
    text = rest.strip()
    return not text or bool(REF.match(text)) or bool(LINE.match(text)) or not reads_as_fault(text)


@COMMAND.verb("打开", "open", aliases=("查看", "show"), default=True, scope=Scope.RECORD, record=records.REVIEW,
             ref="handler", accepts=_is_review_text,
             args=("[#场次|R编号|直播间|日期]，或换行写 亮点：… 不足：… 改进：…", "[#stream|R id|room|date], or lines 亮点：…"),
             summary=("打开（或新建）复盘卡片", "Open (or start) a review card"),
             examples=["/复盘", "/复盘 改进：优化脚本时长，设置倒计时提醒 @小王 7月15日前"],
             examples_en=["/review", "/review #8"])
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
    elif (m := LINE.match(text)) and m.group(2).strip():
        await add_line(ctx, KIND_WORDS[m.group(1).lower()], m.group(2))
    else:
        await open_(ctx, text)


async def add_line(ctx: Ctx, kind: str, body: str) -> None:
    body = body.strip()
    first, _, after = body.partition(" ")
    review = await current(ctx, first) if REF.match(first) else await current(ctx, "")
    if REF.match(first):
        body = after
    if not body.strip():
        raise UserError("reviews.need_text")
    item = await add(ctx, review, kind, body)
    await refresh(ctx, review)
    await ctx.reply(ctx.t("reviews.added", ref=cards.ref(review), id=item.id, kind=ctx.t("reviews.kind." + item.kind)))


def _kind_verb(word: str, en: str, aliases: tuple[str, ...], kind: str, summary: tuple[str, str], example: str,
               example_en: str) -> None:
    async def verb(ctx: Ctx, rest: str) -> None:
        await service.ensure_sweep(ctx.session, ctx.now())
        await add_line(ctx, kind, rest)

    verb.__name__ = verb.__qualname__ = f"review_{en}"
    COMMAND.verb(word, en, aliases=aliases, scope=Scope.RECORD, record=records.REVIEW, ref="handler",
                args=("[#场次] <内容>", "[#stream] <text>"), summary=summary, examples=[example],
                examples_en=[example_en])(verb)


_kind_verb("亮点", "highlight", ("highlights",), HIGHLIGHT, ("记一条亮点", "Add a highlight"),
           "/复盘 亮点 #8 开场三分钟留人好", "/review highlight #8 strong first three minutes")
_kind_verb("不足", "shortcoming", ("问题", "shortcomings"), SHORTCOMING, ("记一条不足", "Add a shortcoming"),
           "/复盘 不足 #8 三款产品讲解超时", "/review shortcoming #8 three products ran over time")
_kind_verb("改进", "improvement", ("改进项", "improve"), IMPROVEMENT,
           ("记一条改进（@负责人+截止时间就直接成任务）", "Add an improvement (@owner + deadline makes it a task)"),
           "/复盘 改进 #8 优化脚本时长 @小王 7月15日前", "/review improvement #8 shorter script @小王 by friday")


@COMMAND.verb("列表", "list", aliases=("全部",), scope=Scope.TEAM, summary=("本群的复盘", "This chat's reviews"),
             examples=["/复盘 列表"], examples_en=["/review list"])
async def list_verb(ctx: Ctx, rest: str) -> None:
    reviews = await service.list_reviews(ctx.session, ctx.chat_id)
    counts = await service.counts(ctx.session, [r.id for r in reviews])
    await ctx.reply(card=cards.list_card(ctx.t, reviews, counts, ctx.svc.tz, ctx.locale))


@COMMAND.verb("完成", "finish", aliases=("结束", "提交", "done", "close"), scope=Scope.RECORD, record=records.REVIEW,
             ref="handler", args=("[#场次|R编号]", "[#stream|R id]"), summary=("完成复盘，发总结卡片", "Finish: post the summary"),
             examples=["/复盘 完成"], examples_en=["/review finish"])
async def finish_verb(ctx: Ctx, rest: str) -> None:
    await finish(ctx, await current(ctx, rest.strip()))


@COMMAND.verb("任务", "task", aliases=("转任务",), scope=Scope.RECORD, record=records.REVIEW, ref="handler",
             args=("<条目号> @负责人 <截止>", "<item> @owner <deadline>"), summary=("改进项转任务", "Improvement → task"),
             examples=["/复盘 任务 14 @小王 周五前"], examples_en=["/review task 14 @小王 by friday"])
async def task_verb(ctx: Ctx, rest: str) -> None:
    item_ref, _, more = rest.strip().partition(" ")
    item_id = parse_ref(item_ref.strip("[]"))
    if item_id is None:
        raise UserError("reviews.need_item")
    await item_to_task(ctx, await service.get_item(ctx.session, item_id), more)


async def current(ctx: Ctx, ref: str, *, create: bool = True) -> Review:
    """The review a command means: by ref, else this group's open one, else a new one."""
    if ref:
        review = await service.by_ref(ctx.session, ctx.chat_id, ref)
        if review is None and ref.lstrip("#＃").isdigit():
            stream_id = await ctx.load(records.STREAM, parse_ref(ref))
            stream = await service.get_stream(ctx.session, stream_id)
            if stream is None:
                raise UserError("reviews.stream_not_found", ref=ref)
            review, _ = await service.open_review(ctx.session, chat_id=ctx.chat_id, stream=stream, by=ctx.user_id,
                                                  now=ctx.now(), tz=ctx.svc.tz, locale=ctx.locale)
        if review is None:
            raise UserError("reviews.not_found", ref=ref)
        await ctx.load(records.REVIEW, review.id)
        return review
    review = await service.latest_open(ctx.session, ctx.chat_id)
    if review is None:
        stream = await service.latest_ended_stream(ctx.session, ctx.chat_id)
        review, _ = await service.open_review(ctx.session, chat_id=ctx.chat_id, stream=stream, by=ctx.user_id,
                                              now=ctx.now(), tz=ctx.svc.tz, locale=ctx.locale)
    return review


async def open_(ctx: Ctx, text: str) -> None:
    if REF.match(text):
        review = await current(ctx, text)
    elif text:
        stream = await service.find_stream(ctx.session, ctx.chat_id, text, ctx.now(), ctx.svc.tz)
        if stream is None:
            raise UserError("reviews.stream_not_found", ref=text[:30])
        review, _ = await service.open_review(ctx.session, chat_id=ctx.chat_id, stream=stream, by=ctx.user_id,
                                              now=ctx.now(), tz=ctx.svc.tz, locale=ctx.locale)
    else:
        stream = await service.latest_ended_stream(ctx.session, ctx.chat_id)
        found = await service.review_for_stream(ctx.session, stream.id) if stream is not None else None
        if stream is None or found is not None and found.status == DONE:
            found = await service.latest_open(ctx.session, ctx.chat_id)
        if found is not None:
            review = found
        else:
            review, _ = await service.open_review(ctx.session, chat_id=ctx.chat_id, stream=stream, by=ctx.user_id,
                                                  now=ctx.now(), tz=ctx.svc.tz, locale=ctx.locale)
    if review.status != DONE and review.stream_id is not None:  # data imported since it was opened
        await service.prefill_kpis(ctx.session, review, await service.get_stream(ctx.session, review.stream_id),
                                   ctx.now(), ctx.locale)
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
    await ctx.load(records.REVIEW, item.review_id)
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
    figures = await service.stream_figures(ctx.session, stream, ctx.locale, masked=hide) if stream is not None else []
    return cards.review_card(ctx.t, review, items, task_map, names, members, figures, ctx.svc.tz, ctx.locale)


async def refresh(ctx: Ctx, review: Review, message_id: str | None = None) -> None:
    card = await render(ctx, review)
    if message_id:
        await ctx.update_card(message_id, card)
    if review.card_key:
        await ctx.update_card(f"@{review.card_key}", card, chat_id=review.chat_id)


# --------------------------------------------------------------------------- card buttons

async def _review(ctx: Ctx, act: CardAction) -> Review:
    review = await ctx.session.get(Review, ctx.ref)
    if review is None:
        raise UserError("reviews.not_found", ref=str(ctx.ref))
    return review


async def _item(ctx: Ctx, review: Review, item_id: object) -> ReviewItem:
    """An improvement item of the pressed card's review (never another review's)."""
    found = parse_ref(str(item_id or ""))
    if found is None:
        raise UserError("reviews.need_item")
    item = await service.get_item(ctx.session, found)
    if item.review_id != review.id:
        raise UserError("reviews.item_not_found", id=found)
    return item


@cards.ADD.handle
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


@cards.PICK_TASK.handle
async def task_pressed(ctx: Ctx, act: CardAction) -> None:
    form = act.form_value or {}
    item = await _item(ctx, await _review(ctx, act), form.get("item"))
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


@cards.TO_TASK.handle
async def totask_pressed(ctx: Ctx, act: CardAction) -> None:
    item = await _item(ctx, await _review(ctx, act), act.value.get("item"))
    await item_to_task(ctx, item, "", message_id=act.message_id)


@cards.FINISH.handle
async def finish_pressed(ctx: Ctx, act: CardAction) -> None:
    await finish(ctx, await _review(ctx, act), act.message_id)
