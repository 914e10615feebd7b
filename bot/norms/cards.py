"""Cards of the stream norms: checkpoint cards (posted, reminded, escalated, done, failed)."""
from __future__ import annotations

from typing import Any

from bot.cards import Button, Card, Input, escape_md
from bot.context import Ctx
from bot.norms.models import DONE, Checkpoint
from bot.norms.script_gate import describe
from bot.schedule.cards import at
from bot.schedule.models import Room, Stream
from bot.schedule.service import span_text

TEMPLATES = {"card": "blue", "remind": "orange", "escalate": "red"}


def stream_label(ctx: Ctx, stream: Stream, room: Room | None) -> str:
    return ctx.t("norms.stream_label", id=stream.id, room=escape_md(room.name if room else "?"),
                 when=span_text(stream.starts_at, stream.ends_at, ctx.svc.tz))


def checkpoint_card(ctx: Ctx, cp: Checkpoint, stream: Stream, room: Room | None, names: dict[str, str],
                    cfg: dict[str, Any], *, stage: str = "card", leads: list[str] = ()) -> Card:
    what = ctx.t(f"norms.cp.{cp.kind}")
    title = ctx.t(f"norms.stage.{stage}", what=what)
    card = Card(title, template=TEMPLATES.get(stage, "blue"))
    owner = at(cp.owner_id) if cp.owner_id else ctx.t("norms.no_owner")
    card.markdown(stream_label(ctx, stream, room))
    card.markdown(ctx.t(f"norms.cp_body.{cp.kind}", owner=owner, max=cfg["latency_max"], id=stream.id))
    if stage == "escalate":
        card.markdown(ctx.t("norms.escalated", leads=" ".join(at(x) for x in leads) or "-", owner=owner))
    value = {"a": "norms.done", "id": cp.id}
    if cp.kind == "equipment":
        card.form("latency_form", [Input("latency", ctx.t("norms.latency_label"),
                                         placeholder=ctx.t("norms.latency_hint", max=cfg["latency_max"]))],
                  Button(ctx.t("norms.btn_done"), value, kind="primary"))
        card.buttons(Button(ctx.t("norms.btn_live"), {"a": "norms.live", "id": stream.id}))
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
        card.buttons(Button(ctx.t("norms.btn_live"), {"a": "norms.live", "id": stream.id}))
    return card
