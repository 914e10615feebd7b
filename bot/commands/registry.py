"""Declaring commands, their verbs, card actions and message handlers.

A command with verbs (errbot's multi-word commands, NoneBot's CommandGroup):

    task = command_group("任务", "task", summary=("任务", "Tasks"), aliases=("待办",),
                         group=("复盘与任务", "Reviews & tasks"), order=41)

    @task.verb("完成", "done", aliases=("已完成",), args=("<编号>", "<id>"),
               summary=("标记完成", "Mark done"), scope=Scope.RECORD, record=TASK,
               examples=["/任务 完成 12"], examples_en=["/task done 12"])
    async def done(ctx, rest): ...

Each verb declares its names in both languages, aliases, argument shape, usage, examples, the
ROLE it needs and its SCOPE (see bot.access); the router checks both before the handler runs.
A command with one verb is ``@command(...)``. Card actions are declared once with
``card_action(...)`` (used by the card builder to make the button value and by the handler's
``@spec.handle``) with their own role and scope. Names are unique: a clash, a verb without a
role or scope, or an action without a handler fails at start-up instead of silently shadowing.

Message handlers that are not commands (an @mention that is natural language, an uploaded
file, group chatter) are declared with an explicit priority and a cheap ``match`` that is
separate from the handling (python-telegram-bot's check_update / handle_update): the router
runs the highest-priority handler whose match says yes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from bot import roles
from bot.access import RecordKind, Scope

Handler = Callable[..., Awaitable[object]]
Match = Callable[..., bool]
Pair = tuple[str, str]
REF = re.compile(r"[#＃]?\d{1,18}")
_HEAD = re.compile(r"(\S+)(?:[ \t\u3000]+(\S+))?[ \t\u3000]*(.*)", re.S)


def no_args(rest: str) -> bool:
    """``accepts`` for commands that take nothing: "@LiveOps 在吗" is the command, "@LiveOps
    在吗 我推流断了" is not."""
    return not rest.strip()


@dataclass(frozen=True)
class VerbSpec:
    name: str  # Chinese, e.g. 完成
    en: str  # English, e.g. done
    handler: Handler
    role: str
    scope: Scope
    summary: Pair
    args: Pair = ("", "")  # the argument shape after the verb, e.g. ("<编号>", "<id>")
    examples: tuple[str, ...] = ()
    examples_en: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    record: RecordKind | None = None
    # How the verb is picked: by its words (default), by a pattern on the first word (e.g. "#12"
    # shows a task), or as the command's default when no verb word matches ("/排期 本周").
    pattern: re.Pattern[str] | None = None
    default: bool = False
    # Whether arguments parse as this verb when written without a slash after an @mention
    # (natural language otherwise, which goes to the mention handlers). Verbs picked by their
    # own word always qualify; a default verb qualifies only when this says so.
    accepts: Callable[[str], bool] | None = None
    # Where the record id is: the first word of the arguments ("first"), the verb word itself
    # (pattern verbs), or the handler resolves it with ctx.load ("handler").
    ref: str = "first"
    # Verbs that share a word are told apart by what follows it ("/检查 豁免" lists, "/检查 豁免
    # 至尊 商品名" adds): the first declared whose ``when(rest)`` says yes is picked.
    when: Callable[[str], bool] | None = None
    needs_reply: bool = False  # written as a reply to a message (e.g. the file to import)
    command: "CommandSpec | None" = field(default=None, compare=False, repr=False)

    @property
    def words(self) -> tuple[str, ...]:
        """What picks the verb: its names and aliases, one or two words each ("豁免 删除")."""
        return (self.name, self.en, *self.aliases)

    @property
    def single(self) -> bool:
        """The only verb of a one-verb command (``@command``): it has no word of its own."""
        return self.default and self.command is not None and self.name == self.command.name

    def label(self, locale: str) -> str:
        """"/任务 完成" in the asker's language."""
        cmd = self.command
        head = (cmd.en if locale == "en_US" else cmd.name) if cmd else ""
        word = "" if self.default or self.pattern is not None else (self.en if locale == "en_US" else self.name)
        return f"/{head} {word}".rstrip()

    def usage_for(self, locale: str) -> str:
        args = self.args[1] if locale == "en_US" else self.args[0]
        return f"{self.label(locale)} {args}".rstrip()

    def examples_for(self, locale: str) -> tuple[str, ...]:
        return self.examples_en if locale == "en_US" and self.examples_en else self.examples

    def takes_mention(self, rest: str) -> bool:
        if self.default:
            return bool(self.accepts and self.accepts(rest))
        return True


