"""Shared pieces of the simulated Open API: errors, the per-call context, common lookups
and the rate-limit windows. The handlers live in openapi.py (auth, messages), chats.py,
uploads.py, contact.py and tasks.py.
"""
from __future__ import annotations

from bot.clock import wall_seconds
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable
import urllib.parse

from aiohttp import web

from .ratelimit import ApiLimiter, SlidingWindow, reset_header
from .state import Chat, Message, SimState, User, random_hex

if TYPE_CHECKING:
    from .server import FeishuSimulator

TOKEN_TTL = 7200
MESSAGE_UUID_TTL = 3600.0
CHAT_UUID_TTL = 10 * 3600.0
MAX_TEXT_BYTES = 150 * 1024
MAX_POST_BYTES = 30 * 1024
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 30 * 1024 * 1024
PER_MESSAGE_QPS = 5
CARD_LIFETIME_MS = 14 * 86400 * 1000  # JSON 2.0: interactive and updatable for 14 days
MSG_TYPES = {"text", "post", "image", "file", "interactive", "audio", "media", "sticker",
             "share_chat", "share_user"}
IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif",
               b"BM": "image/bmp", b"II*\x00": "image/tiff", b"MM\x00*": "image/tiff",
               b"\x00\x00\x01\x00": "image/x-icon"}
