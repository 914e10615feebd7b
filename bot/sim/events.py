"""Building Feishu events and pushing them to the bot's request URL.

The envelope is schema 2.0 exactly as Feishu sends it; with an Encrypt Key the body is
``{"encrypt": ...}`` and ``X-Lark-Signature`` is computed over the exact raw body bytes.
Also here: turning what a simulated user types (``@Name``, ``<at user_id="ou_x">Name</at>``)
into Feishu's ``@_user_N`` placeholders plus ``mentions``.
"""
from __future__ import annotations

from bot.clock import wall_seconds
from dataclasses import dataclass
import json
import re
import secrets
import time
from typing import Any, Callable
import uuid

import aiohttp

from bot.feishu import crypto

from .state import MAX_LOG, append_capped, iso_ms, now_ms

_AT_TAG = re.compile(r'<at\s+(?:user_id|open_id|id)\s*=\s*"?([^"\s>]+)"?\s*>(.*?)</at>', re.S)
_WORD = re.compile(r"[A-Za-z0-9_]")


@dataclass
class Person:
    """Something that can be mentioned: a user or the bot."""

    name: str
    ids: dict[str, str]


class Mentioner:
    """Assigns @_user_1, @_user_2 ... across one message."""

    def __init__(self, tenant_key: str) -> None:
        self.tenant_key = tenant_key
        self.mentions: list[dict[str, Any]] = []

    def add(self, person: Person) -> str:
        key = f"@_user_{len(self.mentions) + 1}"
        self.mentions.append({"key": key, "id": dict(person.ids), "name": person.name,
                              "tenant_key": self.tenant_key})
        return key


def split_mentions(text: str, people: list[Person], by_id: Callable[[str], Person | None],
                   mentioner: Mentioner) -> list[tuple[str, str | None]]:
    """Split typed text into pieces: (text, None) or (placeholder key, name) per mention."""
    names = sorted(people, key=lambda p: len(p.name), reverse=True)
    pieces: list[tuple[str, str | None]] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        person: Person | None = None
        end = i
        if text.startswith("<at", i):
            m = _AT_TAG.match(text, i)
            if m:
                target, label = m.group(1), m.group(2)
                end = m.end()
                if target == "all":
                    buf.append("@_all")
                    i = end
                    continue
                person = by_id(target) or Person(label or target, {"open_id": target, "union_id": "",
                                                                   "user_id": ""})
        elif text[i] == "@":
            for p in names:
                stop = i + 1 + len(p.name)
                if p.name and text.startswith(p.name, i + 1) and not (
                        stop < len(text) and _WORD.match(text[stop]) and _WORD.match(p.name[-1])):
                    person, end = p, stop
                    break
        if person is None:
            buf.append(text[i])
            i += 1
            continue
        if buf:
            pieces.append(("".join(buf), None))
            buf = []
        pieces.append((mentioner.add(person), person.name))
        i = end
    if buf:
        pieces.append(("".join(buf), None))
    return pieces


