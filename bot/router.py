"""From a parsed event to the handler that answers it.

Commands: "/name verb args" anywhere; "name verb args" after an @mention or in a direct chat
only when the arguments parse as that command (otherwise it is natural language: "@LiveOps
room 2 stream just went down" is a fault report, not /room). Other @mentions go to the mention
handlers by priority, files to the file handlers; plain group chatter goes to the chatter
handlers (which never reply). Before any handler runs, the router checks the role and the
scope its declaration names (bot.access) — for typed commands, @mentions, files and card
presses alike. User errors are answered in the chat's language and roll back whatever the
handler had written; unexpected errors answer with a reference id only. A card press is
answered in the callback's response (a toast to the presser), never by a group message.
"""
from __future__ import annotations

import difflib
import logging
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import access, roles
from bot.access import Scope
from bot.cards import Button, Card
from bot.commands.help import HELP_SHOW
from bot.commands.registry import ActionSpec, CommandSpec, MessageHandler, VerbSpec
from bot.context import Ctx
from bot.errors import PermissionDenied, UsageError, UserError
from bot.feishu import groupmode
from bot.feishu.events import BotAdded, CardAction, Event, IncomingMessage, OtherEvent
from bot.i18n import pick, t
from bot.known import SLASHES, Known
from bot.services import Services
from bot.store.db import insert_ignore
from bot.store.models import Chat, Person, RoleGrant

log = logging.getLogger("bot.router")
# Built once: every message runs these. _WHO answers in one round trip whether the chat and
# the person are known, their languages, and whether the person holds any granted role.
_C, _P, _R = Chat.__table__, Person.__table__, RoleGrant.__table__
_WHO = select(
    select(_C.c.locale).where(_C.c.chat_id == bindparam("chat")).scalar_subquery().label("chat_locale"),
    exists().where(_C.c.chat_id == bindparam("chat")).label("chat_known"),
    select(_P.c.locale).where(_P.c.open_id == bindparam("user")).scalar_subquery().label("person_locale"),
    exists().where(_P.c.open_id == bindparam("user")).label("person_known"),
    exists().where(_R.c.open_id == bindparam("user")).label("has_roles"),
    select(_C.c.kind).where(_C.c.chat_id == bindparam("chat")).scalar_subquery().label("chat_kind"))


@dataclass(frozen=True)
class Parsed:
    name: str
    args: str
    explicit: bool  # written with a slash


def parse_command(text: str, addressed: bool) -> Parsed | None:
    """Split "/name args" (or "name args" when addressed to the bot) into its parts."""
    text = text.strip()
    explicit = text.startswith(SLASHES)
    if explicit:
        text = text[1:].lstrip()
    elif not addressed:
        return None
    if not text:
        return None
    head, _, rest = text.partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + (" " + rest if rest else "")
    return Parsed(head.strip(), rest.strip(), explicit)


def _number_out_of_range(exc: BaseException) -> bool:
    """A number typed by someone was too large for a database column (SQLite raises
    OverflowError; PostgreSQL's driver a DataError "out of int32/int64 range")."""
    if isinstance(exc, OverflowError):
        return True
    orig = getattr(exc, "orig", None) or exc.__cause__
    text = f"{type(orig).__name__}: {orig}" if orig is not None else ""
    return isinstance(exc, DBAPIError) and ("out of" in text and "range" in text or "OverflowError" in text)


def _long_number(ctx: Ctx) -> str:
    text = ctx.message.text if ctx.message is not None else ""
    found = re.findall(r"\d{10,}", text)
    return (found[0][:24] + ("…" if len(found[0]) > 24 else "")) if found else "?"


def new_ref() -> str:
    return secrets.token_hex(4).upper()


