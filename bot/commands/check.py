"""/检查 (/check): script compliance checks, their records, and the team's terms/exemptions.

    /检查 <话术>                      check text
    /检查 #12 <话术>                  check text as the script of stream 12
    /检查 (as a reply), @LiveOps 检查  check the replied message (text, post or file);
                                      "检查 #12" links it to stream 12
    upload txt/md/docx (xlsx named 脚本/话术/文案/script) → checked automatically; a file
                                      name with "#12" links it to stream 12
    /检查 记录 [R12|#12]              recent records of this chat / one record / a stream's records
    /检查 复查 R12 <话术>             a corrected re-check linked to R12
    /检查 放行 R12 原因 ...           (ops) let a flagged script through, with a reason
    /检查 导出 [本月|上月|全部]         (ops) CSV of every field, written to the audit log
    /检查 豁免 [列表|删除 X|X 商品名]   team exemptions (changes: ops)
    /检查 词库 [列表|删除 X|添加 X 类别 必改|建议改 原因]   team terms (changes: ops)
"""
from __future__ import annotations

import re

from bot import periods, records, roles
from bot.access import Scope
from bot.commands.registry import command_group, on_file, on_mention
from bot.compliance import EXEMPTION_KINDS, cards, retention, service
from bot.faults.classify import reads_as_fault
from bot.compliance.extract import MAX_CHARS, ExtractError, extension, extract_lines_async, to_text
from bot.compliance.matcher import BLOCK, TEAM_CATEGORY, WARN, Verdict
from bot.compliance.models import DEFAULT_TEAM
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.feishu.events import IncomingMessage
from bot.people import names

LIST = {"", "列表", "查看", "list"}
ADD = {"添加", "新增", "add"}
DELETE = {"删除", "移除", "delete", "remove"}
REASON_WORDS = ("原因", "理由", "reason", "because")
EVERYTHING = {"全部", "所有", "all"}
SEVERITIES = {"必改": BLOCK, "block": BLOCK, "must": BLOCK, "建议改": WARN, "warn": WARN, "suggest": WARN}
KINDS = {"商品名": "商品名", "品名": "商品名", "product": "商品名", "商标": "商标", "trademark": "商标",
         "品牌内比较": "品牌内比较", "brand": "品牌内比较", "用法提示": "用法提示", "usage": "用法提示",
         "其他": "其他", "other": "其他"}
CATEGORY_WORDS = {"absolute": "绝对化", "endorsement": "权威背书", "medical": "医疗用语", "efficacy": "功效夸大",
                  "guarantee": "虚假承诺", "pressure": "诱导", "contact": "导流/私单", "superstition": "迷信",
                  "fake": "虚假数据", "pricing": "价格违规", "minors": "未成年人", "rivals": "贬低竞品",
                  "team": TEAM_CATEGORY}
ALWAYS = ("txt", "md", "docx")
SCRIPT_NAMED = ("xlsx", "xls", "doc", "pdf", "pptx", "wps")  # taken only when the name says script
SCRIPT_WORDS = ("脚本", "话术", "文案", "script")
STREAM_TAG = re.compile(r"[#＃]\s*(\d{1,9})(?!\d)")
REPLY_WORDS = re.compile(r"^(帮我|请|麻烦)?(合规)?检查(一下|下)?(这条|这个|这段)?(话术|文案|脚本)?$|^check( this| it)?$")


def team(ctx: Ctx) -> str:
    """One team per bot installation for now."""
    return DEFAULT_TEAM


def years(ctx: Ctx) -> int:
    return int(getattr(ctx.svc.settings, "compliance_retention_years", service.DEFAULT_RETENTION_YEARS))



CHECK = command_group("检查", "check", summary=("检查直播话术是否合规", "Check a live-stream script for risky wording"),
                      aliases=("合规检查", "话术检查"), group=("合规", "Compliance"), order=40)


def _is_script_text(rest: str) -> bool:
    """After an @mention, "检查 …" is a check unless it reads as a fault report ("check the mic
    in room 1, no sound")."""
    return bool(rest.strip()) and not reads_as_fault(rest)