@dataclass
class CommandSpec:
    name: str  # Chinese name, e.g. 任务
    en: str  # English name, e.g. task
    summary: Pair
    aliases: tuple[str, ...] = ()
    group: Pair = ("基础", "Basics")
    order: int = 100
    verbs: list[VerbSpec] = field(default_factory=list)
    _by_word: dict[str, list[VerbSpec]] = field(default_factory=dict, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.en, *self.aliases)

    @property
    def role(self) -> str:
        """The least role that runs any verb: help shows the command to whoever holds it."""
        return min((v.role for v in self.verbs), key=roles.RANK.__getitem__, default=roles.MEMBER)

    @property
    def examples(self) -> tuple[str, ...]:
        return tuple(e for v in self.verbs for e in v.examples)

    @property
    def examples_en(self) -> tuple[str, ...]:
        return tuple(e for v in self.verbs for e in v.examples_en)

    def examples_for(self, locale: str) -> tuple[str, ...]:
        return tuple(e for v in self.verbs for e in v.examples_for(locale))

    @property
    def usage(self) -> Pair:
        return (" ｜ ".join(v.usage_for("zh_CN") for v in self.verbs),
                " | ".join(v.usage_for("en_US") for v in self.verbs))

    def verb(self, name: str, en: str, *, summary: Pair, scope: Scope, role: str = roles.MEMBER,
             args: Pair | str = ("", ""), examples: list[str] | tuple[str, ...] = (),
             examples_en: list[str] | tuple[str, ...] = (), aliases: tuple[str, ...] = (),
             record: RecordKind | None = None, pattern: str | None = None, default: bool = False,
             accepts: Callable[[str], bool] | None = None, ref: str | None = None,
             when: Callable[[str], bool] | None = None, needs_reply: bool = False) -> Callable[[Handler], Handler]:
        """Declare a verb of this command (see the module docstring)."""
        if role not in roles.ALL:
            raise ValueError(f"{self.name} {name}: unknown role {role!r}")
        if not isinstance(scope, Scope):
            raise ValueError(f"{self.name} {name}: a verb declares its scope")
        if scope in (Scope.RECORD, Scope.OWNERS) and record is None:
            raise ValueError(f"{self.name} {name}: a record scope names the record kind")
        if not examples:
            raise ValueError(f"{self.name} {name}: a verb needs at least one example")

        def wrap(fn: Handler) -> Handler:
            spec = VerbSpec(name=name, en=en, handler=fn, role=role, scope=scope, summary=summary,
                            args=args if isinstance(args, tuple) else (args, args),
                            examples=tuple(examples), examples_en=tuple(examples_en), aliases=aliases,
                            record=record, pattern=re.compile(pattern) if pattern else None,
                            default=default, accepts=accepts, when=when, needs_reply=needs_reply,
                            ref=ref or ("verb" if pattern else "first"), command=self)
            self._add(spec)
            return fn

        return wrap

    def _add(self, spec: VerbSpec) -> None:
        if spec.default and any(v.default for v in self.verbs):
            raise ValueError(f"command {self.name} has two default verbs")
        single = spec.default and spec.name == self.name  # @command: the verb is the command itself
        if not single and spec.pattern is None:
            for word in spec.words:
                key = " ".join(word.lower().split())
                if any(other.when is None for other in self._by_word.get(key, ())):
                    raise ValueError(f"verb '{word}' of {self.name} is declared twice")
                self._by_word.setdefault(key, []).append(spec)
        self.verbs.append(spec)

    def resolve(self, args: str) -> tuple[VerbSpec | None, str]:
        """The verb the arguments name (two words before one: errbot's longest match), and the
        arguments after the verb's words."""
        args = args.strip()
        m = _HEAD.match(args)
        words = [w for w in (m.group(1), m.group(2)) if w] if m else []
        for n in (2, 1):
            if len(words) < n:
                continue
            key = " ".join(words[:n]).lower()
            rest = (m.group(3) if n == 2 else args[len(words[0]):]).strip()
            for spec in self._by_word.get(key, ()):
                if spec.when is None or spec.when(rest):
                    return spec, rest
        head = words[0] if words else ""
        for spec in self.verbs:
            if spec.pattern is not None and head and spec.pattern.fullmatch(head):
                return spec, args
        for spec in self.verbs:
            if spec.default:
                return spec, args
        return None, args


