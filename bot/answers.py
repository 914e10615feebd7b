"""Card presses are answered in the callback's own HTTP response.

Feishu delivers a card callback once, synchronously, and shows the presser whatever the
response carries — a toast, or the card to put in place of the old one — if it comes within
3 seconds ("回调是同步操作，不提供补推机制"; 卡片回传交互 / card.action.trigger, 响应体:
toast + card). So the webhook stores the press (the durable inbox still owns it), waits for
this process's worker to handle it, and answers with what the router returned.

Waiters live in this process: a press handled by another replica's worker, or one that takes
longer than the wait, is answered {} (Feishu shows nothing) while its effects still land.
"""
from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("bot.answers")

CARD_ACTION = "card.action.trigger"
# Feishu waits 3 s for a callback's response; leave room for the network and the write.
ANSWER_WITHIN = 2.5

# Shown when the press could not be stored (the database is down): the card stays as it was
# and the presser knows to try again, instead of a Feishu error. Both languages: the webhook
# does not know the presser's language before the event is stored.
NOT_STORED = {"type": "warning", "content": "没记下这次点击，请稍后再按一次 · Not saved, please press again",
              "i18n": {"zh_cn": "没记下这次点击，请稍后再按一次", "en_us": "Not saved, please press again"}}


class PressAnswers:
    """event_id -> the future the webhook waits on; resolved by the worker after commit."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future] = {}

    def expect(self, event_id: str) -> asyncio.Future:
        future = self._waiting.get(event_id)
        if future is None or future.done():
            future = asyncio.get_running_loop().create_future()
            self._waiting[event_id] = future
        return future

    def resolve(self, event_id: str, answer: dict | None) -> None:
        future = self._waiting.pop(event_id, None)
        if future is not None and not future.done():
            future.set_result(answer or {})

    def forget(self, event_id: str) -> None:
        future = self._waiting.pop(event_id, None)
        if future is not None and not future.done():
            future.cancel()

    async def wait(self, event_id: str, future: asyncio.Future, within: float = ANSWER_WITHIN) -> dict:
        """The router's answer, or {} when it did not come in time (the press is still handled)."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), within)
        except asyncio.TimeoutError:
            log.warning("card press not answered within %.1f s; answered {}", within,
                        extra={"event_id": event_id})
            return {}
        finally:
            self.forget(event_id)

    def __len__(self) -> int:
        return len(self._waiting)
