"""The simulator's own JSON API under ``/_sim`` (tests, the sandbox web page, curl).

Bad input answers 4xx ``{"error": "..."}``; unknown users/chats/messages answer 404.

Only this server's own pages and tools may drive it (the sandbox has no login): every request
must name this server in ``Host`` (its address, or localhost on loopback; DNS rebinding
fails here), an ``Origin``, when sent, must be the same host (a web page elsewhere cannot post
here: CSRF), and a body must be ``application/json`` (``multipart/form-data`` for files), which
an HTML form cannot send. Refusals answer 403 (host, origin) or 400 (content type).

Reading
- ``GET /_sim/bot`` → ``{open_id, union_id, name, app_id}``
- ``GET /_sim/users`` → ``[{open_id, union_id, user_id, name, mobile, email}]``
- ``GET /_sim/chats`` → ``[{chat_id, name, chat_type ("group"|"p2p"), members: [open_id],
  bot_in_chat, description, owner_id, created_by_bot, message_count, last_seq}]``;
  ``GET /_sim/chats/{chat_id}`` → one of those
- ``GET /_sim/chats/{chat_id}/messages?after=SEQ`` → messages with seq > SEQ in the order they
  were sent: ``[{seq, message_id, chat_id, sender: {id, type: "user"|"app", name}, msg_type,
  content (parsed JSON), create_time, update_time (ISO 8601 with ms), parent_id, root_id,
  thread_id, mentions: [{key, open_id, name}], updated, urgent: [{kind, users, time}], pinned,
  clock_time (the bot's clock when it was sent, null without a clock)}]``.
  ``seq`` is global and increasing; a message that changes (card patched or replaced by a
  callback answer, buzzed, pinned) gets a new seq, so a poller with ``?after=`` receives its
  current version once more: upsert by message_id and remember the highest seq seen.
  User messages hold ``@_user_N`` placeholders resolved by ``mentions`` (as Feishu delivers
  them); the bot's messages hold exactly what the bot sent.
- ``GET /_sim/messages/{message_id}`` → one message
- ``GET /_sim/resources/{key}`` → the raw bytes of an uploaded image or file
- ``GET /_sim/tasks`` → tasks the bot created (Open API task shape)
- ``GET /_sim/requests?path_contains=&limit=`` → recorded Open API calls ``[{method, path, query,
  json, headers: {authorization, content-type, user-agent}, status, code, time, fault, elapsed_ms}]``
- ``GET /_sim/stats`` → counters (rate-limit rejections by kind, faults, token rejections,
  uuid dedupe hits, messages sent, events delivered/failed ...)
- ``GET /_sim/events`` → deliveries ``[{event_id, type, time, status, response, elapsed_ms, error,
  payload}]`` (payload: the envelope as sent, before encryption)
- ``GET /_sim/clock`` → ``{"now": ISO, "adjustable": bool}``, plus ``"jumps": [{"from", "to"}]``
  (the last fast-forwards) when the clock records them
- ``GET /_sim/faults`` → armed faults
- ``GET /_sim/scopes`` → ``{granted: [scope], group_msg: bool, subscriptions: [event type]}``
- ``GET /_sim/toasts?user=open_id`` → toasts shown to pressers, newest last: ``[{message_id,
  user, type, content, source: "bot"|"feishu", time}]`` (also in each message's ``toasts``)

Acting
- ``POST /_sim/users {name, mobile?, email?}`` → the new user
- ``POST /_sim/users/{open_id}/p2p`` → that user's direct chat with the bot (created lazily)
- ``POST /_sim/chats {name, members: [open_id], with_bot?: true}`` → the new group
- ``POST /_sim/chats/{chat_id}/bot {user}`` adds the bot (event im.chat.member.bot.added_v1);
  ``DELETE`` the same removes it
- ``POST /_sim/chats/{chat_id}/messages {user, text, parent_id?}`` → the message, delivered to
  the bot, plus ``delivery``
- ``POST /_sim/chats/{chat_id}/files`` multipart ``user`` + ``file`` → a file message
- ``POST /_sim/cards/{message_id}/actions {user, value, form_value?}`` →
  ``{"response": <the bot's answer>, "message": <the card message now>, "toast": <what the
  presser saw, the bot's toast or Feishu's own error/expiry notice, or null>}``
- ``POST /_sim/clock/advance {"seconds": N}`` (0 < N ≤ 366 days) → ``{"now", "adjustable"}``
- ``POST /_sim/faults {kind, path_contains?, times?, seconds?}``; ``DELETE /_sim/faults``
- ``POST /_sim/tokens/expire`` invalidates every tenant token
- ``POST /_sim/scopes {grant?: [scope], revoke?: [scope], group_msg?: bool}`` changes what the
  tenant granted → the same as GET
- ``POST /_sim/chats/{chat_id}/settings {urgent_setting: "all_members"|"only_owner", bot_is_admin?}``
- ``POST /_sim/url-check {url?}`` → Feishu's request-URL check against event_url (or url):
  ``{ok, status, response, elapsed_ms, error, challenge}``
"""
from __future__ import annotations

