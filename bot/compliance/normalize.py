"""Text normalisation for the compliance matcher, with a map back to original offsets.

What it does to each character of the input:

* NFKC folding: full-width letters, digits and punctuation become half-width
  (``ＶＸ`` -> ``VX``, ``％`` -> ``%``), circled/styled letters become plain ones.
* lower case (``VX`` -> ``vx``).
* a small traditional -> simplified table for the characters that appear in terms
  (``療效`` -> ``疗效``), one character to one character so offsets stay simple.
* ``+`` (and ``➕``, ``✚``) becomes ``加`` (so ``+V`` matches the term ``加v``).
* a heart emoji right after ``微``/``薇``/``威``/``v``/``徽`` becomes ``信`` (``微❤`` is a
  well-known spelling of 微信: ❤ reads "xin"); anywhere else a heart is just dropped.
* whitespace, punctuation, symbols and emoji *inside* a clause are dropped, so
  ``最 好``, ``最😊好``, ``最.好``, ``微-信`` all read as ``最好`` / ``微信``.
* clause breaks (line breaks, tabs, CJK full stops, commas, ``!?;``) become a single
  ``\\n`` sentinel: no term contains it, so no match can span two clauses or lines.

The result keeps, for every normalised character, the index of the original character it
came from, so a match ``[i, j)`` in the normalised text maps back to the original span
``[offsets[i], offsets[j-1] + 1)``: highlights point at what the user wrote, including any
emoji or spaces that were inserted inside the term.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
import unicodedata

BREAK = "\n"

# Characters that end a clause. Checked after NFKC, so the full-width forms
# (，；！？) arrive here as their ASCII equivalents.
_BREAK_CHARS = frozenset("\n\r\t\v\f\u2028\u2029。｡、,;!?")

# Characters kept although their Unicode category is punctuation/symbol.
_KEEP_CHARS = frozenset("%")

# Characters read as the word 加 ("add"): +V, ➕V.
_PLUS_CHARS = frozenset("+\u2795\u271a")

# Heart emoji (before NFKC and variation selectors): read as 信 after these characters.
_HEARTS = frozenset("\u2764\u2665\u2661\u2763\U0001f493\U0001f494\U0001f495\U0001f496"
                    "\U0001f497\U0001f498\U0001f499\U0001f49a\U0001f49b\U0001f49c"
                    "\U0001f49d\U0001f49e\U0001f49f\U0001f5a4\U0001f90d\U0001f90e\U0001f9e1")
_HEART_AFTER = frozenset("微薇威徽v")

# Traditional -> simplified, only characters that occur in the term list or in common
# evasions. One char to one char keeps the offset map trivial. Pairs are written as
# "traditional simplified" runs of equal length.
_TRAD = "絕對獨無極優頂級國醫療藥癒證認權專號碼聯繫係訊單賣買價銷寶鏈漲搶僅剩強質實驗體發髮膚減殺過敏癌腫壓脈腦臟腸眾團運轉靈開愛廣應當這個們來時間會說話為從還與歷紀錄風險贈後獲獎際臨牌齡兒童學網紅霸極佳雙衛護膚斑紋縮豐瘡濕腎陽補氣滅菌黴傷讓經鬆輕慮環穩賺處擔擇選優點"
_SIMP = "绝对独无极优顶级国医疗药愈证认权专号码联系系讯单卖买价销宝链涨抢仅剩强质实验体发发肤减杀过敏癌肿压脉脑脏肠众团运转灵开爱广应当这个们来时间会说话为从还与历纪录风险赠后获奖际临牌龄儿童学网红霸极佳双卫护肤斑纹缩丰疮湿肾阳补气灭菌霉伤让经松轻虑环稳赚处担择选优点"
assert len(_TRAD) == len(_SIMP)
_TRAD_MAP = {t: s for t, s in zip(_TRAD, _SIMP) if t != s}


@lru_cache(maxsize=8192)
def _fold(ch: str) -> str:
    """Normalised form of one original character: '' (dropped), BREAK, or 1+ chars."""
    if ch in _BREAK_CHARS:
        return BREAK
    ch = _TRAD_MAP.get(ch, ch)
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if c in _BREAK_CHARS:
            out.append(BREAK)
            continue
        c = c.lower()
        c = _TRAD_MAP.get(c, c)
        if c in _PLUS_CHARS:
            out.append("加")
            continue
        if c in _KEEP_CHARS:
            out.append(c)
            continue
        cat = unicodedata.category(c)
        if cat[0] in "LN":
            out.append(c)
        # everything else (Z*, P*, S*, C*, M*): spaces, punctuation, emoji, zero-width,
        # variation selectors, combining marks -> dropped
    folded = "".join(out)
    if BREAK in folded:
        return BREAK
    return folded


@dataclass(frozen=True)
class Normalized:
    """Normalised text plus, for each of its characters, the original index."""

    source: str
    text: str
    offsets: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` for the normalised ``[start, end)`` (end > start)."""
        return self.offsets[start], self.offsets[end - 1] + 1


_HEART = object()  # cache marker: a heart emoji (its reading depends on the previous character)
_CACHE: dict[str, object] = {}


def normalize(text: str) -> Normalized:
    """Normalise ``text`` keeping a map back to original offsets (see module doc)."""
    chars: list[str] = []
    offsets: list[int] = []
    cache = _CACHE
    last_break = True  # collapse runs of breaks, and drop leading ones
    for i, ch in enumerate(text):
        folded = cache.get(ch)
        if folded is None:
            folded = _HEART if ch in _HEARTS else _fold(ch)
            if len(cache) < 65536:
                cache[ch] = folded
        if folded is _HEART:
            folded = "信" if chars and chars[-1] in _HEART_AFTER else ""
        if not folded:
            continue
        if folded == BREAK:
            if last_break:
                continue
            last_break = True
            chars.append(BREAK)
            offsets.append(i)
            continue
        last_break = False
        if len(folded) == 1:  # type: ignore[arg-type]
            chars.append(folded)  # type: ignore[arg-type]
            offsets.append(i)
        else:
            for c in folded:  # type: ignore[union-attr]
                chars.append(c)
                offsets.append(i)
    return Normalized(source=text, text="".join(chars), offsets=tuple(offsets))


def normalize_term(term: str) -> str:
    """The normalised form of a term or phrase (same folding, no offsets, no breaks)."""
    return "".join(c for c in (_fold(ch) for ch in term) if c != BREAK)


def fold_char(ch: str) -> str:
    """Public single-character fold (used for boundary checks on neighbours)."""
    return _fold(ch)