@CHECK.verb("话术", "text", aliases=("文案", "脚本", "script"), default=True, scope=Scope.TEAM, accepts=_is_script_text,
            args=("[#场次] <话术>（或回复一条消息）", "[#stream] <script> (or as a reply)"),
            summary=("检查一段话术（回复一条消息、上传 txt/docx 脚本也行）", "Check a script (or reply to a message, or upload txt/docx)"),
            examples=["/检查 这款面霜全网最好用，三天祛痘", "/检查 #12 这款面霜质地轻薄"],
            examples_en=["/check this cream is the best on the whole internet"])
async def check_command(ctx: Ctx, args: str) -> None:
    if ctx.message is not None and ctx.message.parent_id and STREAM_TAG.fullmatch(args.strip()):
        stream_id = await _stream_id(ctx, args.strip(), strict=True)  # "/检查 #12" as a reply
        await _check_message(ctx, ctx.message.parent_id, stream_id=stream_id)
    elif STREAM_TAG.fullmatch(args.strip()):
        raise UsageError(ctx.t("compliance.need_text"))
    elif args.strip():
        await _check_text(ctx, args.strip(), source="text")
    elif ctx.message is not None and ctx.message.parent_id:
        await _check_message(ctx, ctx.message.parent_id)
    else:
        raise UsageError(ctx.t("compliance.need_text"))


@CHECK.verb("记录", "records", aliases=("record", "log"), scope=Scope.TEAM, args=("[R12|#场次]", "[R12|#stream]"),
            summary=("检查记录（本群、一条、一场）", "Check records (this chat, one, a stream)"),
            examples=["/检查 记录", "/检查 记录 #12"], examples_en=["/check records", "/check records R12"])
async def records_verb(ctx: Ctx, rest: str) -> None:
    await _records(ctx, rest)


@CHECK.verb("复查", "recheck", scope=Scope.RECORD, record=records.CHECK, ref="handler", args=("R12 <话术>", "R12 <script>"),
            summary=("改过之后再查一次（关联原记录）", "Check a corrected version (linked)"),
            examples=["/检查 复查 R12 这款面霜质地轻薄"], examples_en=["/check recheck R12 this cream feels light"])
async def recheck_verb(ctx: Ctx, rest: str) -> None:
    await _recheck(ctx, rest)


@CHECK.verb("放行", "override", role=roles.OPS, scope=Scope.TEAM, args=("R12 原因 …", "R12 reason …"),
            summary=("人工放行（写原因）", "Let it through by hand (with a reason)"), examples=["/检查 放行 R12 原因 已核对资质"],
            examples_en=["/check override R12 reason licence checked"])
async def override_verb(ctx: Ctx, rest: str) -> None:
    await _override(ctx, rest)


@CHECK.verb("导出", "export", role=roles.OPS, scope=Scope.TEAM, args=("[本月|上月|近7天|全部]", "[month|last-month|last 7 days|all]"),
            summary=("导出检查记录（记审计）", "Export the records (audit-logged)"), examples=["/检查 导出 本月"],
            examples_en=["/check export month"])
async def export_verb(ctx: Ctx, rest: str) -> None:
    await _export(ctx, rest)


def _listing(rest: str) -> bool:
    words = rest.split()
    return not words or (len(words) == 1 and words[0].lower() in LIST)


@CHECK.verb("豁免", "exempt", aliases=("exemption", "exemptions"), when=_listing, scope=Scope.TEAM,
            args=("[列表]", "[list]"), summary=("团队豁免词", "Team exemptions"), examples=["/检查 豁免"],
            examples_en=["/check exempt list"])
async def exempt_list_verb(ctx: Ctx, rest: str) -> None:
    await _exempt(ctx, rest)


@CHECK.verb("豁免", "exempt", aliases=("exemption", "exemptions"), role=roles.OPS, scope=Scope.TEAM,
            args=("<词> 商品名|商标|… ｜ 删除 <词>", "<phrase> product|trademark|… | delete <phrase>"),
            summary=("加或删豁免词", "Add or remove an exemption"), examples=["/检查 豁免 至尊礼盒 商品名"],
            examples_en=["/check exempt 至尊礼盒 product"])
