"""Find which live room(s) a message talks about.

A room is matched by its name ("3号直播间"), by any alias ("美妆间", "A3", "三号间"), or by
its number: the number comes from "N号" in the name or an alias, and the text may say
"3号", "三号", "3号间", "2、3号间", "room 3", "直播间3". A number that is clearly something
else is skipped: a product link ("3号链接", "2号款"), a date ("7月3号", "3号下午").
Matches are returned in order of first mention; when several rooms fit one mention (two
rooms share an alias or a number) all of them are returned, so the caller can ask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import re
import unicodedata
from typing import Sequence

from bot.numerals import CN_DIGIT_CHARS, cn_int


@dataclass(frozen=True)
class RoomRef:
    id: str
    name: str
    aliases: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "aliases", tuple(self.aliases))


_NUM = rf"(?:\d{{1,2}}|[{CN_DIGIT_CHARS}]{{1,3}})"
_SEP = r"\s*[、,，和跟与及/&]\s*"
# "3号", "2、3号", followed by anything except a product word or a time of day.
_HAO = re.compile(
    rf"(?<![\d.月])({_NUM}(?:{_SEP}{_NUM})*)\s*号"
    r"(?!\s*(?:链接|链|商品|品|款|车|线|楼|桌|上午|下午|晚上|早上|中午|凌晨|之前|以前|以后|\d+点))"
)
_ROOM_WORD = re.compile(
    r"(?:\brooms?|\bstudio|直播间)\s*#?\s*(\d{1,2}(?:\s*(?:,|&|and|、)\s*\d{1,2})*)\b"
)


def room_numbers(room: RoomRef) -> set[int]:
    """Numbers a room answers to, read from "N号" in its name and aliases."""
    numbers: set[int] = set()
    for text in (room.name, *room.aliases):
        for m in re.finditer(rf"({_NUM})\s*号", _norm(text)):
            n = cn_int(m.group(1))
            if n is not None:
                numbers.add(n)
    return numbers


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _literal(term: str) -> re.Pattern[str]:
    """A name/alias as a pattern; an ASCII letter/digit edge must not touch another one
    ("A3" does not match inside "A30", "3号间" not inside "13号间")."""
    t = _norm(term)
    before = r"(?<![a-z0-9])" if t[:1].isascii() and t[:1].isalnum() else ""
    after = r"(?![a-z0-9])" if t[-1:].isascii() and t[-1:].isalnum() else ""
    return re.compile(before + re.escape(t) + after)


def _number_mentions(text: str) -> list[tuple[int, int]]:
    """(position, number) for every room number written in the text."""
    found: list[tuple[int, int]] = []
    for pattern in (_HAO, _ROOM_WORD):
        for m in pattern.finditer(text):
            for part in re.finditer(_NUM, m.group(1)):
                n = cn_int(part.group(0))
                if n is not None:
                    found.append((m.start(1) + part.start(), n))
    return found


def find_rooms(text: str, rooms: Sequence[RoomRef]) -> list[RoomRef]:
    """Rooms mentioned in ``text``, ordered by first mention, each once."""
    t = _norm(text)
    first_seen: dict[str, int] = {}

    def note(room: RoomRef, pos: int) -> None:
        if room.id not in first_seen or pos < first_seen[room.id]:
            first_seen[room.id] = pos

    for room in rooms:
        for term in (room.name, *room.aliases):
            if not term.strip():
                continue
            m = _literal(term).search(t)
            if m:
                note(room, m.start())
    by_number: dict[int, list[RoomRef]] = {}
    for room in rooms:
        for n in room_numbers(room):
            by_number.setdefault(n, []).append(room)
    for pos, n in _number_mentions(t):
        for room in by_number.get(n, []):
            note(room, pos)
    order = {room.id: i for i, room in enumerate(rooms)}
    ids = sorted(first_seen, key=lambda rid: (first_seen[rid], order[rid]))
    by_id = {room.id: room for room in rooms}
    return [by_id[rid] for rid in ids]
