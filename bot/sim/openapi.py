"""The simulated Feishu Open API: ``/open-apis/...`` routes with Feishu's paths and shapes.

Every call is recorded (``sim.requests``); armed faults fire first, then the tenant token is
checked (missing: 99991661, unknown or expired: 99991663, both HTTP 400), then the handler
runs. Errors are ``{"code", "msg", "data": {}}`` with HTTP 400 as Feishu answers them.

Error codes the bot may meet: 230001 bad parameter (unknown ids, unparsable content),
230002 bot not in the chat, 230020 per-chat/per-message rate limit, 230025 text/post too long,
230027 not the bot's own message, 230099 card rejected, 99991400 (HTTP 429) app rate limit,
99992402 field validation failed, 232006 unknown chat, 232011 bot not in the chat (chat APIs),
232043 unknown users in a chat call, 234001/234003/234006/234010/234011 resource errors,
41050 unknown user (contact), 1470400/1470404 task errors, 10003/10014 bad app credentials.
"""
from __future__ import annotations

from dataclasses import dataclass
import json
import logging
import mimetypes
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable
import urllib.parse
import uuid as uuidlib

from aiohttp import web

from . import cards
from .ratelimit import SlidingWindow, reset_header
from .state import (Chat, Message, Resource, SimState, User, api_message, append_capped, iso_ms, now_ms,
                    random_hex)

if TYPE_CHECKING:
    from .server import FeishuSimulator

log = logging.getLogger(__name__)

TOKEN_TTL = 7200
MESSAGE_UUID_TTL = 3600.0
CHAT_UUID_TTL = 10 * 3600.0
MAX_TEXT_BYTES = 150 * 1024
MAX_POST_BYTES = 30 * 1024
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 30 * 1024 * 1024
PER_MESSAGE_QPS = 5
MSG_TYPES = {"text", "post", "image", "file", "interactive", "audio", "media", "sticker",
             "share_chat", "share_user"}
IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif",
               b"BM": "image/bmp", b"II*\x00": "image/tiff", b"MM\x00*": "image/tiff",
               b"\x00\x00\x01\x00": "image/x-icon"}