class Router:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.registry = svc.registry
        self.known = Known()  # chats and people read lately: chatter the intake may settle

    def settled(self, event: Event) -> bool:
        """True when handling ``event`` would change nothing and answer nothing: another
        app's message, or plain group chatter in a chat (and from a person) on record, that
        no chatter handler listens to (bot.known). The intake stores it done."""
        if not isinstance(event, IncomingMessage):
            return False
        msg = event
        if msg.sender_type != "user" or not msg.sender_id:
            return True  # _message returns at once
        if (msg.chat_type != "group" or msg.bot_mentioned or msg.mentions or msg.msg_type in ("file", "image")
                or not self.svc.group_messages_seen or parse_command(msg.text, False) is not None):
            return False
        kind = self.known.kind(msg.chat_id, msg.sender_id)
        return kind is not None and not any((not h.chat_kinds or kind in h.chat_kinds) and h.match(msg)
                                            for h in self.registry.chatter_handlers)

    async def handle(self, session: AsyncSession, event: Event) -> dict | None:
        """Handle one event; for a card press, return the callback's answer (toast / card)."""
        if isinstance(event, IncomingMessage):
            await self._message(session, event)
        elif isinstance(event, CardAction):
            return await self._card_action(session, event)
        elif isinstance(event, BotAdded):
            await self._bot_added(session, event)
        elif isinstance(event, OtherEvent) and event.event_type in self.registry.event_handlers:
            await self._other(session, event)
        # Any other subscribed event is acknowledged and needs nothing.
        return None

    async def _other(self, session: AsyncSession, event: OtherEvent) -> None:
        """A subscribed event declared with ``on_event``: no chat to answer in, so a failure is
        logged and undone, never posted."""
        ctx = await self._ctx(session, event.event_id, "", "")
        savepoint = await session.begin_nested()
        try:
            await self.registry.event_handlers[event.event_type](ctx, event)
        except Exception:  # noqa: BLE001
            await savepoint.rollback()
            log.exception("event handler failed", extra={"ref": new_ref(), "event_id": event.event_id,
                                                         "event_type": event.event_type})
            return
        await savepoint.commit()

    # -- context -------------------------------------------------------------------------
    async def _ctx(self, session: AsyncSession, event_id: str, user_id: str, chat_id: str,
                   chat_type: str = "group", **extra) -> Ctx:
        """Who and where: the chat and the person are recorded the first time they are seen
        (a read, then an insert only when missing: the common case is one query each)."""
        svc = self.svc
        conn = await session.connection()
        who = (await conn.execute(_WHO, {"chat": chat_id, "user": user_id})).one()
        if chat_id and user_id and who.chat_known and who.person_known:
            self.known.saw(chat_id, who.chat_kind or "", user_id)
        if chat_id and not who.chat_known:
            await session.execute(insert_ignore(svc.db, Chat, chat_id=chat_id, name="", chat_type=chat_type,
                                                kind="", internal=False, first_seen=svc.clock.now()))
        if user_id and not who.person_known:
            await session.execute(insert_ignore(svc.db, Person, open_id=user_id, name="",
                                                first_seen=svc.clock.now()))
        locale = who.chat_locale or who.person_locale or svc.settings.locale
        if who.has_roles:
            held = await roles.roles_of(session, user_id, svc.settings.admins)
        else:
            held = roles.without_grants(user_id, svc.settings.admins)
        return Ctx(svc=svc, session=session, cause=f"evt:{event_id}", locale=locale, user_id=user_id,
                   chat_id=chat_id, roles=held, chat_kind=who.chat_kind or "", **extra)

    async def locale_and_roles(self, session: AsyncSession, chat_id: str, user_id: str) -> tuple[str, set[str]]:
        """The language to write in (the chat's if set, else the person's, else the default) and
        the roles ``user_id`` holds (none for no one): one read, two when roles were granted."""
        conn = await session.connection()
        who = (await conn.execute(_WHO, {"chat": chat_id, "user": user_id})).one()
        locale = who.chat_locale or who.person_locale or self.svc.settings.locale
        if not user_id:
            return locale, set()
        if who.has_roles:
            return locale, await roles.roles_of(session, user_id, self.svc.settings.admins)
        return locale, roles.without_grants(user_id, self.svc.settings.admins)

    # -- messages ------------------------------------------------------------------------
    async def _message(self, session: AsyncSession, msg: IncomingMessage) -> None:
        # settled() above answers, without a session, when this would do nothing: change both together.
        if msg.sender_type != "user" or not msg.sender_id:
            return
        ctx = await self._ctx(session, msg.event_id, msg.sender_id, msg.chat_id, msg.chat_type, message=msg)
        await groupmode.observe(self.svc, session, msg)  # an un-@ group message: all messages arrive
        for mention in msg.mentions:  # learn names from mentions as they come by (unless read lately)
            if mention.open_id and mention.name and not self.known.person(mention.open_id):
                await session.execute(insert_ignore(self.svc.db, Person, open_id=mention.open_id,
                                                    name=mention.name, first_seen=self.svc.clock.now()))
        addressed = msg.bot_mentioned or msg.is_direct
        if msg.msg_type == "file" or (msg.msg_type == "image" and not addressed):
            if not await self._run_handlers(ctx, self.registry.file_handlers, msg, answer_refusal=msg.is_direct) \
                    and msg.msg_type == "image":
                await self._chatter(ctx, msg)
            return
        parsed = parse_command(msg.text, addressed)
        if parsed is not None:
            spec = self.registry.find(parsed.name)
            if spec is not None:
                verb, rest = spec.resolve(parsed.args)
                if parsed.explicit or (verb is not None and verb.takes_mention(rest)):
                    await self._run_command(ctx, spec, verb, rest)
                    return
            elif parsed.explicit:
                await self._safely(ctx, self._unknown(ctx, parsed.name))
                return
        if addressed:
            if not await self._run_handlers(ctx, self.registry.mention_handlers, msg, answer_refusal=True):
                await self._safely(ctx, self._not_understood(ctx, parsed.name if parsed else ""))
        elif parsed is None:
            await self._chatter(ctx, msg)

    async def _chatter(self, ctx: Ctx, msg: IncomingMessage) -> None:
        """Unaddressed group messages: never answered, even when a handler fails."""
        if msg.is_direct:
            return
        for handler in self.registry.chatter_handlers:
            if handler.chat_kinds and ctx.chat_kind not in handler.chat_kinds or not handler.match(msg):
                continue
            savepoint = await ctx.session.begin_nested()
            try:
                taken = await handler.handle(ctx, msg)
            except Exception:  # noqa: BLE001 - chatter is never answered, errors are only logged
                await savepoint.rollback()
                log.exception("chatter handler failed", extra={"event_id": ctx.cause, "chat_id": ctx.chat_id})
                if self.svc.metrics:
                    self.svc.metrics.handler_failed("chatter")
                continue
            await savepoint.commit()
            if taken:
                return

    async def _run_handlers(self, ctx: Ctx, handlers: list[MessageHandler], msg: IncomingMessage, *,
                            answer_refusal: bool) -> bool:
        """The matching handlers by priority until one takes the message. A handler the sender
        may not use is skipped; its refusal is answered when nothing else takes the message."""
        refused: tuple[MessageHandler, str] | None = None
        for handler in handlers:
            if not handler.match(msg):
                continue
            reason = await self._refusal(ctx, handler.role, handler.scope)
            if reason:
                if answer_refusal or (handler.explain is not None and handler.explain(msg)):
                    refused = refused or (handler, reason)
                continue
            if await self._safely(ctx, handler.handle(ctx, msg)):
                return True
        if refused:
            handler, reason = refused
            self._count_denied(handler.name, reason)
            await ctx.reply(self._refusal_text(ctx, pick(ctx.locale, handler.label), handler.role, reason))
            return True
        return False

    async def _run_command(self, ctx: Ctx, spec: CommandSpec, verb: VerbSpec | None, rest: str) -> None:
        if verb is None:
            await ctx.reply(self._usage_text(ctx, spec, None, ctx.t("error.no_verb")))
            return
        label = verb.label(ctx.locale)
        ref = None
        if verb.record is not None and verb.ref in ("first", "verb"):
            ref = access.parse_ref(rest.split(maxsplit=1)[0] if rest.split() else "")
            if ref is None:
                await ctx.reply(self._usage_text(ctx, spec, verb, ctx.t("error.need_id")))
                return
        reason = await self._refusal(ctx, verb.role, verb.scope, verb.record, ref)
        if reason:
            self._count_denied(label, reason)
            await ctx.reply(self._refusal_text(ctx, label, verb.role, reason, verb.record, ref))
            return
        log.info("command", extra={"command": f"{spec.en} {verb.en}", "chat_id": ctx.chat_id,
                                   "event_id": ctx.cause})
        if self.svc.metrics:
            self.svc.metrics.commands.labels(command=spec.en).inc()
        ctx.ref = ref
        await self._safely(ctx, verb.handler(ctx, rest), spec, verb)

    async def _refusal(self, ctx: Ctx, role: str, scope: Scope, record=None, ref: int | None = None) -> str:
        """Why the asker may not run this ("" when they may): role, outsider or record."""
        if not roles.allowed(ctx.roles, role):
            return "role"
        if scope == Scope.OPEN:
            return ""
        if await access.is_outsider(ctx):
            return "outsider"
        if record is not None and ref is not None and \
                not await access.may_see(ctx, record, ref, owners_only=scope == Scope.OWNERS):
            return "record"
        return ""

    def _refusal_text(self, ctx: Ctx, what: str, role: str, reason: str, record=None, ref=None) -> str:
        if reason == "role":
            return self._denied_text(ctx, what, role)
        if reason == "outsider":
            return ctx.t("access.outsider")
        return ctx.t("access.no_record", kind=ctx.t(f"access.kind.{record.name}"), id=ref)

    def _count_denied(self, what: str, reason: str) -> None:
        if self.svc.metrics:
            self.svc.metrics.access_denied.labels(what=what, reason=reason).inc()

    async def _safely(self, ctx: Ctx, coro, spec: CommandSpec | None = None, verb: VerbSpec | None = None):
        """Run a handler in a savepoint: a user error undoes its writes and is explained (to a
        card's presser as a toast)."""
        savepoint = await ctx.session.begin_nested()
        try:
            result = await coro
        except UserError as exc:
            await savepoint.rollback()
            await self._answer_error(ctx, ctx.t(exc.key, **exc.values))
            return True
        except UsageError as exc:
            await savepoint.rollback()
            await self._answer_error(ctx, self._usage_text(ctx, spec, verb, exc.reason))
            return True
        except PermissionDenied as exc:
            await savepoint.rollback()
            self._count_denied(verb.label(ctx.locale) if verb else "", "role")
            await self._answer_error(ctx, self._denied_text(ctx, verb.label(ctx.locale) if verb else "", exc.role))
            return True
        except Exception as exc:
            await savepoint.rollback()
            if _number_out_of_range(exc):  # "/复盘 任务 99999999999999999999": a typo, not a bug
                await self._answer_error(ctx, ctx.t("error.too_big_number", value=_long_number(ctx)))
                return True
            ref = new_ref()
            log.exception("handler failed", extra={"ref": ref, "event_id": ctx.cause,
                                                   "chat_id": ctx.chat_id,
                                                   "command": verb.label("en_US") if verb else ""})
            if self.svc.metrics:
                self.svc.metrics.handler_failed(spec.en if spec else "card" if ctx.action else "message")
            await self._answer_error(ctx, ctx.t("error.unexpected", ref=ref))
            return True
        await savepoint.commit()
        return result

    async def _answer_error(self, ctx: Ctx, text: str) -> None:
        if ctx.action is not None:
            ctx.response.pop("card", None)  # a refused press leaves the card as it was
            ctx.toast(text, "error")
        else:
            await ctx.reply(text)

    def _usage_text(self, ctx: Ctx, spec: CommandSpec | None, verb: VerbSpec | None, reason: str) -> str:
        lines = [ctx.t("error.bad_args", reason=reason)] if reason else []
        if verb is not None:
            lines.append(ctx.t("error.usage", usage=verb.usage_for(ctx.locale)))
            lines.append(ctx.t("error.example", example=verb.examples_for(ctx.locale)[0]))
        elif spec is not None:
            shown = [v for v in spec.verbs if roles.allowed(ctx.roles, v.role)] or spec.verbs
            lines.append(ctx.t("error.usage", usage=("\n" if len(shown) > 1 else "") +
                               "\n".join(v.usage_for(ctx.locale) for v in shown)))
            lines.append(ctx.t("error.example", example=shown[0].examples_for(ctx.locale)[0]))
        return "\n".join(lines)

    def _denied_text(self, ctx: Ctx, what: str, role: str) -> str:
        yours = "、".join(t(ctx.locale, f"roles.{r}") for r in roles.ALL if r in ctx.roles)
        if not what:
            return ctx.t("error.permission_plain", role=t(ctx.locale, f"roles.{role}"), yours=yours)
        return ctx.t("error.permission", command=what, role=t(ctx.locale, f"roles.{role}"), yours=yours)

    def suggestions(self, name: str, ctx: Ctx) -> list[str]:
        """Close commands and "command verb" pairs the asker may run (did you mean)."""
        names: dict[str, str] = {}
        for spec in self.registry.specs:
            if not roles.allowed(ctx.roles, spec.role):
                continue
            label = f"/{pick(ctx.locale, (spec.name, spec.en))}"
            for n in spec.names:
                names.setdefault(n.lower(), label)
            for verb in spec.verbs:
                if verb.single or verb.pattern is not None or not roles.allowed(ctx.roles, verb.role):
                    continue
                for w in verb.words:
                    for n in spec.names[:2]:
                        names.setdefault(f"{n}{w}".lower(), verb.label(ctx.locale))
                        names.setdefault(f"{n} {w}".lower(), verb.label(ctx.locale))
        low = name.lower()
        close = difflib.get_close_matches(low, list(names), n=3, cutoff=0.5)
        # Also catch a prefix ("rem" for remind) and a Chinese name inside the text.
        close += [n for n in names if n not in close and len(name) >= 2 and " " not in n and
                  (n.startswith(low) or (len(n) >= 2 and n in low))]
        seen, out = set(), []
        for n in close:
            if names[n] not in seen:
                seen.add(names[n])
                out.append(names[n])
        return out[:3]

    async def _unknown(self, ctx: Ctx, name: str) -> None:
        lines = [ctx.t("error.unknown_command", name=name[:40])]
        close = self.suggestions(name, ctx)
        if close:
            lines.append(ctx.t("error.did_you_mean", suggestions="、".join(close)))
        lines.append(ctx.t("error.see_help"))
        await ctx.reply("\n".join(lines))

    async def _not_understood(self, ctx: Ctx, word: str) -> None:
        lines = [ctx.t("fallback.not_understood")]
        close = self.suggestions(word, ctx) if word else []
        if close:
            lines.append(ctx.t("error.did_you_mean", suggestions="、".join(close)))
        await ctx.reply("\n".join(lines))

    # -- card buttons ----------------------------------------------------------------------
    async def _card_action(self, session: AsyncSession, action: CardAction) -> dict:
        """A press: checked against the action's declaration, answered with a toast."""
        if not action.operator_id:
            return {}
        ctx = await self._ctx(session, action.event_id, action.operator_id, action.chat_id, action=action)
        name = str(action.value.get("a", ""))
        spec: ActionSpec | None = self.registry.actions.get(name)
        if spec is None or spec.handler is None:
            log.warning("unknown card action", extra={"action": name[:64], "event_id": action.event_id})
            ctx.toast(ctx.t("access.stale_button"), "warning")
            return ctx.response
        ref = None
        if spec.record is not None:
            ref = access.parse_ref(str(action.value.get(spec.ref_key, "")))
            if ref is None:
                ctx.toast(ctx.t("access.stale_button"), "warning")
                return ctx.response
        label = pick(ctx.locale, spec.label)
        reason = await self._refusal(ctx, spec.role, spec.scope, spec.record, ref)
        if reason:
            self._count_denied(spec.name, reason)
            ctx.toast(self._refusal_text(ctx, label, spec.role, reason, spec.record, ref), "error")
            return ctx.response
        ctx.ref = ref
        await self._safely(ctx, spec.handler(ctx, action))
        return ctx.response

    # -- the bot joins a group ---------------------------------------------------------------
    async def _bot_added(self, session: AsyncSession, event: BotAdded) -> None:
        """Introduce the bot; a group that someone with a role added it to is a team group."""
        ctx = await self._ctx(session, event.event_id, event.operator_id, event.chat_id)
        chat = await session.get(Chat, event.chat_id)
        if chat is not None:
            if event.name:
                chat.name = event.name[:200]
            if not chat.kind and roles.granted(ctx.roles):
                chat.kind = "team"
        bot = self.svc.bot.name
        card = (Card(ctx.t("hello.title", bot=bot), template="turquoise")
                .markdown(ctx.t("hello.body", bot=bot))
                .buttons(Button(ctx.t("hello.button"), HELP_SHOW(), kind="primary")))
        await ctx.send(event.chat_id, card=card)