def text_content(text: str, people: list[Person], by_id: Callable[[str], Person | None],
                 tenant_key: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    mentioner = Mentioner(tenant_key)
    pieces = split_mentions(text, people, by_id, mentioner)
    return {"text": "".join(p for p, _ in pieces)}, mentioner.mentions


def post_content(title: str, paragraphs: list[Any], people: list[Person],
                 by_id: Callable[[str], Person | None],
                 tenant_key: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Paragraphs are strings (mentions parsed) or lists of post elements; ``at`` elements with a
    real open_id become ``{"tag":"at","user_id":"@_user_N","user_name":...}`` as Feishu
    delivers them."""
    mentioner = Mentioner(tenant_key)
    content: list[list[dict[str, Any]]] = []
    for para in paragraphs:
        line: list[dict[str, Any]] = []
        if isinstance(para, str):
            for piece, name in split_mentions(para, people, by_id, mentioner):
                if name is None:
                    line.append({"tag": "text", "text": piece})
                else:
                    line.append({"tag": "at", "user_id": piece, "user_name": name})
        else:
            for el in para:
                el = dict(el)
                if el.get("tag") == "at" and not str(el.get("user_id", "")).startswith("@_"):
                    target = str(el.get("user_id", ""))
                    person = by_id(target) or Person(str(el.get("user_name") or target),
                                                     {"open_id": target, "union_id": "", "user_id": ""})
                    el = {"tag": "at", "user_id": mentioner.add(person), "user_name": person.name}
                line.append(el)
        content.append(line)
    return {"title": title, "content": content}, mentioner.mentions


class EventPusher:
    """Posts envelopes to the bot and keeps a log of every delivery."""

    def __init__(self, *, app_id: str, tenant_key: str, log: list[dict[str, Any]]) -> None:
        self.app_id = app_id
        self.tenant_key = tenant_key
        self.log = log
        self.timeout = 10.0
        self._sent: dict[str, dict[str, Any]] = {}

    def envelope(self, event_type: str, event: dict[str, Any], *, token: str | None,
                 event_id: str | None = None, create_time: str | None = None) -> dict[str, Any]:
        return {
            "schema": "2.0",
            "header": {
                "event_id": event_id or uuid.uuid4().hex,
                "event_type": event_type,
                "create_time": create_time or str(now_ms()),
                "token": token or "",
                "app_id": self.app_id,
                "tenant_key": self.tenant_key,
            },
            "event": event,
        }

    @staticmethod
    def encode(payload: dict[str, Any], encrypt_key: str | None, *,
               signed: bool = True) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Feishu would send. ``signed=False`` is the request-URL
        check: encrypted when an Encrypt Key is set, but with no X-Lark-Signature / timestamp /
        nonce headers ("Encrypt Key 加密配置示例": the signature check "不包括请求网址校验";
        lark-oapi event/dispatcher_handler.py answers url_verification before _verify_sign)."""
        text = json.dumps(payload, ensure_ascii=False)
        if encrypt_key:
            text = json.dumps({"encrypt": crypto.encrypt(encrypt_key, text)})
        body = text.encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Go-http-client/1.1"}
        if not signed:
            return body, headers
        timestamp = str(int(wall_seconds()))
        nonce = secrets.token_hex(8)
        headers["X-Lark-Request-Timestamp"] = timestamp
        headers["X-Lark-Request-Nonce"] = nonce
        if encrypt_key:
            headers["X-Lark-Signature"] = crypto.signature(timestamp, nonce, encrypt_key, body)
        return body, headers

    def envelope_for(self, event_id: str) -> dict[str, Any] | None:
        return self._sent.get(event_id)

    async def push(self, url: str | None, payload: dict[str, Any], encrypt_key: str | None,
                   *, kind: str, timeout: float | None = None, signed: bool = True) -> dict[str, Any]:
        header = payload.get("header") or {}
        event_id = header.get("event_id", "")
        if event_id:
            self._sent.pop(event_id, None)
            self._sent[event_id] = payload
            while len(self._sent) > MAX_LOG:
                self._sent.pop(next(iter(self._sent)))
        info: dict[str, Any] = {
            "event_id": event_id,
            "type": header.get("event_type") or payload.get("type") or kind,
            "time": iso_ms(now_ms()),
            "status": None,
            "response": None,
            "elapsed_ms": 0,
            "error": None,
            "payload": payload,
            "kind": kind,
        }
        if not url:
            info["error"] = "no event_url set"
            append_capped(self.log, info)
            return info
        body, headers = self.encode(payload, encrypt_key, signed=signed)
        info["headers"] = dict(headers)
        started = time.monotonic()
        try:
            limit = aiohttp.ClientTimeout(total=self.timeout if timeout is None else timeout)
            async with aiohttp.ClientSession(timeout=limit) as session:
                async with session.post(url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    info["status"] = resp.status
                    text = raw.decode("utf-8", "replace")
                    try:
                        info["response"] = json.loads(text) if text else None
                    except ValueError:
                        info["response"] = text[:2000]
        except (aiohttp.ClientError, TimeoutError) as exc:
            info["error"] = f"{type(exc).__name__}: {exc}"
        info["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
        if info["elapsed_ms"] > 3000:
            info["slow"] = True  # Feishu would have given up after 3 s and retried
        append_capped(self.log, info)
        return info
