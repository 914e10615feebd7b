"""One outbox row as Open API calls: the request, the limits it counts against, its result.

Two rows are more than one plain call:
* ``urgent`` (buzz): only members of the chat can be buzzed (发送应用内加急: "加急时机器人需要在
  加急消息所在的群中", targets outside the chat → 230001; a group where only owners and
  admins may buzz → 230052). The sender reads the chat's members first and buzzes only them;
  whoever is left out or refused comes back in the result as ``refused`` for the row's
  callback to reach another way (bot.faults: @mention in the chat and a direct message).
* a card too old to update: Feishu updates cards only within 14 days of sending them
  (更新应用发送的消息卡片: "仅支持更新 14 天内发送的消息", else 230031). Such a PATCH is sent
  as a fresh card into the card's chat instead (``Job.mode == "fresh"``), and the row that
  made the card learns the new message id, so later updates go to the new card.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.feishu.codes import BUZZ_REFUSED
from bot.feishu.ops import MEMBERS, MESSAGES, SEND_API, Request, content, feishu_uuid, file_message, op_of
from bot.feishu.platform import ApiResult, Platform
from bot.sendlimits import Keys
from bot.store.models import OutboxMessage

__all__ = ["SEND_API", "MESSAGES", "MEMBERS", "Job", "Outcome", "request_for", "result_of", "keys_for", "perform",
           "too_old", "made_at", "members"]

CARD_LIFETIME = timedelta(days=14)  # card JSON 2.0: updatable for 14 days (更新应用发送的消息卡片)
CARD_MARGIN = timedelta(minutes=10)  # a PATCH queued just before the limit may arrive after it


@dataclass
class Job:
    """A claimed row ready to go: its real target and how it will be sent."""

    row: OutboxMessage
    target: str
    mode: str = ""  # "" as queued | "fresh": a new card instead of a PATCH of a too old one
    chat: str = ""  # the chat of the target message, when known
    origin: str = ""  # key of the row that made the card a fresh card replaces
    keys: Keys = field(default_factory=lambda: Keys((), ""))


@dataclass
class Outcome:
    api: ApiResult
    result: dict = field(default_factory=dict)
    handled: bool = False  # an error the row's result carries (a refused buzz): recorded as sent


def request_for(row: OutboxMessage, target: str) -> Request:
    """(method, path, paths, query, body) of one outbox row (bot.feishu.ops declares each op)."""
    return op_of(row.op).request(row, target)


def result_of(row: OutboxMessage, api: ApiResult, at: str = "") -> dict:
    """What later rows and callbacks need from an answer (``at``: when a message was made,
    on the bot's clock: a card's age is counted from it)."""
    return op_of(row.op).parse(api.data or {}, at)


def keys_for(job: Job) -> Keys:
    """The windows one job counts against (bot.sendlimits): its API(s), its lane, its message."""
    row = job.row
    if job.mode == "fresh":
        return Keys((SEND_API,), row.lane)
    op = op_of(row.op)
    method, path, *_ = op.request(row, job.target)
    return Keys(op.api_keys(method, path), row.lane, job.target if op.per_message else "")


def too_old(made: datetime | None, now: datetime) -> bool:
    return made is not None and now - made > CARD_LIFETIME - CARD_MARGIN


def made_at(result: dict, sent_at: datetime | None) -> datetime | None:
    """When the message a row made was created: its recorded time, else when the row was sent."""
    raw = result.get("at") if isinstance(result, dict) else None
    if raw:
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            pass
    return sent_at


async def perform(platform: Platform, job: Job, at: str) -> Outcome:
    row = job.row
    if job.mode == "fresh":
        api = await platform.call("POST", MESSAGES, query={"receive_id_type": "chat_id"}, body={
            "receive_id": job.chat, "msg_type": "interactive", "content": content(row.payload["content"]),
            "uuid": feishu_uuid(row.key + ":fresh")})
        data = api.data or {}
        return Outcome(api, {"message_id": data.get("message_id", ""), "chat_id": data.get("chat_id", job.chat),
                             "at": at, "replaced": job.target})
    if row.op == "send_file":
        return Outcome(*await _send_file(platform, row, job.target, at))
    if row.op == "urgent":
        return await _urgent(platform, job)
    method, path, paths, query, body = request_for(row, job.target)
    api = await platform.call(method, path, query=query, body=body, paths=paths)
    return Outcome(api, result_of(row, api, at) if api.ok else {})


async def _send_file(platform: Platform, row: OutboxMessage, target: str, at: str) -> tuple[ApiResult, dict]:
    """Upload, then post the file message (a retry uploads again: harmless)."""
    op = op_of(row.op)
    stream = io.BytesIO(base64.b64decode(row.payload["data_b64"]))
    stream.name = row.payload["file_name"]
    method, path, paths, query, body = op.request(row, target)
    upload = await platform.call(method, path, query=query, body={**body, "file": stream}, paths=paths)
    if not upload.ok:
        return upload, {}
    method, path, paths, query, body = file_message(row, target, upload.data.get("file_key", ""))
    api = await platform.call(method, path, query=query, body=body, paths=paths)
    return api, result_of(row, api, at) if api.ok else {}


async def members(platform: Platform, chat_id: str) -> set[str] | None:
    """open_ids of a chat's members; None when they cannot be read."""
    found: set[str] = set()
    token = ""
    for _ in range(50):
        query = {"member_id_type": "open_id", "page_size": "100", **({"page_token": token} if token else {})}
        api = await platform.call("GET", MEMBERS, paths={"chat_id": chat_id}, query=query)
        if not api.ok:
            return None
        found |= {str(i.get("member_id")) for i in api.data.get("items") or [] if i.get("member_id")}
        token = api.data.get("page_token") or ""
        if not api.data.get("has_more") or not token:
            return found
    return found


async def _urgent(platform: Platform, job: Job) -> Outcome:
    """Buzz the members among the targets; the rest, and any the buzz refuses, are ``refused``."""
    row = job.row
    ids = [str(i) for i in dict.fromkeys(row.payload.get("user_ids") or []) if i]
    inside = await members(platform, job.chat) if job.chat else None
    buzz = [i for i in ids if inside is None or i in inside]
    left_out = [i for i in ids if i not in buzz]
    if not buzz:
        return Outcome(ApiResult(200, 0), {"buzzed": [], "refused": left_out, "code": BUZZ_REFUSED[0]}, handled=True)
    method, path, paths, query, body = request_for(row, job.target)
    api = await platform.call(method, path, query=query, body={**body, "user_id_list": buzz}, paths=paths)
    if api.ok:
        invalid = [str(i) for i in api.data.get("invalid_user_id_list") or []]
        return Outcome(api, {"buzzed": [i for i in buzz if i not in invalid], "refused": left_out + invalid,
                             "code": None})
    if api.code in BUZZ_REFUSED:
        return Outcome(api, {"buzzed": [], "refused": ids, "code": api.code}, handled=True)
    return Outcome(api)