@dataclass
class ActionSpec:
    """A card button's action, declared once: the card builder makes its value with
    ``spec(id=7)`` and the handler is attached with ``@spec.handle``."""

    name: str
    role: str
    scope: Scope
    label: Pair  # what the button does, for refusals ("确认排期"); never the internal name
    record: RecordKind | None = None
    ref_key: str = "id"  # where the record id is in the button's value
    handler: Handler | None = None

    def __call__(self, **value: object) -> dict:
        return {"a": self.name, **value}

    def handle(self, fn: Handler) -> Handler:
        if self.handler is not None:
            raise ValueError(f"card action '{self.name}' has two handlers")
        self.handler = fn
        return fn


@dataclass(frozen=True)
class MessageHandler:
    """An @mention, file or chatter handler: ``match`` is cheap and has no side effects;
    ``handle`` runs only for the highest-priority match (lower number = first)."""

    priority: int
    match: Match
    handle: Handler
    name: str
    role: str = roles.MEMBER
    scope: Scope = Scope.TEAM
    # When the sender may not use this handler: whether to tell them (an uploaded file that is
    # plainly meant for it, e.g. named 排期表.xlsx), or to stay silent (any other file).
    explain: Match | None = None
    label: Pair = ("", "")  # what it does, for a refusal ("导入排期")
    # Chatter only: the kinds of chat (Chat.kind) it listens in; empty = every chat. The router
    # reads the kind with who-is-asking, so chatter elsewhere costs no savepoint and no read.
    chat_kinds: tuple[str, ...] = ()


@dataclass
class Registry:
    commands: dict[str, CommandSpec] = field(default_factory=dict)  # by every name, lower-cased
    specs: list[CommandSpec] = field(default_factory=list)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    mention_handlers: list[MessageHandler] = field(default_factory=list)
    file_handlers: list[MessageHandler] = field(default_factory=list)
    chatter_handlers: list[MessageHandler] = field(default_factory=list)
    # Called once at start-up, after migrations, as ``await hook(svc, session)``.
    startup_hooks: list[Handler] = field(default_factory=list)
    # Other subscribed events by type (e.g. task.task.updated_v1): ``await fn(ctx, event)``.
    event_handlers: dict[str, Handler] = field(default_factory=dict)

    def add(self, spec: CommandSpec) -> CommandSpec:
        for name in spec.names:
            key = name.lower()
            if key in self.commands:
                raise ValueError(f"command name '{name}' is declared twice")
            self.commands[key] = spec
        self.specs.append(spec)
        return spec

    def find(self, name: str) -> CommandSpec | None:
        return self.commands.get(name.lower())

    def add_action(self, spec: ActionSpec) -> ActionSpec:
        if spec.name in self.actions:
            raise ValueError(f"card action '{spec.name}' is declared twice")
        self.actions[spec.name] = spec
        return spec

    def add_handler(self, handlers: list[MessageHandler], handler: MessageHandler) -> None:
        handlers.append(handler)
        handlers.sort(key=lambda h: h.priority)

    def verbs(self) -> list[VerbSpec]:
        return [v for spec in self.specs for v in spec.verbs]

    def parses_as_command(self, text: str) -> bool:
        """Would the router run ``text`` (written after an @mention) as a command? Its first word
        names a command and the rest parses as one of its verbs."""
        text = text.strip().lstrip("/／")
        head, _, rest = text.partition(" ")
        spec = self.find(head) if head else None
        if spec is None:
            return False
        verb, rest = spec.resolve(rest)
        return verb is not None and verb.takes_mention(rest)

    def command_words(self) -> set[str]:
        """Every command name and alias, lower-cased (e.g. for the fault triage)."""
        return set(self.commands)

    def check(self) -> None:
        """Fail fast on declarations that cannot work (run once when the bot starts)."""
        for spec in self.specs:
            if not spec.verbs:
                raise ValueError(f"command {spec.name} declares no verb")
        for action in self.actions.values():
            if action.handler is None:
                raise ValueError(f"card action '{action.name}' has no handler")


REGISTRY = Registry()


