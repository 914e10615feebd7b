"""Fault injection for the simulated Open API.

``sim.faults.add(kind, path_contains="", times=1, seconds=None)`` makes the next ``times``
Open API calls whose path contains ``path_contains`` fail in one way (checked before the token,
so it also hits the token endpoint when the pattern matches it):

- ``"5xx"``: HTTP 502 with an HTML body (the SDK raises a JSON error on it)
- ``"timeout"``: hold the request ``seconds`` (default ``timeout_seconds``), then HTTP 504 HTML
- ``"nonjson"``: HTTP 200 with a text/html body
- ``"429"``: HTTP 429, code 99991400, x-ogw-ratelimit-limit / x-ogw-ratelimit-reset headers
- ``"230020"``: HTTP 400, code 230020 (per-chat rate limit)
- ``"token_expired"``: HTTP 400, code 99991663 (the token itself stays valid)
- ``"permanent"``: HTTP 400, code 230002 (bot not in the chat)
- ``"lost_answer"``: the call IS carried out, then the answer is lost (HTTP 504 HTML), as when
  a timeout hits after Feishu did the work: the retry must not do it twice (idempotency keys)
- temporary codes Feishu answers while something is in progress (issue 13 / platform notes;
  their msg texts are not in the docs corpus, so the texts here are descriptive):
  ``"230049"`` (the message is still being sent), ``"232068"`` (the group is still being
  created), ``"232019"`` (the chat's own rate limit), ``"1470422"`` (Tasks v2: a concurrent
  call with the same client_token, larksuite/cli shortcuts/task ErrCodeTaskConflict), all
  HTTP 400; ``"99991400"`` is the same as ``"429"``.
- a code from ``CODES`` (``"230031"``, ``"230049"`` ...): HTTP 400 with that code and Feishu's message
"""
from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
import json

from aiohttp import web

# Feishu's answers by code (bot.feishu.codes has their sources). The temporary ones are what
# Feishu answers while something is in progress (issue 13 / platform notes; their msg texts are
# not in the docs corpus, so the texts are descriptive): 230049 (the message is still being
# sent), 232068 (the group is still being created), 232019 (the chat's own rate limit), 1470422
# (Tasks v2: a concurrent call with the same client_token, larksuite/cli ErrCodeTaskConflict).
CODES: dict[str, str] = {
    "230031": "The message is too old to update (cards can be updated within 14 days).",
    "230001": "invalid param: no target user is in the chat",
    "230052": "Only the group owner and admins can send urgent messages in this group.",
    "230049": "The message is being sent, please retry later.",
    "232068": "The chat is being created, please retry later.",
    "232019": "The request has triggered the chat's frequency limit, please retry later.",
    "1470422": "Concurrent calls with the same client_token conflict, please retry later.",
}
TEMPORARY = {k: CODES[k] for k in ("230049", "232068", "232019", "1470422")}
KINDS = ("5xx", "timeout", "nonjson", "429", "99991400", "230020", "token_expired", "permanent", "lost_answer", *CODES)


@dataclass
class Fault:
    kind: str
    path_contains: str
    remaining: int
    seconds: float | None = None
    hits: int = 0


def _json(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps({"code": code, "msg": msg}, ensure_ascii=False)
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


class FaultInjector:
    def __init__(self) -> None:
        self.timeout_seconds = 5.0
        self._faults: list[Fault] = []
        self.injected = 0

    def add(self, kind: str, *, path_contains: str = "", times: int = 1,
            seconds: float | None = None) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if not isinstance(path_contains, str):
            raise ValueError("path_contains must be a string")
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError("times must be a positive integer")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or not 0 <= seconds <= 600):
            raise ValueError("seconds must be a number between 0 and 600")
        fault = Fault(kind, path_contains, times, None if seconds is None else float(seconds))
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[dict[str, object]]:
        return [asdict(f) for f in self._faults]

    def take(self, path: str) -> Fault | None:
        """The first armed fault matching this path, used up by one call."""
        for fault in self._faults:
            if fault.path_contains in path:
                fault.remaining -= 1
                fault.hits += 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                self.injected += 1
                return fault
        return None

    async def respond(self, fault: Fault) -> web.Response:
        kind = fault.kind
        if kind == "5xx":
            return web.Response(status=502, content_type="text/html",
                                text="<html><body><h1>502 Bad Gateway</h1></body></html>")
        if kind == "lost_answer":
            return web.Response(status=504, content_type="text/html",
                                text="<html><body><h1>504 Gateway Time-out</h1></body></html>")
        if kind == "timeout":
            await asyncio.sleep(self.timeout_seconds if fault.seconds is None else fault.seconds)
            return web.Response(status=504, content_type="text/html",
                                text="<html><body><h1>504 Gateway Time-out</h1></body></html>")
        if kind == "nonjson":
            return web.Response(status=200, content_type="text/html",
                                text="<html><body>maintenance</body></html>")
        if kind in TEMPORARY:
            return _json(400, int(kind), TEMPORARY[kind])
        if kind in ("429", "99991400"):
            return _json(429, 99991400, "request trigger frequency limit",
                         {"x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": "1"})
        if kind == "230020":
            return _json(400, 230020, "ratelimit triggered")
        if kind == "token_expired":
            return _json(400, 99991663, "Invalid access token for authorization. "
                                        "Please make a request with token attached.")
        if kind in CODES:
            return _json(400, int(kind), CODES[kind])
        return _json(400, 230002, "Bot/User can NOT be out of the chat.")