TASK_FIELDS = {"summary", "description", "due", "start", "completed_at", "extra", "mode",
               "is_milestone", "repeat_rule", "custom_complete"}

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(self, code: int, msg: str, *, status: int = 400,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status, self.headers = code, msg, status, headers

    def response(self) -> web.Response:
        body = {"code": self.code, "msg": self.msg, "data": {},
                "error": {"log_id": random_hex(24)}}
        return web.json_response(body, status=self.status, headers=self.headers)


@dataclass
class Call:
    request: web.Request
    query: dict[str, str]
    body: Any
    entry: dict[str, Any]

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


def _image_type(data: bytes) -> str | None:
    for magic, ctype in IMAGE_MAGIC.items():
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _disposition(name: str) -> str:
    try:
        name.encode("latin-1")
        safe = name.replace('"', "")
        return f'attachment; filename="{safe}"'
    except UnicodeEncodeError:
        quoted = urllib.parse.quote(name)
        return f"attachment; filename=\"{quoted}\"; filename*=UTF-8''{quoted}"


class OpenApi:
    def __init__(self, sim: FeishuSimulator) -> None:
        self.sim = sim
        self.app_window = SlidingWindow()
        self.chat_window = SlidingWindow()
        self.message_window = SlidingWindow()

    @property
    def state(self) -> SimState:
        return self.sim.state

    # routing -------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        r = app.router
        p = "/open-apis"
        routes: list[tuple[str, str, Handler, bool]] = [
            ("POST", f"{p}/auth/v3/tenant_access_token/internal", self.tenant_token, False),
            ("POST", f"{p}/auth/v3/app_access_token/internal", self.app_token, False),
            ("GET", f"{p}/bot/v3/info", self.bot_info, True),
            ("POST", f"{p}/im/v1/messages", self.send_message, True),
            ("GET", f"{p}/im/v1/messages/{{message_id}}", self.get_message, True),
            ("PATCH", f"{p}/im/v1/messages/{{message_id}}", self.patch_message, True),
            ("POST", f"{p}/im/v1/messages/{{message_id}}/reply", self.reply_message, True),
            ("PATCH", f"{p}/im/v1/messages/{{message_id}}/{{kind:urgent_(?:app|sms|phone)}}",
             self.urgent, True),
            ("GET", f"{p}/im/v1/messages/{{message_id}}/resources/{{file_key}}", self.get_resource, True),
            ("POST", f"{p}/im/v1/chats", self.create_chat, True),
            ("GET", f"{p}/im/v1/chats", self.list_chats, True),
            ("GET", f"{p}/im/v1/chats/{{chat_id}}", self.get_chat, True),
            ("PUT", f"{p}/im/v1/chats/{{chat_id}}", self.update_chat, True),
            ("POST", f"{p}/im/v1/chats/{{chat_id}}/members", self.add_members, True),
            ("GET", f"{p}/im/v1/chats/{{chat_id}}/members", self.list_members, True),
            ("DELETE", f"{p}/im/v1/chats/{{chat_id}}/members", self.remove_members, True),
            ("POST", f"{p}/im/v1/images", self.upload_image, True),
            ("POST", f"{p}/im/v1/files", self.upload_file, True),
            ("POST", f"{p}/im/v1/pins", self.pin, True),
            ("GET", f"{p}/contact/v3/users/{{user_id}}", self.get_user, True),
            ("POST", f"{p}/contact/v3/users/batch_get_id", self.batch_get_id, True),
            ("POST", f"{p}/task/v2/tasks", self.create_task, True),
            ("GET", f"{p}/task/v2/tasks/{{guid}}", self.get_task, True),
            ("PATCH", f"{p}/task/v2/tasks/{{guid}}", self.patch_task, True),
        ]
        for method, path, handler, auth in routes:
            r.add_route(method, path, self._wrap(handler, auth=auth))
        r.add_route("*", f"{p}/{{tail:.*}}", self._wrap(self.not_found, auth=False))

    def _wrap(self, handler: Handler, *, auth: bool) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            started = time.monotonic()
            entry: dict[str, Any] = {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "json": None,
                "headers": {k.lower(): v for k, v in request.headers.items()
                            if k.lower() in ("authorization", "content-type", "user-agent")},
                "status": None,
                "code": None,
                "time": iso_ms(now_ms()),
                "fault": None,
            }
            append_capped(self.state.requests, entry)
            self.sim.stats["requests"] += 1
            call = Call(request, dict(request.query), None, entry)
            resp: web.StreamResponse
            try:
                if request.content_type != "multipart/form-data" and request.can_read_body:
                    raw = await request.read()
                    if raw:
                        try:
                            call.body = json.loads(raw)
                        except ValueError:
                            entry["json"] = raw[:500].decode("utf-8", "replace")
                            raise ApiError(99992402, "field validation failed: body is not JSON")
                        entry["json"] = call.body
                fault = self.sim.faults.take(request.path)
                if fault is not None:
                    entry["fault"] = fault.kind
                    self.sim.stats["faults_injected"] += 1
                    resp = await self.sim.faults.respond(fault)
                else:
                    if auth:
                        self._check_token(request)
                    resp = await handler(call)
            except ApiError as exc:
                resp = exc.response()
            except Exception:  # a simulator bug: answer like a Feishu 500, keep the trace
                log.exception("simulator error on %s %s", request.method, request.path)
                resp = web.json_response({"code": 1500, "msg": "internal error (simulator)", "data": {}},
                                         status=500)
            entry["status"] = resp.status
            entry["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
            if isinstance(resp, web.Response) and resp.content_type == "application/json":
                try:
                    entry["code"] = json.loads(resp.body).get("code")  # type: ignore[arg-type]
                except (ValueError, TypeError, AttributeError):
                    pass
            return resp

        return endpoint

    def _check_token(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            self.sim.stats["token_rejections"] += 1
            raise ApiError(99991661, "Missing access token for authorization. "
                                     "Please make a request with token attached.")
        expiry = self.state.tokens.get(header[7:].strip())
        if expiry is None or expiry <= time.time():
            self.sim.stats["token_rejections"] += 1
            raise ApiError(99991663, "Invalid access token for authorization. "
                                     "Please make a request with token attached.")

    # helpers -------------------------------------------------------------------------------
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

    def _limit_send(self, chat_id: str) -> None:
        if not self.sim.rate_limits:
            return
        wait = self.app_window.wait("app", self.sim.per_app_qps)
        if wait is not None:
            self.sim.stats["rate_limited_app"] += 1
            raise ApiError(99991400, "request trigger frequency limit", status=429, headers={
                "x-ogw-ratelimit-limit": str(self.sim.per_app_qps),
                "x-ogw-ratelimit-reset": reset_header(wait)})
        if self.chat_window.wait(chat_id, self.sim.per_chat_qps) is not None:
            self.sim.stats["rate_limited_chat"] += 1
            raise ApiError(230020, "ratelimit triggered")
        self.app_window.record("app")
        self.chat_window.record(chat_id)

    def _limit_message(self, message_id: str) -> None:
        if not self.sim.rate_limits:
            return
        if self.message_window.wait(message_id, PER_MESSAGE_QPS) is not None:
            self.sim.stats["rate_limited_message"] += 1
            raise ApiError(230020, "ratelimit triggered")
        self.message_window.record(message_id)

    def _check_content(self, msg_type: Any, content: Any) -> None:
        if not isinstance(msg_type, str) or msg_type not in MSG_TYPES:
            raise ApiError(230001, f"invalid msg_type: {msg_type!r}")
        if not isinstance(content, str):
            raise ApiError(230001, "invalid content: content must be a JSON string")
        try:
            parsed = json.loads(content)
        except ValueError:
            raise ApiError(230001, "invalid content: content is not valid JSON") from None
        size = len(content.encode("utf-8"))
        if not isinstance(parsed, dict):
            raise ApiError(230001, "invalid content: content must be a JSON object")
        if msg_type == "text":
            if not isinstance(parsed.get("text"), str):
                raise ApiError(230001, "invalid content: text message needs a text string")
            if size > MAX_TEXT_BYTES:
                raise ApiError(230025, "The message content is too long (text is limited to 150 KB).")
        elif msg_type == "post":
            bodies = [v for v in parsed.values() if isinstance(v, dict)]
            if "content" in parsed:
                bodies = [parsed]
            if not bodies or not all(isinstance(b.get("content"), list)
                                     and all(isinstance(line, list) for line in b["content"])
                                     for b in bodies):
                raise ApiError(230001, "invalid content: post needs a locale with content [[...]]")
            if size > MAX_POST_BYTES:
                raise ApiError(230025, "The message content is too long (post is limited to 30 KB).")
        elif msg_type in ("image", "file"):
            key = parsed.get(f"{msg_type}_key")
            res = self.state.resources.get(key) if isinstance(key, str) else None
            if res is None or res.kind != msg_type:
                raise ApiError(230001, f"invalid content: unknown {msg_type}_key {key!r}")
        elif msg_type == "interactive":
            try:
                cards.check_card(parsed, size)
            except cards.CardError as exc:
                raise ApiError(230099, f"Failed to create card content, ext=ErrCode: 200621; "
                                       f"ErrMsg: {exc}") from None

    def _dedupe(self, table: dict[str, tuple[float, str]], key: Any, ttl: float) -> str | None:
        if not key:
            return None
        if not isinstance(key, str) or len(key) > 50:
            raise ApiError(99992402, "field validation failed: uuid must be at most 50 characters")
        hit = table.get(key)
        if hit and time.time() - hit[0] < ttl:
            self.sim.stats["uuid_dedupe_hits"] += 1
            return hit[1]
        return None

    def _store_bot_message(self, chat: Chat, msg_type: str, content: str, *, uuid: str | None,
                           parent: Message | None = None, in_thread: bool = False) -> Message:
        m = Message(message_id="om_" + random_hex(), chat_id=chat.chat_id, sender_id=self.sim.app_id,
                    sender_type="app", msg_type=msg_type, content=content,
                    seq=self.state.next_seq(), uuid=uuid)
        if parent is not None:
            m.parent_id = parent.message_id
            m.root_id = parent.root_id or parent.message_id
            if in_thread or parent.thread_id:
                if not parent.thread_id:
                    parent.thread_id = "omt_" + random_hex(24)
                    self.state.touch(parent)
                m.thread_id = parent.thread_id
        if uuid:
            self.state.message_uuids[uuid] = (time.time(), m.message_id)
        self.state.add_message(m)
        self.sim.stats["messages_sent"] += 1
        self.sim.notify()
        return m

    # auth ----------------------------------------------------------------------------------
    def _credentials(self, call: Call) -> None:
        body = call.body if isinstance(call.body, dict) else {}
        if not body.get("app_id") or not body.get("app_secret"):
            raise ApiError(10003, "invalid param: app_id and app_secret are required")
        if body.get("app_id") != self.sim.app_id:
            raise ApiError(10003, "invalid param: app_id is not valid")
        if body.get("app_secret") != self.sim.app_secret:
            raise ApiError(10014, "app secret invalid")

    def _issue(self) -> tuple[str, int]:
        now = time.time()
        for token, expiry in self.state.tokens.items():
            if expiry - now >= 1800:  # Feishu hands back the current token until 30 min remain
                return token, int(expiry - now)
        token = "t-" + random_hex(40)
        self.state.tokens[token] = now + TOKEN_TTL
        return token, TOKEN_TTL

    async def tenant_token(self, call: Call) -> web.Response:
        self._credentials(call)
        token, expire = self._issue()
        return web.json_response({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire})

    async def app_token(self, call: Call) -> web.Response:
        self._credentials(call)
        token, expire = self._issue()
        return web.json_response({"code": 0, "msg": "ok", "app_access_token": token,
                                  "tenant_access_token": token, "expire": expire})

    async def not_found(self, call: Call) -> web.Response:
        return web.Response(status=404, text="404 page not found", content_type="text/plain")

    async def bot_info(self, call: Call) -> web.Response:
        return web.json_response({"code": 0, "msg": "ok", "bot": {
            "activate_status": 2, "app_name": self.sim.bot_name, "avatar_url": "",
            "ip_white_list": [], "open_id": self.sim.bot_open_id}})

    # messages ------------------------------------------------------------------------------
    async def send_message(self, call: Call) -> web.Response:
        id_type = call.query.get("receive_id_type")
        if id_type not in ("chat_id", "open_id", "union_id", "user_id", "email"):
            raise ApiError(99992402, "field validation failed: receive_id_type is required "
                                     "(chat_id, open_id, union_id, user_id or email)")
        receive_id = call.field("receive_id", str)
        msg_type = call.field("msg_type", str)
        content = call.field("content", str)
        uuid = call.field("uuid", str, required=False)
        if id_type == "chat_id":
            chat = self.state.chats.get(receive_id)
            if chat is None:
                raise ApiError(230001, f"invalid receive_id: chat {receive_id} does not exist")
        else:
            user = self._user(receive_id, id_type)
            if user is None:
                raise ApiError(230001, f"invalid receive_id: no user with {id_type} {receive_id}")
            chat = self.sim._p2p(user.open_id)
        existing = self._dedupe(self.state.message_uuids, uuid, MESSAGE_UUID_TTL)
        if existing and existing in self.state.messages:
            return ok(api_message(self.state.messages[existing], self.sim.tenant_key))
        self._check_content(msg_type, content)
        self._chat(chat.chat_id)
        self._limit_send(chat.chat_id)
        m = self._store_bot_message(chat, msg_type, content, uuid=uuid)
        return ok(api_message(m, self.sim.tenant_key))

    async def reply_message(self, call: Call) -> web.Response:
        parent = self._message(call.request.match_info["message_id"])
        msg_type = call.field("msg_type", str)
        content = call.field("content", str)
        uuid = call.field("uuid", str, required=False)
        in_thread = bool(call.field("reply_in_thread", bool, required=False, default=False))
        existing = self._dedupe(self.state.message_uuids, uuid, MESSAGE_UUID_TTL)
        if existing and existing in self.state.messages:
            return ok(api_message(self.state.messages[existing], self.sim.tenant_key))
        self._check_content(msg_type, content)
        chat = self._chat(parent.chat_id)
        self._limit_send(chat.chat_id)
        m = self._store_bot_message(chat, msg_type, content, uuid=uuid, parent=parent, in_thread=in_thread)
        return ok(api_message(m, self.sim.tenant_key))

    async def get_message(self, call: Call) -> web.Response:
        m = self._message(call.request.match_info["message_id"])
        self._chat(m.chat_id)
        return ok({"items": [api_message(m, self.sim.tenant_key)]})

    async def patch_message(self, call: Call) -> web.Response:
        m = self._message(call.request.match_info["message_id"])
        content = call.field("content", str)
        if m.sender_type != "app":
            raise ApiError(230027, "Lack of necessary permissions: only the bot's own messages can be updated")
        if m.msg_type != "interactive":
            raise ApiError(230001, "invalid message: only interactive (card) messages can be updated")
        self._check_content("interactive", content)
        if not cards.is_shared(m.parsed()) or not cards.is_shared(json.loads(content)):
            raise ApiError(230099, "Failed to update card content: the card is not a shared card "
                                   "(config.update_multi must be true)")
        self._chat(m.chat_id)
        self._limit_message(m.message_id)
        m.content = content
        m.updated = True
        self.state.touch(m)
        self.sim.notify()
        return ok({})

    async def urgent(self, call: Call) -> web.Response:
        m = self._message(call.request.match_info["message_id"])
        kind = call.request.match_info["kind"].split("_", 1)[1]
        id_type = call.query.get("user_id_type")
        if id_type not in ("open_id", "union_id", "user_id"):
            raise ApiError(99992402, "field validation failed: user_id_type is required")
        ids = call.field("user_id_list", list)
        if m.sender_type != "app":
            raise ApiError(230027, "Lack of necessary permissions: only the bot's own messages can be buzzed")
        chat = self._chat(m.chat_id)
        valid: list[str] = []
        invalid: list[str] = []
        for any_id in ids:
            user = self._user(any_id, id_type)
            if user is None or user.open_id not in chat.members:
                invalid.append(str(any_id))
            else:
                valid.append(user.open_id)
        if valid:
            m.urgent.append({"kind": kind, "users": valid, "time": iso_ms(now_ms())})
            self.state.touch(m)
            self.sim.stats["buzzes"] += 1
            self.sim.notify()
        return ok({"invalid_user_id_list": invalid})

    async def get_resource(self, call: Call) -> web.StreamResponse:
        m = self._message(call.request.match_info["message_id"])
        key = call.request.match_info["file_key"]
        kind = call.query.get("type")
        if kind not in ("file", "image"):
            raise ApiError(234001, "Invalid request param: type must be file or image")
        self._chat(m.chat_id)
        parsed = m.parsed()
        keys: set[str] = set()
        if isinstance(parsed, dict):
            keys = {v for k, v in parsed.items() if k in ("file_key", "image_key") and isinstance(v, str)}
            for line in parsed.get("content") or []:  # images inside a post
                for el in line if isinstance(line, list) else []:
                    if isinstance(el, dict) and isinstance(el.get("image_key"), str):
                        keys.add(el["image_key"])
        res = self.state.resources.get(key)
        if key not in keys or res is None:
            raise ApiError(234003, "File not in msg.")
        if res.kind != kind:
            raise ApiError(234001, f"Invalid request param: this resource is an {res.kind}")
        return web.Response(body=res.data, content_type=res.content_type,
                            headers={"Content-Disposition": _disposition(res.name)})

    # chats ---------------------------------------------------------------------------------
    def _api_chat(self, chat: Chat) -> dict[str, Any]:
        owner = {"owner_id": chat.owner_id, "owner_id_type": "open_id"} if chat.owner_id else {}
        return {
            "avatar": "", "name": chat.name, "description": chat.description, **owner,
            "add_member_permission": "all_members", "share_card_permission": "allowed",
            "at_all_permission": "all_members", "edit_permission": "all_members",
            "group_message_type": "chat", "chat_mode": "p2p" if chat.chat_type == "p2p" else "group",
            "chat_type": "private", "chat_tag": "inner", "external": False,
            "tenant_key": self.sim.tenant_key, "join_message_visibility": "all_members",
            "leave_message_visibility": "all_members", "membership_approval": "no_approval_required",
            "moderation_permission": "all_members", "urgent_setting": "all_members",
            "video_conference_setting": "all_members", "pin_manage_setting": "all_members",
            "hide_member_count_setting": "all_members",
            "user_count": str(len(chat.members)), "bot_count": "1" if chat.bot_in_chat else "0",
            "chat_status": "normal",
        }

    def _users(self, ids: list[Any], id_type: str) -> list[User]:
        found, bad = [], []
        for any_id in ids:
            user = self._user(any_id, id_type)
            (found if user else bad).append(user or any_id)
        if bad:
            raise ApiError(232043, f"invalid user ids: {', '.join(map(str, bad))}")
        return found  # type: ignore[return-value]

    async def create_chat(self, call: Call) -> web.Response:
        id_type = call.query.get("user_id_type", "open_id")
        existing = self._dedupe(self.state.chat_uuids, call.query.get("uuid"), CHAT_UUID_TTL)
        if existing and existing in self.state.chats:
            chat = self.state.chats[existing]
            return ok({"chat_id": chat.chat_id, **self._api_chat(chat)})
        name = call.field("name", str, required=False, default="")
        description = call.field("description", str, required=False, default="")
        ids = call.field("user_id_list", list, required=False, default=[])
        if len(ids) > 50:
            raise ApiError(99992402, "field validation failed: user_id_list holds at most 50 ids")
        bots = call.field("bot_id_list", list, required=False, default=[])
        if any(b != self.sim.app_id for b in bots):
            raise ApiError(232043, "invalid bot ids: only this app can be added in the simulator")
        members = [u.open_id for u in self._users(ids, id_type)]
        owner_id = call.field("owner_id", str, required=False, default="")
        if owner_id:
            owner = self._users([owner_id], id_type)[0]
            owner_id = owner.open_id
            members.insert(0, owner_id)
        members = list(dict.fromkeys(members))
        chat = Chat(chat_id=self.state.new_chat_id(), name=name or "Group chat", chat_type="group",
                    members=members, bot_in_chat=True, description=description, owner_id=owner_id,
                    created_by_bot=True)
        self.state.chats[chat.chat_id] = chat
        uuid = call.query.get("uuid")
        if uuid:
            self.state.chat_uuids[uuid] = (time.time(), chat.chat_id)
        self.sim.stats["chats_created"] += 1
        self.sim.notify()
        return ok({"chat_id": chat.chat_id, **self._api_chat(chat)})

    async def list_chats(self, call: Call) -> web.Response:
        chats = [c for c in self.state.chats.values() if c.bot_in_chat and c.chat_type == "group"]
        items = [{"chat_id": c.chat_id, "avatar": "", "name": c.name, "description": c.description,
                  "owner_id": c.owner_id, "owner_id_type": "open_id", "external": False,
                  "tenant_key": self.sim.tenant_key, "chat_status": "normal"} for c in chats]
        return ok(self._page(call, items))

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

    async def get_chat(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        return ok(self._api_chat(chat))

    async def update_chat(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        name = call.field("name", str, required=False)
        description = call.field("description", str, required=False)
        owner_id = call.field("owner_id", str, required=False)
        if owner_id is not None:
            owner = self._users([owner_id], call.query.get("user_id_type", "open_id"))[0]
            if owner.open_id not in chat.members:
                raise ApiError(232043, "the new owner must be a member of the chat")
            chat.owner_id = owner.open_id
        if name is not None:
            chat.name = name
        if description is not None:
            chat.description = description
        self.sim.notify()
        return ok({})

    async def add_members(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        id_type = call.query.get("member_id_type", "open_id")
        ids = call.field("id_list", list)
        if len(ids) > 50:
            raise ApiError(99992402, "field validation failed: id_list holds at most 50 ids")
        prefix = {"open_id": "ou_", "union_id": "on_", "app_id": "cli_"}.get(id_type, "")
        invalid, missing, added = [], [], []
        for any_id in ids:
            if not isinstance(any_id, str) or not any_id.startswith(prefix):
                invalid.append(str(any_id))
                continue
            user = self._user(any_id, id_type)
            if user is None:
                missing.append(any_id)
            elif user.open_id not in chat.members:
                added.append(user.open_id)
        if call.query.get("succeed_type") == "2" and (invalid or missing):
            raise ApiError(232043, f"invalid user ids: {', '.join(invalid + missing)}")
        chat.members.extend(added)
        self.sim.notify()
        return ok({"invalid_id_list": invalid, "not_existed_id_list": missing,
                   "pending_approval_id_list": []})

    async def remove_members(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        id_type = call.query.get("member_id_type", "open_id")
        invalid = []
        for any_id in call.field("id_list", list):
            user = self._user(any_id, id_type)
            if user is None or user.open_id not in chat.members:
                invalid.append(str(any_id))
            else:
                chat.members.remove(user.open_id)
        self.sim.notify()
        return ok({"invalid_id_list": invalid})

    async def list_members(self, call: Call) -> web.Response:
        chat = self._chat(call.request.match_info["chat_id"], chat_api=True)
        id_type = call.query.get("member_id_type", "open_id")
        items = []
        for open_id in chat.members:
            user = self.state.users.get(open_id)
            if user:
                items.append({"member_id_type": id_type, "member_id": self._id_of(user, id_type),
                              "name": user.name, "tenant_key": self.sim.tenant_key})
        data = self._page(call, items)
        data["member_total"] = len(items)
        return ok(data)

    # uploads -------------------------------------------------------------------------------
    async def _multipart(self, call: Call, limit: int) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
        if call.request.content_type != "multipart/form-data":
            raise ApiError(99992402, "field validation failed: multipart/form-data expected")
        fields: dict[str, str] = {}
        files: dict[str, tuple[str, bytes]] = {}
        reader = await call.request.multipart()
        async for part in reader:
            name = part.name or ""
            if part.filename is not None:
                data = bytearray()
                while chunk := await part.read_chunk():
                    data.extend(chunk)
                    if len(data) > limit:
                        raise ApiError(234006, "The file size exceeds the limit.")
                files[name] = (part.filename, bytes(data))
            else:
                fields[name] = (await part.read()).decode("utf-8", "replace")
        call.entry["json"] = {"fields": fields,
                              "files": {k: {"filename": f, "size": len(d)} for k, (f, d) in files.items()}}
        return fields, files

    async def upload_image(self, call: Call) -> web.Response:
        fields, files = await self._multipart(call, MAX_IMAGE_BYTES)
        if fields.get("image_type") not in ("message", "avatar"):
            raise ApiError(234001, "Invalid request param: image_type must be message or avatar")
        if "image" not in files:
            raise ApiError(234001, "Invalid request param: image is required")
        filename, data = files["image"]
        ctype = _image_type(data)
        if ctype is None:
            raise ApiError(234011, "Can't recognize image format.")
        key = "img_v3_" + random_hex(30)
        self.state.resources[key] = Resource(key, "image", data, filename or key, ctype)
        return ok({"image_key": key})

    async def upload_file(self, call: Call) -> web.Response:
        fields, files = await self._multipart(call, MAX_FILE_BYTES)
        if fields.get("file_type") not in ("opus", "mp4", "pdf", "doc", "xls", "ppt", "stream"):
            raise ApiError(234001, "Invalid request param: file_type")
        if not fields.get("file_name") or "file" not in files:
            raise ApiError(234001, "Invalid request param: file_name and file are required")
        data = files["file"][1]
        if not data:
            raise ApiError(234010, "File size can't be 0.")
        name = fields["file_name"]
        key = "file_v3_" + random_hex(30)
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.state.resources[key] = Resource(key, "file", data, name, ctype)
        return ok({"file_key": key})

    async def pin(self, call: Call) -> web.Response:
        m = self._message(call.field("message_id", str))
        self._chat(m.chat_id)
        self._limit_message("pin:" + m.message_id)
        pin = self.state.pins.get(m.message_id)
        if pin is None:
            pin = {"message_id": m.message_id, "chat_id": m.chat_id, "operator_id": self.sim.app_id,
                   "operator_id_type": "app_id", "create_time": str(now_ms())}
            self.state.pins[m.message_id] = pin
            m.pinned = True
            self.state.touch(m)
            self.sim.notify()
        return ok({"pin": pin})

    # contact -------------------------------------------------------------------------------
    def _api_user(self, user: User, id_type: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "union_id": user.union_id, "user_id": user.user_id, "open_id": user.open_id,
            "name": user.name, "en_name": "", "nickname": "",
            "avatar": {k: "" for k in ("avatar_72", "avatar_240", "avatar_640", "avatar_origin")},
            "status": {"is_frozen": False, "is_resigned": False, "is_activated": True,
                       "is_exited": False, "is_unjoin": False},
            "department_ids": [], "mobile_visible": True,
        }
        if user.email:
            out["email"] = user.email
        if user.mobile:
            out["mobile"] = user.mobile
        return out

    async def get_user(self, call: Call) -> web.Response:
        id_type = call.query.get("user_id_type", "open_id")
        user = self._user(call.request.match_info["user_id"], id_type)
        if user is None:
            raise ApiError(41050, "no user authority error")
        return ok({"user": self._api_user(user, id_type)})

    async def batch_get_id(self, call: Call) -> web.Response:
        id_type = call.query.get("user_id_type", "open_id")
        emails = call.field("emails", list, required=False, default=[])
        mobiles = call.field("mobiles", list, required=False, default=[])
        if len(emails) > 50 or len(mobiles) > 50:
            raise ApiError(99992402, "field validation failed: at most 50 emails and 50 mobiles")
        out: list[dict[str, Any]] = []
        status = {"is_frozen": False, "is_resigned": False, "is_activated": True,
                  "is_exited": False, "is_unjoin": False}
        for email in emails:
            user = self._user(email, "email")
            row: dict[str, Any] = {"email": email}
            if user:
                row.update(user_id=self._id_of(user, id_type), status=status)
            out.append(row)
        for mobile in mobiles:
            user = self.sim._by_mobile(mobile) if isinstance(mobile, str) else None
            row = {"mobile": mobile}
            if user:
                row.update(user_id=self._id_of(user, id_type), status=status)
            out.append(row)
        return ok({"user_list": out})

    # tasks ---------------------------------------------------------------------------------
    def _task_error(self, msg: str) -> ApiError:
        return ApiError(1470400, f"bad request: {msg}")

    def _due(self, due: Any) -> dict[str, Any]:
        if not isinstance(due, dict):
            raise self._task_error("due must be an object")
        ts = due.get("timestamp")
        try:
            ms = int(ts)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise self._task_error("due.timestamp must be milliseconds") from None
        if ms <= 0:
            raise self._task_error("due.timestamp must be positive")
        return {"timestamp": str(ms), "is_all_day": bool(due.get("is_all_day", False))}

    async def create_task(self, call: Call) -> web.Response:
        id_type = call.query.get("user_id_type", "open_id")
        body = call.body if isinstance(call.body, dict) else {}
        token = body.get("client_token")
        if isinstance(token, str) and token in self.state.task_tokens:
            self.sim.stats["uuid_dedupe_hits"] += 1
            return ok({"task": self.state.tasks[self.state.task_tokens[token]]})
        summary = body.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise self._task_error("summary is required")
        if len(summary) > 3000:
            raise self._task_error("summary is longer than 3000 characters")
        members = []
        for mem in body.get("members") or []:
            if not isinstance(mem, dict) or mem.get("role") not in ("assignee", "follower"):
                raise self._task_error("members need id, type and role (assignee or follower)")
            if mem.get("type", "user") == "user" and self._user(mem.get("id"), id_type) is None:
                raise self._task_error(f"unknown member {mem.get('id')}")
            members.append({"id": mem["id"], "type": mem.get("type", "user"), "role": mem["role"]})
        guid = str(uuidlib.uuid4())
        now = str(now_ms())
        task: dict[str, Any] = {
            "guid": guid, "task_id": f"t{100000 + len(self.state.tasks) + 1}",
            "summary": summary, "description": str(body.get("description") or ""),
            "creator": {"id": self.sim.app_id, "type": "app"}, "members": members,
            "completed_at": "0", "created_at": now, "updated_at": now, "status": "todo",
            "url": f"https://applink.feishu.cn/client/todo/detail?guid={guid}",
            "mode": int(body.get("mode") or 2), "source": 6, "is_milestone": bool(body.get("is_milestone")),
            "subtask_count": 0, "reminders": [], "attachments": [], "tasklists": [],
            "extra": str(body.get("extra") or ""),
        }
        if body.get("due") is not None:
            task["due"] = self._due(body["due"])
        if isinstance(body.get("origin"), dict):
            task["origin"] = body["origin"]
        self.state.tasks[guid] = task
        if isinstance(token, str) and token:
            self.state.task_tokens[token] = guid
        self.sim.stats["tasks_created"] += 1
        self.sim.notify()
        return ok({"task": task})

    def _task(self, call: Call) -> dict[str, Any]:
        task = self.state.tasks.get(call.request.match_info["guid"])
        if task is None:
            raise ApiError(1470404, "task not found", status=404)
        return task

    async def get_task(self, call: Call) -> web.Response:
        return ok({"task": self._task(call)})

    async def patch_task(self, call: Call) -> web.Response:
        task = self._task(call)
        change = call.field("task", dict)
        fields = call.field("update_fields", list)
        if not fields or any(f not in TASK_FIELDS for f in fields):
            raise self._task_error(f"update_fields must be some of {sorted(TASK_FIELDS)}")
        for name in fields:
            value = change.get(name)
            if name == "due":
                if value is None:
                    task.pop("due", None)
                else:
                    task["due"] = self._due(value)
            elif name == "completed_at":
                try:
                    ms = int(value or 0)
                except (TypeError, ValueError):
                    raise self._task_error("completed_at must be milliseconds") from None
                task["completed_at"] = str(ms)
                task["status"] = "done" if ms else "todo"
            elif name == "summary" and (not isinstance(value, str) or not value.strip()):
                raise self._task_error("summary must not be empty")
            else:
                task[name] = value
        task["updated_at"] = str(now_ms())
        self.sim.notify()
        return ok({"task": task})