async def exempt_verb(ctx: Ctx, rest: str) -> None:
    await _exempt(ctx, rest)


@CHECK.verb("词库", "terms", aliases=("term",), when=_listing, scope=Scope.TEAM, args=("[列表]", "[list]"),
            summary=("团队自己的词", "Team terms"), examples=["/检查 词库"], examples_en=["/check terms list"])
async def terms_list_verb(ctx: Ctx, rest: str) -> None:
    await _terms(ctx, rest)


@CHECK.verb("词库", "terms", aliases=("term",), role=roles.OPS, scope=Scope.TEAM,
            args=("添加 <词> <类别> 必改|建议改 <原因> ｜ 删除 <词>", "add <term> <category> block|warn <reason> | delete <term>"),
            summary=("加或删团队的词", "Add or remove a team term"), examples=["/检查 词库 添加 秒杀价 诱导 建议改 平台不让说"],
            examples_en=["/check terms add 秒杀价 pressure warn not allowed"])
async def terms_verb(ctx: Ctx, rest: str) -> None:
    await _terms(ctx, rest)


def _is_check_reply(msg: IncomingMessage) -> bool:
    text = STREAM_TAG.sub("", msg.text)
    words = re.sub(r"[\s，。,.!！?？~～…]+", "", text).lower()
    return bool(msg.parent_id) and bool(REPLY_WORDS.match(words))


@on_mention(priority=30, match=_is_check_reply, scope=Scope.TEAM)
async def check_replied(ctx: Ctx, msg: IncomingMessage) -> bool:
    """"@LiveOps 帮我检查一下" as a reply: the same as "@LiveOps 检查"."""
    tag = STREAM_TAG.search(msg.text)
    stream_id = await _stream_id(ctx, tag.group(0), strict=True) if tag else None  # "@LiveOps 检查 #12"
    await _check_message(ctx, msg.parent_id, stream_id=stream_id)
    return True


def is_script_file(file_name: str) -> bool:
    ext = extension(file_name)
    if ext in ALWAYS:
        return True
    return ext in SCRIPT_NAMED and any(w in file_name.lower() for w in SCRIPT_WORDS)


def _is_script_file(msg: IncomingMessage) -> bool:
    return msg.msg_type == "file" and bool(msg.file_key) and is_script_file(msg.file_name)


@on_file(priority=40, match=_is_script_file, scope=Scope.TEAM)
async def check_uploaded_script(ctx: Ctx, msg: IncomingMessage) -> bool:
    tag = STREAM_TAG.search(msg.file_name or "")  # "#12 面霜脚本.docx": the script of stream 12
    stream_id = await _stream_id(ctx, tag.group(0)) if tag else None
    await _check_file(ctx, msg.message_id, msg.file_key, msg.file_name, source="file", stream_id=stream_id,
                      reply_to=msg.parent_id or None)
    return True


# --------------------------------------------------------------------------- checking

async def _stream_id(ctx: Ctx, tag: str, *, strict: bool = False) -> int | None:
    """"#12" → 12 when stream 12 exists; otherwise None, or (``strict``) a UserError."""
    from bot.schedule.service import stream_by_id

    found = STREAM_TAG.search(tag)
    if found is None:
        return None
    stream_id = int(found.group(1))
    if await stream_by_id(ctx.session, stream_id) is not None:
        return stream_id
    if strict:
        raise UserError("compliance.stream_unknown", id=stream_id)
    return None