TASK_FIELDS = {"summary", "description", "due", "start", "completed_at", "extra", "mode",
               "is_milestone", "repeat_rule", "custom_complete"}

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """A refusal in Feishu's shape: HTTP status (400 for business errors, 429 for the
    frequency limit) and ``{"code", "msg", "data", "error": {"log_id", ...}}``."""

    def __init__(self, code: int, msg: str, *, status: int = 400,
                 headers: dict[str, str] | None = None, error: dict[str, Any] | None | bool = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status, self.headers = code, msg, status, headers
        self.error = error

    def response(self) -> web.Response:
        """``{"code", "msg", "error": {"log_id", ...}}`` like the docs' error examples (no
        ``data``); ``error=False`` leaves the error object out (the 频控策略 429 example)."""
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.error is not False:
            error = dict(self.error) if isinstance(self.error, dict) else {}
            error.setdefault("log_id", random_hex(24))
            body["error"] = error
        return web.json_response(body, status=self.status, headers=self.headers)


@dataclass
class Call:
    request: web.Request
    query: dict[str, str]
    body: Any
    entry: dict[str, Any]
    raw_size: int = 0  # bytes of the HTTP request body as sent

    def field(self, name: str, kind: type | tuple[type, ...], *, required: bool = True,
              default: Any = None) -> Any:
        body = self.body if isinstance(self.body, dict) else {}
        value = body.get(name)
        if value is None:
            if required:
                raise ApiError(99992402, f"field validation failed: {name} is required")
            return default
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise ApiError(99992402, f"field validation failed: {name} has a wrong type")
        return value


def ok(data: Any = None, msg: str = "success") -> web.Response:
    return web.json_response({"code": 0, "msg": msg, "data": {} if data is None else data})


def image_type(data: bytes) -> str | None:
    for magic, ctype in IMAGE_MAGIC.items():
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def disposition(name: str) -> str:
    try:
        name.encode("latin-1")
        safe = name.replace('"', "")
        return f'attachment; filename="{safe}"'
    except UnicodeEncodeError:
        quoted = urllib.parse.quote(name)
        return f"attachment; filename=\"{quoted}\"; filename*=UTF-8''{quoted}"


class ApiBase:
    def __init__(self, sim: FeishuSimulator) -> None:
        self.sim = sim
        self.limiter = ApiLimiter()
        self.chat_window = SlidingWindow()
        self.message_window = SlidingWindow()

    @property
    def state(self) -> SimState:
        return self.sim.state

    def _chat(self, chat_id: str, *, chat_api: bool = False) -> Chat:
        chat = self.state.chats.get(chat_id)
        if chat is None:
            if chat_api:
                raise ApiError(232006, "Your request specifies a chat_id which is invalid.")
            raise ApiError(230001, f"invalid receive_id: chat {chat_id} does not exist")
        if not chat.bot_in_chat:
            if chat_api:
                raise ApiError(232011, "Operator can NOT be out of the chat.")
            raise ApiError(230002, "Bot/User can NOT be out of the chat.")
        return chat

    def _message(self, message_id: str) -> Message:
        m = self.state.messages.get(message_id)
        if m is None:
            raise ApiError(230001, f"invalid message_id: {message_id}")
        return m

    def _user(self, any_id: Any, id_type: str) -> User | None:
        if not isinstance(any_id, str):
            return None
        return self.state.find_user(any_id, id_type)

    def _id_of(self, user: User, id_type: str) -> str:
        return {"union_id": user.union_id, "user_id": user.user_id}.get(id_type, user.open_id)

    def _limit_api(self, api: str) -> None:
        """Per API, per app, per tenant: 50/s and 1000/min, either trips (频控策略)."""
        if not self.sim.rate_limits:
            return
        tripped = self.limiter.check(api, self.sim.per_app_qps, self.sim.per_app_qpm)
        if tripped is not None:
            limit, wait = tripped
            self.sim.stats["rate_limited_app"] += 1
            raise ApiError(99991400, "request trigger frequency limit", status=429, error=False, headers={
                "x-ogw-ratelimit-limit": str(limit), "x-ogw-ratelimit-reset": reset_header(wait)})

    def _limit_send(self, chat_id: str) -> None:
        """"向同一用户发送消息的限频为 5 QPS、向同一群组发送消息的限频为群内机器人共享 5 QPS"
        (发送消息 使用限制); over it: HTTP 400, code 230020."""
        if not self.sim.rate_limits:
            return
        if self.chat_window.wait(chat_id, self.sim.per_chat_qps) is not None:
            self.sim.stats["rate_limited_chat"] += 1
            raise ApiError(230020, "ratelimit triggered")
        self.chat_window.record(chat_id)

    def _limit_message(self, message_id: str) -> None:
        """"单条消息更新频控为 5 QPS" (更新已发送的消息卡片), "对同一条消息的 Pin 操作不能超过
        5 QPS" (Pin 消息); the docs name no code for it: 230020 like the per-chat limit."""
        if not self.sim.rate_limits:
            return
        if self.message_window.wait(message_id, PER_MESSAGE_QPS) is not None:
            self.sim.stats["rate_limited_message"] += 1
            raise ApiError(230020, "ratelimit triggered")
        self.message_window.record(message_id)

    def _dedupe(self, table: dict[str, tuple[float, str]], key: Any, ttl: float) -> str | None:
        if not key:
            return None
        if not isinstance(key, str) or len(key) > 50:
            raise ApiError(99992402, "field validation failed: uuid must be at most 50 characters")
        hit = table.get(key)
        if hit and wall_seconds() - hit[0] < ttl:
            self.sim.stats["uuid_dedupe_hits"] += 1
            return hit[1]
        return None

    def _users(self, ids: list[Any], id_type: str) -> list[User]:
        found: list[User] = []
        bad: list[Any] = []
        for any_id in ids:
            user = self._user(any_id, id_type)
            (found if user else bad).append(user or any_id)
        if bad:
            raise ApiError(232043, f"invalid user ids: {', '.join(map(str, bad))}")
        return found  # type: ignore[return-value]

    def _page(self, call: Call, items: list[Any]) -> dict[str, Any]:
        try:
            size = int(call.query.get("page_size", "20"))
            start = int(call.query.get("page_token") or 0)
        except ValueError:
            raise ApiError(99992402, "field validation failed: page_size/page_token") from None
        if not 1 <= size <= 100 or start < 0:
            raise ApiError(99992402, "field validation failed: page_size must be 1..100")
        page = items[start:start + size]
        more = start + size < len(items)
        return {"items": page, "page_token": str(start + size) if more else "", "has_more": more}
