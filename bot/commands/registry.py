"""Declaring commands and card actions.

A command is one decorated async function in one module under bot/commands/:

    @command("帮助", "help", examples_en=["/help", "/help role"],
         summary=("查看命令", "Show commands"),
             usage="/帮助 [命令]", examples=["/帮助", "/帮助 提醒"])
    async def help_(ctx, args): ...

The decorator only records a spec; /help is generated from the specs. Names are unique:
a clash fails at import time instead of silently shadowing a command.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable

from bot import roles

Handler = Callable[..., Awaitable[None]]
Pair = tuple[str, str]


@dataclass(frozen=True)
class CommandSpec:
    name: str  # Chinese name, e.g. 帮助
    en: str  # English name, e.g. help
    handler: Handler
    summary: Pair
    usage: Pair
    examples: tuple[str, ...]
    role: str = roles.MEMBER
    aliases: tuple[str, ...] = ()
    group: Pair = ("基础", "Basics")
    order: int = 100
    examples_en: tuple[str, ...] = ()  # shown to English users; the Chinese ones when empty

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.en, *self.aliases)

    def examples_for(self, locale: str) -> tuple[str, ...]:
        return self.examples_en if locale == "en_US" and self.examples_en else self.examples


@dataclass
class Registry:
    commands: dict[str, CommandSpec] = field(default_factory=dict)  # by every name, lower-cased
    specs: list[CommandSpec] = field(default_factory=list)
    actions: dict[str, tuple[Handler, str]] = field(default_factory=dict)
    # Handlers for an @mention (or direct message) that is not a command, tried in order;
    # each returns True when it took the message (e.g. a fault report).
    mention_handlers: list[Handler] = field(default_factory=list)
    # Handlers for uploaded files (data exports, scripts), tried in order.
    file_handlers: list[Handler] = field(default_factory=list)
    # Handlers for group chatter not addressed to the bot (text, images no file handler took),
    # tried in order; each decides with a cheap check, returns True when it took the message
    # and never replies (e.g. replies in a fault group kept on the ticket's timeline).
    chatter_handlers: list[Handler] = field(default_factory=list)
    # Called once at start-up, after migrations, as ``await hook(svc, session)`` (one session,
    # committed afterwards), e.g. to plan a recurring sweep.
    startup_hooks: list[Handler] = field(default_factory=list)

    def add(self, spec: CommandSpec) -> None:
        for name in spec.names:
            key = name.lower()
            if key in self.commands:
                raise ValueError(f"command name '{name}' is declared twice")
            self.commands[key] = spec
        self.specs.append(spec)

    def find(self, name: str) -> CommandSpec | None:
        return self.commands.get(name.lower())

    def add_action(self, name: str, handler: Handler, role: str) -> None:
        if name in self.actions:
            raise ValueError(f"card action '{name}' is declared twice")
        self.actions[name] = (handler, role)


REGISTRY = Registry()


def command(name: str, en: str, *, summary: Pair, usage: Pair | str, examples: list[str] | tuple[str, ...],
            examples_en: list[str] | tuple[str, ...] = (), role: str = roles.MEMBER, aliases: tuple[str, ...] = (),
            group: Pair = ("基础", "Basics"), order: int = 100) -> Callable[[Handler], Handler]:
    if role not in roles.ALL:
        raise ValueError(f"unknown role {role}")
    if not examples:
        raise ValueError(f"command {name} needs at least one example")

    def wrap(fn: Handler) -> Handler:
        REGISTRY.add(CommandSpec(name=name, en=en, handler=fn, summary=summary,
                                 usage=usage if isinstance(usage, tuple) else (usage, usage),
                                 examples=tuple(examples), role=role, aliases=aliases,
                                 group=group, order=order, examples_en=tuple(examples_en)))
        return fn

    return wrap


def action(name: str, *, role: str = roles.MEMBER) -> Callable[[Handler], Handler]:
    """A card button handler, picked by the button value's "a" field."""

    def wrap(fn: Handler) -> Handler:
        REGISTRY.add_action(name, fn, role)
        return fn

    return wrap


def on_mention(fn: Handler) -> Handler:
    REGISTRY.mention_handlers.append(fn)
    return fn


def on_file(fn: Handler) -> Handler:
    REGISTRY.file_handlers.append(fn)
    return fn


def on_chatter(fn: Handler) -> Handler:
    REGISTRY.chatter_handlers.append(fn)
    return fn


def on_startup(fn: Handler) -> Handler:
    REGISTRY.startup_hooks.append(fn)
    return fn
