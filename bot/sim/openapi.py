"""The simulated Feishu Open API: ``/open-apis/...`` routes with Feishu's paths and shapes.

Routes: auth/v3 tenant_access_token|app_access_token/internal; bot/v3/info;
im/v1/messages (send), messages/:id (GET, PATCH card), messages/:id/reply,
messages/:id/urgent_app|urgent_sms|urgent_phone, messages/:id/resources/:key;
im/v1/chats (POST, GET list), chats/:id (GET, PUT), chats/:id/members (POST, GET, DELETE);
im/v1/images, im/v1/files, im/v1/pins; interactive/v1/card/update (delayed update with a
callback token); contact/v3/users/:id, contact/v3/users/batch_get_id; task/v2/tasks (POST),
task/v2/tasks/:guid (GET, PATCH). Anything else under /open-apis: HTTP 404 text, recorded.

Every call is recorded (``sim.requests()``); armed faults fire first, then the tenant token is
checked (missing: 99991661, unknown or expired: 99991663, both HTTP 400), then the handler
runs. Errors are ``{"code", "msg", "error": {"log_id"}}`` with HTTP 400 as Feishu answers them
(429 for the frequency limit; a missing scope is 99991672 with the scope hint, see scopes.py).

Error codes the bot may meet: 230001 bad parameter (unknown ids, unparsable content),
230002 bot not in the chat, 230020 per-chat/per-message rate limit, 230025 text/post too long,
230027 not the bot's own message, 230099 card rejected, 99991400 (HTTP 429) app rate limit,
99992402 field validation failed, 232006 unknown chat, 232011 bot not in the chat (chat APIs),
232043 unknown users in a chat call, 234001/234003/234006/234010/234011 resource errors,
41050 unknown user (contact), 1470400/1470404 task errors, 10003/10014 bad app credentials,
200830 bad or used-up card token.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Awaitable, Callable

from bot.clock import wall_seconds
from aiohttp import web

from . import cards, scopes
from .scopes import API_SCOPES
from .apibase import (CARD_LIFETIME_MS, MAX_POST_BYTES, MAX_TEXT_BYTES, MESSAGE_UUID_TTL, MSG_TYPES, TOKEN_TTL, ApiError, Call,
                      Handler, disposition, ok)
from .chats import ChatsApi
from .contact import ContactApi
from .state import Chat, Message, api_message, append_capped, iso_ms, now_ms, random_hex
from .bitable import BitableApi
from .calendar import CalendarApi
from .tasks import TasksApi
from .uploads import UploadsApi

log = logging.getLogger(__name__)


class OpenApi(ChatsApi, UploadsApi, ContactApi, TasksApi, CalendarApi, BitableApi):
    """All /open-apis routes. Mixins hold the chat, upload, contact, task, calendar and
    Bitable handlers."""

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        p = "/open-apis"
        for method, path, handler, auth in self.route_table(p):
            r.add_route(method, path, self._wrap(handler, auth=auth, api=(method, path)))
        r.add_route("*", f"{p}/{{tail:.*}}", self._wrap(self.not_found, auth=False))

    def route_table(self, p: str = "/open-apis") -> list[tuple[str, str, Handler, bool]]:
        """(method, aiohttp path, handler, needs a token) of every simulated Open API call."""
        return [
            ("POST", f"{p}/auth/v3/tenant_access_token/internal", self.tenant_token, False),
            ("POST", f"{p}/auth/v3/app_access_token/internal", self.app_token, False),
            ("GET", f"{p}/bot/v3/info", self.bot_info, True),
            ("POST", f"{p}/im/v1/messages", self.send_message, True),
            ("GET", f"{p}/im/v1/messages/{{message_id}}", self.get_message, True),
            ("PATCH", f"{p}/im/v1/messages/{{message_id}}", self.patch_message, True),
            ("POST", f"{p}/im/v1/messages/{{message_id}}/reply", self.reply_message, True),
            ("PATCH", f"{p}/im/v1/messages/{{message_id}}/urgent_app", self.urgent, True),
            ("PATCH", f"{p}/im/v1/messages/{{message_id}}/urgent_sms", self.urgent, True),
            ("PATCH", f"{p}/im/v1/messages/{{message_id}}/urgent_phone", self.urgent, True),
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
            ("POST", f"{p}/interactive/v1/card/update", self.delayed_card_update, True),
            ("GET", f"{p}/contact/v3/users/{{user_id}}", self.get_user, True),
            ("POST", f"{p}/contact/v3/users/batch_get_id", self.batch_get_id, True),
            ("POST", f"{p}/task/v2/tasks", self.create_task, True),
            ("GET", f"{p}/task/v2/tasks/{{guid}}", self.get_task, True),
            ("PATCH", f"{p}/task/v2/tasks/{{guid}}", self.patch_task, True),
            ("POST", f"{p}/task/v2/tasks/{{guid}}/add_members", self.add_task_members, True),
            ("POST", f"{p}/task/v2/tasks/{{guid}}/remove_members", self.remove_task_members, True),
            *self.calendar_routes(p), *self.bitable_routes(p),
        ]

    def _wrap(self, handler: Handler, *, auth: bool,
              api: tuple[str, str] | None = None) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
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
                if request.content_type != "multipart/form-data" and request.body_exists:
                    raw = await request.read()
                    call.raw_size = len(raw)
                    if raw:
                        try:
                            call.body = json.loads(raw)
                        except ValueError:
                            entry["json"] = raw[:500].decode("utf-8", "replace")
                            raise ApiError(99992402, "field validation failed: body is not JSON") from None
                        entry["json"] = call.body
                fault = self.sim.faults.take(request.path)
                if fault is not None and fault.kind != "lost_answer":
                    entry["fault"] = fault.kind
                    self.sim.stats["faults_injected"] += 1
                    resp = await self.sim.faults.respond(fault)
                else:
                    if auth:
                        self._check_token(request)
                    if api is not None:
                        self._limit_api(f"{api[0]} {api[1]}")
                        self._check_scopes(API_SCOPES.get(api, ((), ""))[0])
                    resp = await handler(call)
                    if fault is not None:  # lost_answer: Feishu did it; the answer never came back
                        entry["fault"] = fault.kind
                        self.sim.stats["faults_injected"] += 1
                        resp = await self.sim.faults.respond(fault)
            except ApiError as exc:
                resp = exc.response()
            except Exception:  # a simulator bug: answer like a Feishu 500, keep the trace
                log.exception("simulator error on %s %s", request.method, request.path)
                resp = web.json_response({"code": 1500, "msg": "internal error (simulator)"},
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
        if expiry is None or expiry <= wall_seconds():
            self.sim.stats["token_rejections"] += 1
            raise ApiError(99991663, "Invalid access token for authorization. "
                                     "Please make a request with token attached.")

    def _check_scopes(self, required: tuple[str, ...]) -> None:
        """The app must hold one of the API's scopes (99991672 with the scope hint)."""
        if scopes.missing(required, self.sim.scopes):
            self.sim.stats["scope_rejections"] += 1
            log_id = random_hex(24)
            msg, error = scopes.refusal(self.sim.app_id, required, log_id)
            raise ApiError(99991672, msg, error=error)

    def _check_body_size(self, msg_type: Any, raw_size: int) -> None:
        """"文本消息请求体最大不能超过150KB；卡片及富文本消息请求体最大不能超过30KB"
        (更新应用发送的消息卡片 / 发送消息): the HTTP request body as sent, not the card alone."""
        limit = MAX_TEXT_BYTES if msg_type == "text" else MAX_POST_BYTES
        if msg_type in ("text", "post", "interactive") and raw_size > limit:
            raise ApiError(230025, f"The message content is too long: the request body is {raw_size} bytes, "
                                   f"over the {limit // 1024} KB limit for {msg_type}.")

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
            if isinstance(parsed.get("post"), dict):  # the older {"post": {"zh_cn": ...}} wrapper
                parsed = parsed["post"]
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

    def _store_bot_message(self, chat: Chat, msg_type: str, content: str, *, uuid: str | None,
                           parent: Message | None = None, in_thread: bool = False) -> Message:
        if msg_type == "file":  # Feishu stores a sent file message with the uploaded file's name
            parsed = json.loads(content)
            res = self.state.resources.get(parsed.get("file_key"))
            if res is not None and "file_name" not in parsed:
                content = json.dumps({**parsed, "file_name": res.name}, ensure_ascii=False)
        m = Message(message_id="om_" + random_hex(), chat_id=chat.chat_id, sender_id=self.sim.app_id,
                    sender_type="app", msg_type=msg_type, content=content,
                    seq=self.state.next_seq(), uuid=uuid, clock_ms=self.sim.clock_ms())
        if parent is not None:
            m.parent_id = parent.message_id
            m.root_id = parent.root_id or parent.message_id
            if in_thread or parent.thread_id:
                if not parent.thread_id:
                    parent.thread_id = "omt_" + random_hex(24)
                    self.state.touch(parent)
                m.thread_id = parent.thread_id
        if uuid:
            self.state.message_uuids[uuid] = (wall_seconds(), m.message_id)
        self.state.add_message(m)
        self.sim.stats["messages_sent"] += 1
        self.sim.notify()
        return m

    def _credentials(self, call: Call) -> None:
        body = call.body if isinstance(call.body, dict) else {}
        if not body.get("app_id") or not body.get("app_secret"):
            raise ApiError(10003, "invalid param: app_id and app_secret are required")
        if body.get("app_id") != self.sim.app_id:
            raise ApiError(10003, "invalid param: app_id is not valid")
        if body.get("app_secret") != self.sim.app_secret:
            raise ApiError(10014, "app secret invalid")

    def _issue(self) -> tuple[str, int]:
        now = wall_seconds()
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
        self._check_body_size(msg_type, call.raw_size)
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
        self._check_body_size(msg_type, call.raw_size)
        self._check_content(msg_type, content)
        chat = self._chat(parent.chat_id)
        self._limit_send(chat.chat_id)
        m = self._store_bot_message(chat, msg_type, content, uuid=uuid, parent=parent, in_thread=in_thread)
        return ok(api_message(m, self.sim.tenant_key))

    async def get_message(self, call: Call) -> web.Response:
        m = self._message(call.request.match_info["message_id"])
        chat = self._chat(m.chat_id)
        if chat.chat_type == "group":
            # "获取群聊消息 需先申请单聊场景的任一权限，此外应用还必须开启 获取群组中所有消息
            # （im:message.group_msg） 权限" (获取指定消息的内容, 注意事项 1.2)
            self._check_scopes((scopes.GROUP_MSG,))
        return ok({"items": [api_message(m, self.sim.tenant_key)]})

    async def patch_message(self, call: Call) -> web.Response:
        m = self._message(call.request.match_info["message_id"])
        content = call.field("content", str)
        if m.sender_type != "app":
            raise ApiError(230027, "Lack of necessary permissions: only the bot's own messages can be updated")
        if m.msg_type != "interactive":
            raise ApiError(230001, "invalid message: only interactive (card) messages can be updated")
        if self.sim.card_age_ms(m) > CARD_LIFETIME_MS:
            # "仅支持更新 14 天内发送的消息" (更新已发送的消息卡片); JSON 2.0 "卡片可交互和可更新时间
            # 统一为 14 天". The code is 230031 (issue 13); its msg text is not in the docs corpus.
            raise ApiError(230031, "The message has exceeded the 14-day update window and can no longer "
                                   "be updated.")
        self._check_body_size("interactive", call.raw_size)
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
        """Buzz (发送应用内加急 urgent_app / urgent_sms / urgent_phone): only the bot's own
        messages ("只能加急机器人自己发送的消息"); the bot must be in the chat; targets not in the
        chat come back in invalid_user_id_list, and when none is in it: 230001; a group that
        lets only its owner/admins buzz ("仅群主或管理员可以加急", urgent_sms 前提条件) refuses a
        bot that is not an admin: 230052 (code per issue 13 / platform notes)."""
        m = self._message(call.request.match_info["message_id"])
        kind = call.request.path.rsplit("/", 1)[1].split("_", 1)[1]
        id_type = call.query.get("user_id_type")
        if id_type not in ("open_id", "union_id", "user_id"):
            raise ApiError(99992402, "field validation failed: user_id_type is required")
        ids = call.field("user_id_list", list)
        if m.sender_type != "app":
            raise ApiError(230027, "Lack of necessary permissions: only the bot's own messages can be buzzed")
        chat = self._chat(m.chat_id)
        if chat.chat_type == "group" and chat.urgent_setting != "all_members" and not chat.bot_is_admin:
            raise ApiError(230052, "The group only allows its owner and admins to send urgent messages, "
                                   "and the bot is not an admin.")
        valid: list[str] = []
        invalid: list[str] = []
        for any_id in ids:
            user = self._user(any_id, id_type)
            if user is None or user.open_id not in chat.members:
                invalid.append(str(any_id))
            else:
                valid.append(user.open_id)
        if not valid:
            raise ApiError(230001, "invalid user_id_list: none of the target users is in the chat.")
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
                            headers={"Content-Disposition": disposition(res.name)})

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

    async def delayed_card_update(self, call: Call) -> web.Response:
        """Update a card later with the token of a card callback (valid 30 min, twice)."""
        token = call.field("token", str)
        card = call.field("card", dict)
        grant = self.state.card_tokens.get(token)
        if grant is None or grant["expires"] < wall_seconds() or grant["uses"] < 1:
            raise ApiError(200830, "invalid or expired card token (30 minutes, at most 2 updates)")
        try:
            cards.check_card(card, len(json.dumps(card, ensure_ascii=False).encode("utf-8")))
        except cards.CardError as exc:
            raise ApiError(230099, f"Failed to update card content: {exc}") from None
        m = self._message(grant["message_id"])
        grant["uses"] -= 1
        m.content = json.dumps(card, ensure_ascii=False)
        m.updated = True
        self.state.touch(m)
        self.sim.notify()
        return ok({})
