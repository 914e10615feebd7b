"""The T-2d script review's gate: it opens only on a check of the stream's *script*.

A compliance record linked to the stream (``ComplianceRecord.stream_id``) counts as a check
of its script when it is

* an uploaded or replied file (the record has a ``file_name``: txt, md, docx, a sheet named
  脚本/话术), or
* typed or replied text of script length: at least ``script.chars`` characters (200) or
  ``script.lines`` non-empty lines (5), team settings (``/规范 设置 脚本字数 300``).

One clean sentence checked with "#12" does not open it. The gate looks at the *latest*
script check of the stream: a 必改 verdict keeps it shut (unless an ops lead let that record
through with ``/检查 放行``); 通过 or 建议修改 opens it, and the checkpoint keeps which record
did (``Checkpoint.gate_record_id``), named on the card ("由 检查 R12（脚本 面霜.docx）通过").
An ops lead can still confirm without one (``/规范 放行 #12 原因``).
"""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import escape_md
from bot.compliance.models import ComplianceRecord
from bot.errors import UserError

RECENT = 50  # a stream's records looked at, newest first


def is_script(record: ComplianceRecord, cfg: dict[str, Any]) -> bool:
    """Whether a check is a check of a whole script rather than of a sentence."""
    if record.file_name:
        return True
    text = (record.text or "").strip()
    lines = sum(1 for line in text.splitlines() if line.strip())
    return len(text) >= int(cfg["script.chars"]) or lines >= int(cfg["script.lines"])


async def script_record(session: AsyncSession, stream_id: int, cfg: dict[str, Any]) -> ComplianceRecord | None:
    """The stream's latest check that is a check of its script."""
    rows = (await session.execute(select(ComplianceRecord).where(ComplianceRecord.stream_id == stream_id)
                                  .order_by(ComplianceRecord.id.desc()).limit(RECENT))).scalars()
    return next((r for r in rows if is_script(r, cfg)), None)


async def open_gate(session: AsyncSession, stream_id: int, cfg: dict[str, Any]) -> ComplianceRecord:
    """The record that lets the script review be confirmed; a UserError saying why not."""
    record = await script_record(session, stream_id, cfg)
    if record is None:
        shorter = (await session.execute(select(ComplianceRecord.id).where(ComplianceRecord.stream_id == stream_id)
                                         .order_by(ComplianceRecord.id.desc()).limit(1))).scalar()
        if shorter is not None:
            raise UserError("norms.script_too_short", id=stream_id, ref=f"R{shorter}",
                            chars=cfg["script.chars"], lines=cfg["script.lines"])
        raise UserError("norms.script_need_check", id=stream_id, chars=cfg["script.chars"], lines=cfg["script.lines"])
    if record.verdict == "block" and record.status != "overridden":
        raise UserError("norms.script_blocked", id=stream_id, ref=f"R{record.id}")
    return record


def describe(t: Callable[..., str], record: ComplianceRecord) -> str:
    """"由 检查 R12（脚本 面霜.docx）通过" for the checkpoint card."""
    if record.file_name:
        what = t("norms.gate_file", name=escape_md(record.file_name[:80]))
    else:
        what = t("norms.gate_text", chars=len((record.text or "").strip()))
    if record.verdict == "block":
        outcome = t("norms.gate_overridden")
    elif record.verdict == "warn":
        outcome = t("norms.gate_warn", n=record.warn_count)
    else:
        outcome = t("norms.gate_pass")
    return t("norms.gate_by", ref=f"R{record.id}", what=what, outcome=outcome)