async def _run(ctx: Ctx, text: str, *, source: str, file_name: str | None = None,
               source_message_id: str | None = None, labels: list[str] | None = None,
               previous_id: int | None = None, stream_id: int | None = None, reply_to: str | None = None) -> None:
    if len(text) > MAX_CHARS:
        raise UserError("compliance.too_long", limit=MAX_CHARS)
    record, result = await service.run_check(
        ctx.session, text=text, chat_id=ctx.chat_id, user_id=ctx.user_id, now=ctx.now(), source=source,
        team=team(ctx), file_name=file_name, source_message_id=source_message_id, line_labels=labels,
        previous_id=previous_id, stream_id=stream_id, reply_to=reply_to, years=years(ctx))
    # the stream's T-2d script review reads its latest script-length record (bot/norms/script_gate.py)
    await retention.ensure(ctx.session, ctx.now(), ctx.svc.settings.timezone)  # daily purge, planned once
    # kept so that a reply to this card is read as a revision of this record
    record.card_key = await ctx.reply(card=cards.check_card(ctx.t, ctx.locale, record, result, ctx.svc.tz, labels))


async def _check_text(ctx: Ctx, text: str, *, source: str, previous_id: int | None = None,
                      stream_id: int | None = None) -> None:
    message_id = ctx.message.message_id if ctx.message else None
    tag = re.match(r"^[#＃](\d{1,9})\s+(.+)$", text, re.S)
    if tag:
        tagged = await _stream_id(ctx, text[:tag.end(1)])
        if tagged is not None:
            stream_id, text = tagged, tag.group(2).strip()
    reply_to = ctx.message.parent_id if ctx.message and ctx.message.parent_id else None
    await _run(ctx, text, source=source, source_message_id=message_id, previous_id=previous_id,
               stream_id=stream_id, reply_to=reply_to)


async def _check_message(ctx: Ctx, message_id: str, previous_id: int | None = None,
                         stream_id: int | None = None) -> None:
    content = await service.fetch_message(ctx.svc.platform, message_id)
    if content is None:
        raise UserError("compliance.parent_unreadable")
    if content.msg_type == "file" and content.file_key:
        if stream_id is None and STREAM_TAG.search(content.file_name or ""):
            stream_id = await _stream_id(ctx, content.file_name)
        await _check_file(ctx, message_id, content.file_key, content.file_name, source="reply",
                          previous_id=previous_id, stream_id=stream_id)
    elif content.text:
        await _run(ctx, content.text, source="reply", source_message_id=message_id, previous_id=previous_id,
                   stream_id=stream_id)
    else:
        raise UserError("compliance.parent_unsupported")


async def _check_file(ctx: Ctx, message_id: str, file_key: str, file_name: str, *, source: str,
                      previous_id: int | None = None, stream_id: int | None = None,
                      reply_to: str | None = None) -> None:
    data = await ctx.svc.platform.download(message_id, file_key)
    if not data:
        raise UserError("compliance.file_download_failed", name=file_name[:80])
    try:
        lines = await extract_lines_async(data, file_name)  # bounded, off the event loop
    except ExtractError as err:
        raise UserError("compliance.file_unreadable", reason=err.message(ctx.locale)) from None
    await _run(ctx, to_text(lines), source=source, file_name=file_name, source_message_id=message_id,
               labels=[line.label for line in lines], previous_id=previous_id, stream_id=stream_id,
               reply_to=reply_to)


# --------------------------------------------------------------------------- records

async def _record(ctx: Ctx, word: str):
    ref = service.parse_ref(word)
    if ref is None:
        raise UserError("compliance.need_ref")
    record = await service.get_record(ctx.session, ref, team(ctx))
    if record is None:
        raise UserError("compliance.record_not_found", ref=word[:20])
    await ctx.load(records.CHECK, record.id)
    return record


async def _stream_records(ctx: Ctx, word: str) -> None:
    """"/检查 记录 #12": the records of stream 12 (ops, or the stream's own group, see them all;
    anyone else those checked in this chat)."""
    from bot.schedule.service import stream_by_id

    stream_id = int(STREAM_TAG.fullmatch(word).group(1))
    stream = await stream_by_id(ctx.session, stream_id)
    if stream is None:
        raise UserError("compliance.stream_unknown", id=stream_id)
    everything = roles.allowed(ctx.roles, roles.OPS) or stream.chat_id == ctx.chat_id
    records = await service.stream_records(ctx.session, stream_id=stream_id, team=team(ctx),
                                           chat_id=None if everything else ctx.chat_id)
    who = await names(ctx, sorted({r.user_id for r in records})) if records else {}
    await ctx.reply(card=cards.records_card(ctx.t, ctx.locale, records, ctx.svc.tz, who, stream_id=stream_id))