from datetime import datetime, timezone
import logging
import math
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from aiohttp import web

from .state import SimError, chat_view

if TYPE_CHECKING:
    from .server import FeishuSimulator

log = logging.getLogger(__name__)

MAX_ADVANCE = 366 * 86400
MAX_UPLOAD = 30 * 1024 * 1024
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SIM_KEY = web.AppKey("liveops_sim", object)  # the simulator serving this app (for its allowed_hosts)


def _split_host(value: str) -> tuple[str, int | None]:
    """``"[::1]:8080"`` → ("::1", 8080); ``"localhost"`` → ("localhost", None)."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = value.partition(":")
    return name, (int(port) if port.isdigit() else None)


def refusal(request: web.Request, *, files: bool = False, body: bool = True) -> tuple[int, str] | None:
    """Why a /_sim request is not from this server's own page or a local tool (None: fine).
    ``body=False``: Host and Origin only (the sandbox checks every path of its port so)."""
    sock = request.transport.get_extra_info("sockname") if request.transport else None
    if not sock:
        return None  # not a TCP connection (aiohttp test utilities): nothing to compare
    local_ip, local_port = str(sock[0]).lower(), int(sock[1])
    names = {local_ip, *getattr(request.app.get(SIM_KEY), "allowed_hosts", ())}
    if local_ip.startswith("127.") or local_ip in ("::1", "::ffff:127.0.0.1"):
        names.update(LOOPBACK_NAMES)
    host = request.headers.get("Host", "")
    name, port = _split_host(host)
    if name not in names or (port or 80) != local_port:
        return 403, f"Host {host[:100]!r} is not this server; use http://127.0.0.1:{local_port}/"
    origin = request.headers.get("Origin")
    if origin is not None:
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or _split_host(rest.split("/", 1)[0]) != (name, port):
            return 403, "requests from another site's page are refused"
    if body and request.method in ("POST", "PUT", "PATCH", "DELETE") and request.body_exists:
        wanted = ("application/json", "multipart/form-data") if files else ("application/json",)
        if request.content_type not in wanted:
            return 400, f"send {' or '.join(wanted)} (got {request.content_type})"
    return None


def _guard(fn: Route, *, files: bool = False) -> Route:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        refused = refusal(request, files=files)
        if refused is not None:
            return _error(*refused)
        try:
            return await fn(request)
        except SimError as exc:
            return _error(exc.status, str(exc))
        except web.HTTPException:
            raise
        except Exception as exc:  # a simulator bug, not bad input
            log.exception("/_sim error on %s %s", request.method, request.path)
            return _error(500, f"simulator error: {type(exc).__name__}: {exc}")
    return wrapped


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise SimError("the body must be JSON") from None
    if not isinstance(data, dict):
        raise SimError("the body must be a JSON object")
    return data


def _str(data: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SimError(f"{key} must be a non-empty string")
    return value


class Inspect:
    def __init__(self, sim: FeishuSimulator) -> None:
        self.sim = sim

    async def bot(self, request: web.Request) -> web.Response:
        return web.json_response({"open_id": self.sim.bot_open_id, "union_id": self.sim.bot_union_id,
                                  "name": self.sim.bot_name, "app_id": self.sim.app_id})

    async def users(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.users())

    async def add_user(self, request: web.Request) -> web.Response:
        data = await _body(request)
        user = self.sim.add_user(_str(data, "name") or "", mobile=_str(data, "mobile", required=False),
                                 email=_str(data, "email", required=False))
        return web.json_response(user, status=201)

    async def p2p(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.p2p_chat(request.match_info["open_id"]))

    async def chats(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.chats())

    async def chat(self, request: web.Request) -> web.Response:
        return web.json_response(chat_view(self.sim.state, self.sim._chat(request.match_info["chat_id"])))

    async def add_chat(self, request: web.Request) -> web.Response:
        data = await _body(request)
        members = data.get("members", [])
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise SimError("members must be a list of open_ids")
        with_bot = data.get("with_bot", True)
        if not isinstance(with_bot, bool):
            raise SimError("with_bot must be true or false")
        chat = self.sim.add_chat(_str(data, "name") or "", members, with_bot=with_bot)
        return web.json_response(chat, status=201)

    async def bot_in(self, request: web.Request) -> web.Response:
        data = await _body(request)
        user = _str(data, "user") or ""
        chat_id = request.match_info["chat_id"]
        if request.method == "DELETE":
            info = await self.sim.remove_bot_from_chat(chat_id, user)
        else:
            info = await self.sim.add_bot_to_chat(chat_id, user)
        return web.json_response({"chat": chat_view(self.sim.state, self.sim._chat(chat_id)), "delivery": info})

    async def messages(self, request: web.Request) -> web.Response:
        chat_id = request.match_info["chat_id"]
        raw = request.query.get("after", "0")
        try:
            after = int(raw)
        except ValueError:
            raise SimError("after must be an integer seq") from None
        if after < 0:
            raise SimError("after must be >= 0")
        return web.json_response([m for m in self.sim.messages(chat_id) if m["seq"] > after])

    async def post_message(self, request: web.Request) -> web.Response:
        data = await _body(request)
        chat_id = request.match_info["chat_id"]
        self.sim._chat(chat_id)
        msg = await self.sim.send_text(chat_id, _str(data, "user") or "", _str(data, "text") or "",
                                       parent_id=_str(data, "parent_id", required=False))
        return web.json_response(msg, status=201)

    async def post_file(self, request: web.Request) -> web.Response:
        chat_id = request.match_info["chat_id"]
        self.sim._chat(chat_id)
        if request.content_type != "multipart/form-data":
            raise SimError("send multipart/form-data with fields user and file")
        user: str | None = None
        filename: str | None = None
        data = bytearray()
        reader = await request.multipart()
        async for part in reader:
            if part.name == "user":
                user = (await part.read()).decode("utf-8", "replace").strip()
            elif part.name == "file":
                filename = part.filename or "file"
                while chunk := await part.read_chunk():
                    data.extend(chunk)
                    if len(data) > MAX_UPLOAD:
                        raise SimError("the file is over 30 MB", 413)
        if not user or filename is None:
            raise SimError("fields user and file are required")
        if not data:
            raise SimError("the file is empty")
        msg = await self.sim.upload_file(chat_id, user, filename, bytes(data))
        return web.json_response(msg, status=201)

    async def press(self, request: web.Request) -> web.Response:
        data = await _body(request)
        value = data.get("value")
        form_value = data.get("form_value")
        if not isinstance(value, dict):
            raise SimError("value must be an object")
        if form_value is not None and not isinstance(form_value, dict):
            raise SimError("form_value must be an object")
        message_id = request.match_info["message_id"]
        result = await self.sim.press(message_id, _str(data, "user") or "", value, form_value)
        return web.json_response({"response": result["response"] or {}, "message": self.sim.message(message_id),
                                  "toast": result["toast"]})

    async def scopes(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            data = await _body(request)
            for key, apply in (("grant", self.sim.scopes.add), ("revoke", self.sim.scopes.discard)):
                names = data.get(key, [])
                if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                    raise SimError(f"{key} must be a list of scope names")
                for name in names:
                    apply(name)
            if "group_msg" in data:
                if not isinstance(data["group_msg"], bool):
                    raise SimError("group_msg must be true or false")
                self.sim.group_msg = data["group_msg"]
        return web.json_response({"granted": sorted(self.sim.scopes), "group_msg": self.sim.group_msg,
                                  "subscriptions": sorted(self.sim.subscriptions)})

    async def toasts(self, request: web.Request) -> web.Response:
        user = request.query.get("user")
        rows = [{"message_id": m.message_id, **t} for m in self.sim.state.messages.values() for t in m.toasts
                if user is None or t["user"] == user]
        return web.json_response(sorted(rows, key=lambda r: r["time"]))

    async def chat_settings(self, request: web.Request) -> web.Response:
        data = await _body(request)
        chat = self.sim._chat(request.match_info["chat_id"])
        setting = data.get("urgent_setting", chat.urgent_setting)
        if setting not in ("all_members", "only_owner"):
            raise SimError("urgent_setting is all_members or only_owner")
        admin = data.get("bot_is_admin", chat.bot_is_admin)
        if not isinstance(admin, bool):
            raise SimError("bot_is_admin must be true or false")
        chat.urgent_setting, chat.bot_is_admin = setting, admin
        return web.json_response(chat_view(self.sim.state, chat))

    async def url_check(self, request: web.Request) -> web.Response:
        data = await _body(request) if request.can_read_body else {}
        url = _str(data, "url", required=False)
        info = await self.sim.url_check(url)
        return web.json_response({k: info.get(k) for k in ("ok", "status", "response", "elapsed_ms", "error",
                                                           "challenge")})

    async def message(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.message(request.match_info["message_id"]))

    async def resource(self, request: web.Request) -> web.Response:
        res = self.sim.state.resources.get(request.match_info["key"])
        if res is None:
            raise SimError("unknown resource", 404)
        return web.Response(body=res.data, content_type=res.content_type)

    async def tasks(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.tasks())

    async def requests(self, request: web.Request) -> web.Response:
        needle = request.query.get("path_contains", "")
        rows = self.sim.requests(needle)
        raw = request.query.get("limit")
        if raw is not None:
            try:
                limit = int(raw)
            except ValueError:
                raise SimError("limit must be an integer") from None
            if limit < 1:
                raise SimError("limit must be positive")
            rows = rows[-limit:]
        return web.json_response(rows)

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.sim.stats))

    async def events(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.events())

    def _clock_view(self) -> dict[str, Any]:
        clock = self.sim.clock
        now = clock.now() if clock is not None else datetime.now(timezone.utc)
        adjustable = clock is not None and bool(getattr(clock, "adjustable", True)) and hasattr(clock, "advance")
        view: dict[str, Any] = {"now": now.isoformat(timespec="milliseconds"), "adjustable": adjustable}
        if getattr(clock, "stepwise", False):
            view["jumps"] = [{"from": a.isoformat(timespec="milliseconds"), "to": b.isoformat(timespec="milliseconds")}
                             for a, b in getattr(clock, "jumps", [])]
        return view

    async def clock(self, request: web.Request) -> web.Response:
        return web.json_response(self._clock_view())

    async def advance(self, request: web.Request) -> web.Response:
        data = await _body(request)
        if not self._clock_view()["adjustable"]:
            raise SimError("this clock cannot be adjusted")
        seconds = data.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise SimError("seconds must be a number")
        if not 0 < seconds <= MAX_ADVANCE:
            raise SimError(f"seconds must be > 0 and <= {MAX_ADVANCE} (366 days)")
        try:
            await self.sim.clock.advance(seconds)
        except ValueError as exc:
            raise SimError(str(exc)) from None
        return web.json_response(self._clock_view())

    async def faults(self, request: web.Request) -> web.Response:
        if request.method == "DELETE":
            self.sim.faults.clear()
        elif request.method == "POST":
            data = await _body(request)
            try:
                self.sim.faults.add(str(data.get("kind")), path_contains=data.get("path_contains", ""),
                                    times=data.get("times", 1), seconds=data.get("seconds"))
            except ValueError as exc:
                raise SimError(str(exc)) from None
        return web.json_response(self.sim.faults.pending())

    async def expire(self, request: web.Request) -> web.Response:
        self.sim.expire_tokens()
        return web.json_response({"expired": True})


def add_routes(app: web.Application, sim: FeishuSimulator) -> None:
    i = Inspect(sim)
    r = app.router
    table: list[tuple[str, str, Route]] = [
        ("GET", "/_sim/bot", i.bot),
        ("GET", "/_sim/users", i.users),
        ("POST", "/_sim/users", i.add_user),
        ("POST", "/_sim/users/{open_id}/p2p", i.p2p),
        ("GET", "/_sim/chats", i.chats),
        ("POST", "/_sim/chats", i.add_chat),
        ("GET", "/_sim/chats/{chat_id}", i.chat),
        ("POST", "/_sim/chats/{chat_id}/bot", i.bot_in),
        ("DELETE", "/_sim/chats/{chat_id}/bot", i.bot_in),
        ("GET", "/_sim/chats/{chat_id}/messages", i.messages),
        ("POST", "/_sim/chats/{chat_id}/messages", i.post_message),
        ("POST", "/_sim/chats/{chat_id}/files", i.post_file),
        ("POST", "/_sim/cards/{message_id}/actions", i.press),
        ("GET", "/_sim/messages/{message_id}", i.message),
        ("GET", "/_sim/resources/{key}", i.resource),
        ("GET", "/_sim/tasks", i.tasks),
        ("GET", "/_sim/requests", i.requests),
        ("GET", "/_sim/stats", i.stats),
        ("GET", "/_sim/events", i.events),
        ("GET", "/_sim/clock", i.clock),
        ("POST", "/_sim/clock/advance", i.advance),
        ("GET", "/_sim/faults", i.faults),
        ("POST", "/_sim/faults", i.faults),
        ("DELETE", "/_sim/faults", i.faults),
        ("POST", "/_sim/tokens/expire", i.expire),
        ("GET", "/_sim/scopes", i.scopes),
        ("POST", "/_sim/scopes", i.scopes),
        ("GET", "/_sim/toasts", i.toasts),
        ("POST", "/_sim/chats/{chat_id}/settings", i.chat_settings),
        ("POST", "/_sim/url-check", i.url_check),
    ]
    app[SIM_KEY] = sim
    for method, path, handler in table:
        r.add_route(method, path, _guard(handler, files=handler == i.post_file))
