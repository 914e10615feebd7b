"""Cards of the stream norms: checkpoint cards (posted, reminded, escalated, done, failed)."""
from __future__ import annotations

from typing import Any

from bot import records
from bot.access import Scope
from bot.cards import Button, Card, Input, escape_md
from bot.commands.registry import card_action
from bot.context import Ctx
from bot.norms.models import DONE, Checkpoint
from bot.norms.script_gate import describe
from bot.schedule.cards import at
from bot.schedule.models import Room, Stream
from bot.schedule.service import span_text

TEMPLATES = {"card": "blue", "remind": "orange", "escalate": "red"}
# The buttons these cards carry (handlers: bot/commands/live.py). Going live is for the stream's
# own people and ops; a checkpoint for its owner, the stream's people and ops.
CHECKPOINT_DONE = card_action("norms.done", label=("确认检查点", "confirm the checkpoint"), scope=Scope.RECORD,
                              record=records.CHECKPOINT)
GO_LIVE = card_action("norms.live", label=("开播", "go live"), scope=Scope.OWNERS, record=records.STREAM)
GO_LIVE_ANYWAY = card_action("norms.live_confirm", label=("确认开播", "confirm going live"), scope=Scope.OWNERS,
                             record=records.STREAM)
END_ANYWAY = card_action("norms.end_confirm", label=("确认下播", "confirm ending"), scope=Scope.OWNERS,
                         record=records.STREAM)


def stream_label(ctx: Ctx, stream: Stream, room: Room | None) -> str:
    return ctx.t("norms.stream_label", id=stream.id, room=escape_md(room.name if room else "?"),
                 when=span_text(stream.starts_at, stream.ends_at, ctx.svc.tz))


def checkpoint_card(ctx: Ctx, cp: Checkpoint, stream: Stream, room: Room | None, names: dict[str, str],
                    cfg: dict[str, Any], *, stage: str = "card", leads: list[str] | tuple[()] = ()) -> Card:
    what = ctx.t(f"norms.cp.{cp.kind}")
    title = ctx.t(f"norms.stage.{stage}", what=what)
    card = Card(title, template=TEMPLATES.get(stage, "blue"))
    owner = at(cp.owner_id) if cp.owner_id else ctx.t("norms.no_owner")
    card.markdown(stream_label(ctx, stream, room))
    card.markdown(ctx.t(f"norms.cp_body.{cp.kind}", owner=owner, max=cfg["latency_max"], id=stream.id))
    if stage == "escalate":
        card.markdown(ctx.t("norms.escalated", leads=" ".join(at(x) for x in leads) or "-", owner=owner))
    value = CHECKPOINT_DONE(id=cp.id)
    if cp.kind == "equipment":
        card.form("latency_form", [Input("latency", ctx.t("norms.latency_label"),
                                         placeholder=ctx.t("norms.latency_hint", max=cfg["latency_max"]))],
                  Button(ctx.t("norms.btn_done"), value, kind="primary"))
        card.buttons(Button(ctx.t("norms.btn_live"), GO_LIVE(id=stream.id)))
    else:
        card.buttons(Button(ctx.t("norms.btn_done"), value, kind="primary"))
    if cp.kind == "script":
        card.note(ctx.t("norms.script_hint", id=stream.id))
    return card


def done_card(ctx: Ctx, cp: Checkpoint, stream: Stream, room: Room | None, who: str,
              gate: Any = None) -> Card:
    """A confirmed checkpoint; ``gate``: the script check (ComplianceRecord) that opened it."""
    card = Card(ctx.t("norms.done_title", what=ctx.t(f"norms.cp.{cp.kind}")), template="green")
    card.markdown(stream_label(ctx, stream, room))
    extra = ctx.t("norms.latency_ok", ms=cp.latency_ms) if cp.latency_ms is not None else ""
    card.markdown(ctx.t("norms.done_by", who=escape_md(who), when=cp.done_at.astimezone(ctx.svc.tz).strftime(
        "%m-%d %H:%M") if cp.done_at else "") + extra)
    if gate is not None:
        card.markdown(describe(ctx.t, gate))
    if cp.override_reason:
        card.note(ctx.t("norms.override_note", reason=escape_md(cp.override_reason)))
    if cp.kind == "equipment" and cp.status == DONE:
        card.buttons(Button(ctx.t("norms.btn_live"), GO_LIVE(id=stream.id)))
    return card


def far_from_schedule_card(ctx: Ctx, stream: Stream, room: Room | None, *, ending: bool, minutes: int) -> Card:
    """Going live (or off air) more than the allowed minutes away from the schedule: asked first."""
    key = "norms.far_end" if ending else ("norms.far_early" if minutes < 0 else "norms.far_late")
    card = Card(ctx.t("norms.far_title_end" if ending else "norms.far_title"), template="orange")
    card.markdown(stream_label(ctx, stream, room))
    card.markdown(ctx.t(key, minutes=abs(minutes)))
    spec = END_ANYWAY if ending else GO_LIVE_ANYWAY
    card.buttons(Button(ctx.t("norms.btn_end_anyway" if ending else "norms.btn_live_anyway"), spec(id=stream.id),
                        kind="primary"))
    return card