async def _records(ctx: Ctx, rest: str) -> None:
    if rest and STREAM_TAG.fullmatch(rest.split()[0]):
        await _stream_records(ctx, rest.split()[0])
        return
    if rest:
        record = await _record(ctx, rest.split()[0])
        who = await names(ctx, [x for x in (record.user_id, record.overridden_by) if x])
        followup = await service.followup_of(ctx.session, record.id)
        await ctx.reply(card=cards.record_card(ctx.t, ctx.locale, record, service.result_of(record),
                                               ctx.svc.tz, who, followup))
        return
    records = await service.recent_records(ctx.session, chat_id=ctx.chat_id, team=team(ctx))
    who = await names(ctx, sorted({r.user_id for r in records})) if records else {}
    await ctx.reply(card=cards.records_card(ctx.t, ctx.locale, records, ctx.svc.tz, who))


async def _recheck(ctx: Ctx, rest: str) -> None:
    parts = rest.split(None, 1)
    if not parts:
        raise UsageError(ctx.t("compliance.need_ref"))
    previous = await _record(ctx, parts[0])
    text = parts[1].strip() if len(parts) > 1 else ""
    if text:  # a corrected script stays the script of the same stream
        await _check_text(ctx, text, source="text", previous_id=previous.id, stream_id=previous.stream_id)
    elif ctx.message is not None and ctx.message.parent_id:
        await _check_message(ctx, ctx.message.parent_id, previous_id=previous.id, stream_id=previous.stream_id)
    else:
        raise UsageError(ctx.t("compliance.need_text"))


async def _override(ctx: Ctx, rest: str) -> None:
    parts = rest.split(None, 1)
    if not parts:
        raise UsageError(ctx.t("compliance.need_ref"))
    record = await _record(ctx, parts[0])
    reason = parts[1].strip() if len(parts) > 1 else ""
    for word in REASON_WORDS:
        if reason.lower().startswith(word):
            reason = reason[len(word):].lstrip(" ：:")
            break
    if not reason:
        raise UsageError(ctx.t("compliance.override_need_reason"))
    ref = service.record_ref(record.id)
    if record.verdict == Verdict.PASS.value:
        raise UserError("compliance.override_pass", ref=ref)
    if record.status == "overridden" and record.overridden_at:
        raise UserError("compliance.override_already", ref=ref,
                        time=record.overridden_at.astimezone(ctx.svc.tz).strftime("%Y-%m-%d %H:%M"))
    await service.override(ctx.session, record, by=ctx.user_id, reason=reason, now=ctx.now(),
                           chat_id=ctx.chat_id, years=years(ctx))
    await ctx.reply(ctx.t("compliance.overridden", ref=ref, reason=reason[:200],
                          verdict=cards.verdict_label(record.verdict, ctx.locale)))


async def _export(ctx: Ctx, rest: str) -> None:
    word = rest.strip()
    period = None if word.lower() in EVERYTHING else periods.parse(word or "本月", ctx.local_now().date())
    if period is None and word.lower() not in EVERYTHING:
        raise UsageError(ctx.t("compliance.export_scope_hint"))
    export = await service.export_records(ctx.session, period=period, now=ctx.now(), tz=ctx.svc.tz,
                                          by=ctx.user_id, chat_id=ctx.chat_id, team=team(ctx), years=years(ctx))
    scope = period.label(ctx.t) if period is not None else ctx.t("compliance.scope_all")
    await ctx.reply(ctx.t("compliance.exported", count=export.count, scope=scope))
    await ctx.send_file(ctx.chat_id, export.file_name, export.data)


# --------------------------------------------------------------------------- team rules