def command_group(name: str, en: str, *, summary: Pair, aliases: tuple[str, ...] = (),
                  group: Pair = ("基础", "Basics"), order: int = 100) -> CommandSpec:
    """A command whose verbs are declared with ``@spec.verb(...)``."""
    return REGISTRY.add(CommandSpec(name=name, en=en, summary=summary, aliases=aliases, group=group, order=order))


def command(name: str, en: str, *, summary: Pair, scope: Scope, args: Pair | str = ("", ""),
            examples: list[str] | tuple[str, ...], examples_en: list[str] | tuple[str, ...] = (),
            role: str = roles.MEMBER, aliases: tuple[str, ...] = (), group: Pair = ("基础", "Basics"),
            order: int = 100, accepts: Callable[[str], bool] | None = None,
            record: RecordKind | None = None) -> Callable[[Handler], Handler]:
    """A command with a single verb: the handler gets everything after the command name."""
    spec = command_group(name, en, summary=summary, aliases=aliases, group=group, order=order)
    return spec.verb(name, en, summary=summary, scope=scope, role=role, args=args, examples=examples,
                     examples_en=examples_en, default=True, accepts=accepts, record=record,
                     ref="handler" if record else None)


def card_action(name: str, *, label: Pair, scope: Scope, role: str = roles.MEMBER,
                record: RecordKind | None = None, ref_key: str = "id") -> ActionSpec:
    if role not in roles.ALL:
        raise ValueError(f"card action {name}: unknown role {role!r}")
    if scope in (Scope.RECORD, Scope.OWNERS) and record is None:
        raise ValueError(f"card action {name}: a record scope names the record kind")
    return REGISTRY.add_action(ActionSpec(name=name, role=role, scope=scope, label=label, record=record,
                                          ref_key=ref_key))


def _message_handler(handlers_of: Callable[[Registry], list[MessageHandler]], *, priority: int, match: Match,
                     role: str = roles.MEMBER, scope: Scope = Scope.TEAM, explain: Match | None = None,
                     label: Pair = ("", ""), chat_kinds: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    def wrap(fn: Handler) -> Handler:
        REGISTRY.add_handler(handlers_of(REGISTRY), MessageHandler(priority=priority, match=match, handle=fn,
                                                                   name=fn.__qualname__, role=role, scope=scope,
                                                                   explain=explain, label=label,
                                                                   chat_kinds=chat_kinds))
        return fn

    return wrap


def on_mention(*, priority: int, match: Match, role: str = roles.MEMBER, scope: Scope = Scope.TEAM,
               label: Pair = ("", "")) -> Callable[[Handler], Handler]:
    """An @mention (or direct message) that is not a command: ``match(msg)`` says whether this
    handler wants it; the highest-priority match (lowest number) handles it."""
    return _message_handler(lambda r: r.mention_handlers, priority=priority, match=match, role=role, scope=scope,
                            label=label)


def on_file(*, priority: int, match: Match, role: str = roles.MEMBER, scope: Scope = Scope.TEAM,
            explain: Match | None = None, label: Pair = ("", "")) -> Callable[[Handler], Handler]:
    """An uploaded file; the handler returns False to pass it on to the next match. The router
    checks role and scope before the handler (so before anything is downloaded); a refusal is
    answered in a direct chat, or in a group when ``explain(msg)`` says the file was meant for it."""
    return _message_handler(lambda r: r.file_handlers, priority=priority, match=match, role=role, scope=scope,
                            explain=explain, label=label)


def on_chatter(*, priority: int, match: Match, chat_kinds: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Group chatter not addressed to the bot; never answered (e.g. a fault group's timeline).
    ``chat_kinds`` limits it to chats of those kinds (Chat.kind), checked before any savepoint."""
    return _message_handler(lambda r: r.chatter_handlers, priority=priority, match=match, scope=Scope.OPEN,
                            chat_kinds=chat_kinds)


def on_event(event_type: str) -> Callable[[Handler], Handler]:
    """A subscribed event that is not a message, a press or the bot joining a group; the handler
    gets a Ctx with no chat and no person (it finds its own) and the event (``event.data``)."""

    def wrap(fn: Handler) -> Handler:
        if event_type in REGISTRY.event_handlers:
            raise ValueError(f"event {event_type} has two handlers")
        REGISTRY.event_handlers[event_type] = fn
        return fn

    return wrap


def on_startup(fn: Handler) -> Handler:
    REGISTRY.startup_hooks.append(fn)
    return fn
