"""From a parsed event to the handler that answers it.

Commands: "/name args" anywhere, or "name args" when the bot is @mentioned or in a direct
chat. Other @mentions go to the mention handlers (faults, ...), files to the file handlers;
plain group chatter goes to the chatter handlers (which never reply). User errors are
answered in the chat's language and roll back whatever the handler had written; unexpected
errors answer with a reference id only.
"""
from __future__ import annotations

import difflib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import roles
from bot.cards import Button, Card
from bot.commands.registry import CommandSpec
from bot.context import Ctx
from bot.errors import PermissionDenied, UsageError, UserError
from bot.feishu.events import BotAdded, CardAction, Event, IncomingMessage
from bot.i18n import pick, t
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
    exists().where(_R.c.open_id == bindparam("user")).label("has_roles"))
_CHAT_LOCALE = select(_C.c.locale).where(_C.c.chat_id == bindparam("id"))
_PERSON_LOCALE = select(_P.c.locale).where(_P.c.open_id == bindparam("id"))
SLASHES = ("/", "／")


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


def new_ref() -> str:
    return secrets.token_hex(4).upper()


class Router:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.registry = svc.registry

    async def handle(self, session: AsyncSession, event: Event) -> None:
        if isinstance(event, IncomingMessage):
            await self._message(session, event)
        elif isinstance(event, CardAction):
            await self._card_action(session, event)
        elif isinstance(event, BotAdded):
            await self._bot_added(session, event)
        # Any other subscribed event is acknowledged and needs nothing.

    # -- context -------------------------------------------------------------------------
    async def _ctx(self, session: AsyncSession, event_id: str, user_id: str, chat_id: str,
                   chat_type: str = "group", **extra) -> Ctx:
        """Who and where: the chat and the person are recorded the first time they are seen
        (a read, then an insert only when missing: the common case is one query each)."""
        svc = self.svc
        conn = await session.connection()
        who = (await conn.execute(_WHO, {"chat": chat_id, "user": user_id})).one()
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
                   chat_id=chat_id, roles=held, **extra)

    async def locale_for(self, session: AsyncSession, chat_id: str, user_id: str) -> str:
        """The chat's language if set, else the person's, else the default."""
        conn = await session.connection()
        for stmt, key in ((_CHAT_LOCALE, chat_id), (_PERSON_LOCALE, user_id)):
            if key and (found := (await conn.execute(stmt, {"id": key})).scalar()):
                return found
        return self.svc.settings.locale

    # -- messages ------------------------------------------------------------------------
    async def _message(self, session: AsyncSession, msg: IncomingMessage) -> None:
        if msg.sender_type != "user" or not msg.sender_id:
            return
        ctx = await self._ctx(session, msg.event_id, msg.sender_id, msg.chat_id, msg.chat_type, message=msg)
        for mention in msg.mentions:  # learn names from mentions as they come by
            if mention.open_id and mention.name:
                await session.execute(insert_ignore(self.svc.db, Person, open_id=mention.open_id,
                                                    name=mention.name, first_seen=self.svc.clock.now()))
        addressed = msg.bot_mentioned or msg.is_direct
        if msg.msg_type == "file" or (msg.msg_type == "image" and not addressed):
            if not await self._run_handlers(ctx, self.registry.file_handlers, msg) and msg.msg_type == "image":
                await self._chatter(ctx, msg)
            return
        parsed = parse_command(msg.text, addressed)
        if parsed is not None:
            spec = self.registry.find(parsed.name)
            if spec is not None:
                await self._run_command(ctx, spec, parsed.args)
                return
            if parsed.explicit:
                await self._safely(ctx, self._unknown(ctx, parsed.name))
                return
        if addressed:
            if not await self._run_handlers(ctx, self.registry.mention_handlers, msg):
                await self._safely(ctx, self._not_understood(ctx, parsed.name if parsed else ""))
        elif parsed is None:
            await self._chatter(ctx, msg)

    async def _chatter(self, ctx: Ctx, msg: IncomingMessage) -> None:
        """Unaddressed group messages: never answered, even when a handler fails."""
        if msg.is_direct:
            return
        for handler in self.registry.chatter_handlers:
            savepoint = await ctx.session.begin_nested()
            try:
                taken = await handler(ctx, msg)
            except Exception:  # noqa: BLE001 - chatter is never answered, errors are only logged
                await savepoint.rollback()
                log.exception("chatter handler failed", extra={"event_id": ctx.cause, "chat_id": ctx.chat_id})
                if self.svc.metrics:
                    self.svc.metrics.handler_failed("chatter")
                continue
            await savepoint.commit()
            if taken:
                return

    async def _run_handlers(self, ctx: Ctx, handlers, msg: IncomingMessage) -> bool:
        for handler in handlers:
            taken = await self._safely(ctx, handler(ctx, msg))
            if taken:
                return True
        return False

    async def _run_command(self, ctx: Ctx, spec: CommandSpec, args: str) -> None:
        if not roles.allowed(ctx.roles, spec.role):
            await ctx.reply(self._denied_text(ctx, pick(ctx.locale, (spec.name, spec.en)), spec.role))
            return
        log.info("command", extra={"command": spec.en, "chat_id": ctx.chat_id, "event_id": ctx.cause})
        if self.svc.metrics:
            self.svc.metrics.commands.labels(command=spec.en).inc()
        await self._safely(ctx, spec.handler(ctx, args), spec)

    async def _safely(self, ctx: Ctx, coro, spec: CommandSpec | None = None):
        """Run a handler in a savepoint: a user error undoes its writes and is explained."""
        savepoint = await ctx.session.begin_nested()
        try:
            result = await coro
        except UserError as exc:
            await savepoint.rollback()
            await ctx.reply(ctx.t(exc.key, **exc.values))
            return True
        except UsageError as exc:
            await savepoint.rollback()
            await ctx.reply(self._usage_text(ctx, spec, exc.reason))
            return True
        except PermissionDenied as exc:
            await savepoint.rollback()
            await ctx.reply(self._denied_text(ctx, pick(ctx.locale, (spec.name, spec.en)) if spec else "",
                                              exc.role))
            return True
        except Exception:
            await savepoint.rollback()
            ref = new_ref()
            log.exception("handler failed", extra={"ref": ref, "event_id": ctx.cause,
                                                   "chat_id": ctx.chat_id,
                                                   "command": spec.en if spec else ""})
            if self.svc.metrics:
                self.svc.metrics.handler_failed(spec.en if spec else "card" if ctx.action else "message")
            await ctx.reply(ctx.t("error.unexpected", ref=ref))
            return True
        await savepoint.commit()
        return result

    def _usage_text(self, ctx: Ctx, spec: CommandSpec | None, reason: str) -> str:
        lines = [ctx.t("error.bad_args", reason=reason)] if reason else []
        if spec is not None:
            lines.append(ctx.t("error.usage", usage=pick(ctx.locale, spec.usage)))
            lines.append(ctx.t("error.example", example=spec.examples_for(ctx.locale)[0]))
        return "\n".join(lines)

    def _denied_text(self, ctx: Ctx, command: str, role: str) -> str:
        yours = "、".join(t(ctx.locale, f"roles.{r}") for r in roles.ALL if r in ctx.roles)
        return ctx.t("error.permission", command=command, role=t(ctx.locale, f"roles.{role}"), yours=yours)

    def suggestions(self, name: str, ctx: Ctx) -> list[str]:
        visible = [s for s in self.registry.specs if roles.allowed(ctx.roles, s.role)]
        names = {n.lower(): s for s in visible for n in s.names}
        close = difflib.get_close_matches(name.lower(), list(names), n=3, cutoff=0.5)
        # Also catch a prefix ("rem" for remind) and a Chinese name inside the text.
        close += [n for n in names if n not in close and len(name) >= 2 and
                  (n.startswith(name.lower()) or (len(n) >= 2 and n in name))]
        seen, out = set(), []
        for n in close:
            spec = names[n]
            label = f"/{pick(ctx.locale, (spec.name, spec.en))}"
            if label not in seen:
                seen.add(label)
                out.append(label)
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
    async def _card_action(self, session: AsyncSession, action: CardAction) -> None:
        if not action.operator_id:
            return
        ctx = await self._ctx(session, action.event_id, action.operator_id, action.chat_id, action=action)
        name = str(action.value.get("a", ""))
        found = self.registry.actions.get(name)
        if found is None:
            log.warning("unknown card action", extra={"action": name, "event_id": action.event_id})
            return
        handler, role = found
        if not roles.allowed(ctx.roles, role):
            await ctx.send(ctx.chat_id, self._denied_text(ctx, name, role))
            return
        await self._safely(ctx, handler(ctx, action))

    # -- the bot joins a group ---------------------------------------------------------------
    async def _bot_added(self, session: AsyncSession, event: BotAdded) -> None:
        ctx = await self._ctx(session, event.event_id, event.operator_id, event.chat_id)
        if event.name:
            chat = await session.get(Chat, event.chat_id)
            if chat is not None:
                chat.name = event.name[:200]
        bot = self.svc.bot.name
        card = (Card(ctx.t("hello.title", bot=bot), template="turquoise")
                .markdown(ctx.t("hello.body", bot=bot))
                .buttons(Button(ctx.t("hello.button"), {"a": "help.show"}, kind="primary")))
        await ctx.send(event.chat_id, card=card)