async def _exempt(ctx: Ctx, rest: str) -> None:
    words = rest.split()
    verb = words[0].lower() if words else ""
    if verb in LIST and len(words) <= 1:
        _, exemptions = await service.team_rules(ctx.session, team(ctx))
        await ctx.reply(card=cards.exemptions_card(ctx.t, exemptions))
        return
    if verb in DELETE:
        if len(words) < 2:
            raise UsageError(ctx.t("compliance.exempt_usage"))
        done = await service.delete_exemption(ctx.session, phrase=words[1], by=ctx.user_id, now=ctx.now(),
                                              chat_id=ctx.chat_id, team=team(ctx))
        await ctx.reply(ctx.t("compliance.exempt_deleted" if done else "compliance.exempt_missing",
                              phrase=words[1][:50]))
        return
    if verb in ADD:
        words = words[1:]
    if not words or len(words) > 2:
        raise UsageError(ctx.t("compliance.exempt_usage"))
    kind = KINDS.get(words[1].lower()) if len(words) == 2 else "其他"
    if kind is None:
        raise UserError("compliance.exempt_kind_bad", kind=words[1][:20], choices="、".join(EXEMPTION_KINDS))
    try:
        row, created = await service.add_exemption(ctx.session, phrase=words[0], kind=kind, by=ctx.user_id,
                                                   now=ctx.now(), chat_id=ctx.chat_id, team=team(ctx))
    except service.RuleError as err:
        raise UserError(err.key, **err.values) from None
    await ctx.reply(ctx.t("compliance.exempt_added" if created else "compliance.exempt_updated",
                          phrase=row.phrase, kind=row.kind))


def _term_options(words: list[str]) -> tuple[str, str, str]:
    """[category] [severity] [reason...] in any order of the first two."""
    category, severity = TEAM_CATEGORY, WARN
    i = 0
    while i < len(words) and i < 2:
        w = words[i]
        if w in service.TERM_CATEGORIES or w.lower() in CATEGORY_WORDS:
            category = w if w in service.TERM_CATEGORIES else CATEGORY_WORDS[w.lower()]
        elif w.lower() in SEVERITIES:
            severity = SEVERITIES[w.lower()]
        else:
            break
        i += 1
    reason = " ".join(words[i:])
    for word in REASON_WORDS:
        if reason.lower().startswith(word):
            reason = reason[len(word):].lstrip(" ：:")
            break
    return category, severity, reason


async def _terms(ctx: Ctx, rest: str) -> None:
    words = rest.split()
    verb = words[0].lower() if words else ""
    if verb in LIST and len(words) <= 1:
        terms, _ = await service.team_rules(ctx.session, team(ctx))
        await ctx.reply(card=cards.terms_card(ctx.t, terms))
        return
    if verb in DELETE and len(words) >= 2:
        done = await service.delete_term(ctx.session, term=words[1], by=ctx.user_id, now=ctx.now(),
                                         chat_id=ctx.chat_id, team=team(ctx))
        await ctx.reply(ctx.t("compliance.term_deleted" if done else "compliance.term_missing", term=words[1][:50]))
        return
    if verb not in ADD or len(words) < 2:
        raise UsageError(ctx.t("compliance.term_usage"))
    options = words[2:]
    if options and options[0] not in service.TERM_CATEGORIES and options[0].lower() not in CATEGORY_WORDS \
            and options[0].lower() not in SEVERITIES and len(options) >= 2 \
            and options[1].lower() in SEVERITIES:
        raise UserError("compliance.category_bad", category=options[0][:20],
                        choices="、".join(service.TERM_CATEGORIES))
    category, severity, reason = _term_options(options)
    try:
        row, created = await service.add_term(ctx.session, term=words[1], category=category, severity=severity,
                                              reason=reason, by=ctx.user_id, now=ctx.now(), chat_id=ctx.chat_id,
                                              team=team(ctx))
    except service.RuleError as err:
        raise UserError(err.key, **err.values) from None
    await ctx.reply(ctx.t("compliance.term_added" if created else "compliance.term_updated", term=row.term,
                          category=row.category, severity=ctx.t(f"compliance.sev_{row.severity}")))
