"""Sound-alike matching: pinyin spellings and homophones of the term list's Chinese terms.

Evasions this catches (the literal trie cannot): "quan wang zui di jia", "zui hao yong",
"zui好用", "全网zui低" (pinyin, spaced or not, mixed with characters), "蕞好用", "全网醉低价"
(a character with the same sound), "加卫星下单" (a sound-alike *word* for a contact channel:
卫星 wèi xīng ≈ 微信 wēi xìn).

How: every Chinese term of two or more characters is also stored in a trie keyed by
syllables. A Chinese character's syllables are its readings (all of them: 好 hǎo/hào); a run
of ASCII letters in the normalised text becomes every way of cutting it into pinyin syllables
that uses the whole run ("quanwangzuidijia" → quan|wang|zui|di|jia; "shopping" has no cut, so
English words do not take part). Trie keys fold the front/back nasals (in≈ing, en≈eng) so one
walk finds strict and loose sound-alikes; each match is then graded unit by unit:

* literal   the term's own character;
* pinyin    typed pinyin, the exact toneless syllable;
* strict    another character with the same toned reading (醉 zuì for 最 zuì);
* loose     another character with the same toneless or nasal-folded reading (卫 wèi for 微
            wēi, 星 xīng for 信 xìn).

Which matches are kept (``grade``), so that ordinary words do not become hits:

* all literal: not a sound-alike (the literal trie has it);
* typed pinyin is always a deliberate spelling: kept (with literal/strict units alongside);
* a strict homophone in a term without a context rule must be an uncommon character (outside
  GB 2312 level 1, e.g. 蕞) or sit inside the match between the term's own characters
  (全网[醉]低价); so "国家及地方" (及 jí at the edge, common) is not 国家级, nor "递一下" 第一;
  terms with a context rule (contact words, private-deal words) take any strict homophone,
  because the rule still has to find its context;
* loose units only for the names of off-platform channels (导流/私单 terms without a
  private-deal rule), only when *no* character is the term's own (a whole sound-alike word,
  卫星 for 微信, not 快[收]藏 for 快手), and only with a contact verb touching the word
  ("加卫星", "卫星号"; the matcher's ``contact_adjacent`` rule, see ``NEEDS_CONTACT``): in
  pypinyin's 47,000 phrases put after "这个" and before "，加购物车下单", this leaves only the
  strict homophones and 卫星-like words that a contact verb touches;
* at least one unit must be literal or typed pinyin unless the term has a context rule or the
  match is a loose channel name.

Readings come from pypinyin's character table (MIT; ~42,000 characters with every reading).
Only its JSON data file is read, not the package: importing pypinyin also loads its phrase
dictionary and word segmenter (~60 MB resident), which this does not need.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
import itertools
import json
from pathlib import Path
import re
import unicodedata

LITERAL, PINYIN, STRICT, LOOSE = "literal", "pinyin", "strict", "loose"
NEEDS_CONTACT = "contact"      # grade result: keep only with a strict contact context
GATING_RULES = frozenset({"contact", "contact_strict", "private", "lure", "private_cash"})
DEAL_RULES = frozenset({"private", "lure", "private_cash"})  # verbs of a deal, not channel names
CHANNEL_CATEGORY = "导流/私单"
MAX_SYLLABLE = 6               # zhuang, chuang, shuang
MAX_PATHS = 4                  # trie paths per term (heteronyms multiply them); main readings first
_END = "\x00e"


# --------------------------------------------------------------------------- readings

def _data_file() -> Path | None:
    spec = find_spec("pypinyin")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "pinyin_dict.json"
    return path if path.exists() else None


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    """Code point (decimal, as a string: the file's own keys, kept to save a second copy) →
    the character's readings as pypinyin writes them ("zuì,jué,zhuó")."""
    path = _data_file()
    if path is not None:
        return json.loads(path.read_text(encoding="utf-8"))
    from pypinyin.pinyin_dict import pinyin_dict  # the data file moved: take the whole library

    return {str(k): v for k, v in pinyin_dict.items()}


def available() -> bool:
    try:
        return bool(_table())
    except (ImportError, OSError, ValueError):
        return False


def _toneless(reading: str) -> str:
    out: list[str] = []
    for c in unicodedata.normalize("NFD", reading.lower()):
        if c == "\u0308":          # ü → v, as it is typed
            out[-1:] = ["v"]
        elif not unicodedata.combining(c):
            out.append(c)
    return "".join(out).replace("ê", "e")


def fold(syllable: str) -> str:
    """The trie key: front and back nasals merged (xing → xin, sheng → shen)."""
    if syllable.endswith(("ing", "eng")):
        return syllable[:-1]
    return syllable


@dataclass(frozen=True)
class Readings:
    toned: frozenset[str]
    plain: frozenset[str]
    keys: tuple[str, ...]
    main: str = ""                 # the first (most used) reading, toned
    main_keys: tuple[str, ...] = ()


_NONE = Readings(frozenset(), frozenset(), ())


@lru_cache(maxsize=16384)
def readings(ch: str) -> Readings:
    raw = _table().get(str(ord(ch))) if len(ch) == 1 else None
    if not raw:
        return _NONE
    listed = [unicodedata.normalize("NFC", r.strip().lower()) for r in raw.split(",") if r.strip()]
    toned = frozenset(listed)
    plain = frozenset(p for p in (_toneless(r) for r in toned) if _is_syllable_shape(p))
    main = listed[0] if listed else ""
    main_plain = _toneless(main)
    main_keys = (fold(main_plain),) if _is_syllable_shape(main_plain) else ()
    return Readings(toned, plain, tuple(sorted({fold(p) for p in plain})), main, main_keys)


def _is_syllable_shape(p: str) -> bool:
    return p.isascii() and p.isalpha() and any(v in p for v in "aeiouv")


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless syllable with a vowel (hm, ng, m are left out: they would let English
    words be read as pinyin)."""
    out: set[str] = set()
    for raw in _table().values():
        for r in raw.split(","):
            p = _toneless(r.strip())
            if _is_syllable_shape(p):
                out.add(p)
    return frozenset(out)


def common(ch: str) -> bool:
    """In GB 2312 level 1 (the 3,755 most used characters)."""
    try:
        b = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0xB0 <= b[0] <= 0xD7


# --------------------------------------------------------------------------- index

@dataclass(frozen=True)
class Match:
    start: int
    end: int
    payload: object          # what the caller stored with the term
    units: tuple[str, ...]   # LITERAL / PINYIN / STRICT / LOOSE per term character
    positions: tuple[int, ...]  # where each unit starts in the text
    reading: str             # the term text the match stands for


class Index:
    """The Chinese terms given to ``add``, by sound.

    Characters only: each term is stored under its *main-reading key string* (one code
    character per syllable, see ``_codes``), and the text is translated the same way in one
    ``str.translate``; one set lookup per position (the first two codes of some term) finds
    the few positions where a term's sound starts. Only there does Python look closer.
    Typed pinyin (a run of ASCII letters) cannot be aligned that way: near such runs a
    syllable trie over every reading is walked instead."""

    def __init__(self) -> None:
        self._root: dict = {}
        self._chars: set[str] = set()
        self._by_keys: dict[str, list[tuple[str, object]]] = {}
        self._lengths: set[int] = set()
        self._pairs: dict[str, list[int]] = {}  # first two codes of a term → term lengths
        self._key_cache: dict[str, tuple[str, ...]] = {}
        self.size = 0

    def add(self, chars: str, payload: object) -> bool:
        """Store a term (normalised text); False when it is not all Chinese characters with
        known readings or shorter than two characters."""
        if len(chars) < 2:
            return False
        if not all(readings(c).main_keys for c in chars):
            return False
        per_char = [readings(c).main_keys + tuple(k for k in readings(c).keys if k not in readings(c).main_keys)
                    for c in chars]
        self._chars.update(chars)
        self._key_cache.clear()
        for path in itertools.islice(itertools.product(*per_char), MAX_PATHS):
            node = self._root
            for key in path:
                node = node.setdefault(key, {})
            node.setdefault(_END, []).append((chars, payload))
        code = chars.translate(_codes())
        self._by_keys.setdefault(code, []).append((chars, payload))
        sizes = self._pairs.setdefault(code[:2], [])
        if len(code) not in sizes:
            sizes.append(len(code))
            sizes.sort()
        self._lengths.add(len(chars))
        self.size += 1
        return True

    def matches(self, text: str) -> list[Match]:
        """Every sound-alike occurrence in ``text`` (normalised), literal ones left out."""
        if not self._by_keys:
            return []
        out: list[Match] = []
        keyed = text.translate(_codes())
        by_keys, pairs = self._by_keys, self._pairs
        n = len(text)
        for i in [i for i in range(n - 1) if keyed[i:i + 2] in pairs]:
            for size in pairs[keyed[i:i + 2]]:
                if i + size > n:
                    break
                found = by_keys.get(keyed[i:i + size])
                if not found:
                    continue
                span = text[i:i + size]
                for chars, payload in found:
                    if span == chars:
                        continue  # the term itself: the literal trie has it
                    units = tuple(range(i, i + size))
                    graded = _grade(text, chars, units, None)
                    if graded is not None:
                        out.append(Match(i, i + size, payload, graded, units, chars))
        edges = _ascii_edges(text)
        if edges:
            out.extend(self._pinyin_matches(text, edges))
        return out

    def _pinyin_matches(self, text: str, edges: dict) -> list[Match]:
        """Matches with at least one typed syllable: walk the syllable trie from the positions
        a term could start at to reach one of the letter runs."""
        cache = self._key_cache
        longest = max(self._lengths)
        starts: set[int] = set()
        runs = sorted(edges)
        for p in runs:
            starts.update(range(max(0, p - longest + 1), p + 1))
        root, end, n = self._root, _END, len(text)
        out: list[Match] = []
        for i in sorted(starts):
            stack: list = []
            if i in edges:
                stack.extend((root[k], j, (i,), (syl,)) for j, k, syl in edges[i] if k in root)
            else:
                keys = cache.get(text[i])
                if keys is None:
                    keys = cache[text[i]] = self._keys_of(text[i])
                stack.extend((root[k], i + 1, (i,), (None,)) for k in keys if k in root)
            while stack:
                node, pos, units, syls = stack.pop()
                for chars, payload in node.get(end, ()):
                    if any(syls):
                        graded = _grade(text, chars, units, syls)
                        if graded is not None:
                            out.append(Match(i, pos, payload, graded, units, chars))
                if pos >= n:
                    continue
                if pos in edges:
                    for j, k, syl in edges[pos]:
                        nxt = node.get(k)
                        if nxt is not None:
                            stack.append((nxt, j, units + (pos,), syls + (syl,)))
                    continue
                keys = cache.get(text[pos])
                if keys is None:
                    keys = cache[text[pos]] = self._keys_of(text[pos])
                for k in keys:
                    nxt = node.get(k)
                    if nxt is not None:
                        stack.append((nxt, pos + 1, units + (pos,), syls + (None,)))
        return out

    def _keys_of(self, ch: str) -> tuple[str, ...]:
        """A term's own character may be read any of its ways (it stands for itself); any
        other character only by its main reading, so a rare classical reading (有 wěi) does
        not turn 家有 into 加微."""
        if ch in self._chars:
            return readings(ch).keys
        return _main_keys(ch)


@lru_cache(maxsize=1)
def _codes() -> dict[int, str]:
    """``str.translate`` table: each Chinese character → one private-use code character for
    the nasal-folded key of its main reading (characters of one sound share a code)."""
    ids: dict[str, str] = {}
    table: dict[int, str] = {}
    for point, raw in _table().items():
        code_point = int(point)
        if not (0x3400 <= code_point <= 0x9FFF):  # CJK and extension A: what scripts are written in
            continue
        main = _toneless(raw.split(",", 1)[0].strip())
        if _is_syllable_shape(main):
            key = fold(main)
            code = ids.get(key)
            if code is None:
                code = ids[key] = chr(0xF0000 + len(ids))
            table[code_point] = code
    return table


@lru_cache(maxsize=16384)
def _main_keys(ch: str) -> tuple[str, ...]:
    if "\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0002ffff":
        return readings(ch).main_keys
    return ()


def _ascii_edges(text: str) -> dict[int, list[tuple[int, str, str]]]:
    """For each run of ASCII letters that can be cut whole into pinyin syllables: the
    syllable edges on some complete cut, by start position."""
    edges: dict[int, list[tuple[int, str, str]]] = {}
    for run in _LETTERS.finditer(text):
        _cut(text, run.start(), run.end(), syllables(), edges)
    return edges


_LETTERS = re.compile(r"[a-z]{2,}")


def _cut(text: str, a: int, b: int, valid: frozenset[str], edges: dict) -> None:
    size = b - a
    fwd = [False] * (size + 1)
    fwd[0] = True
    for p in range(size):
        if fwd[p]:
            for k in range(1, MAX_SYLLABLE + 1):
                if p + k <= size and text[a + p:a + p + k] in valid:
                    fwd[p + k] = True
    if not fwd[size]:
        return
    bwd = [False] * (size + 1)
    bwd[size] = True
    for p in range(size - 1, -1, -1):
        for k in range(1, MAX_SYLLABLE + 1):
            if p + k <= size and bwd[p + k] and text[a + p:a + p + k] in valid:
                bwd[p] = True
                break
    for p in range(size):
        if not (fwd[p] and bwd[p]):
            continue
        for k in range(1, MAX_SYLLABLE + 1):
            q = p + k
            if q <= size and bwd[q]:
                syl = text[a + p:a + q]
                if syl in valid:
                    edges.setdefault(a + p, []).append((a + q, fold(syl), syl))


def _grade(text: str, chars: str, units: tuple[int, ...], syls: tuple | None) -> tuple[str, ...] | None:
    """Each unit's kind, or None when a unit only sounds alike by a reading that is not the
    characters' main one, or a typed syllable is not one of the term character's readings.
    Whether the match is kept is ``accept``'s decision."""
    kinds: list[str] = []
    for idx, (pos, want) in enumerate(zip(units, chars)):
        syl = syls[idx] if syls is not None else None
        if syl is not None:                      # typed pinyin
            if syl not in readings(want).plain:
                return None
            kinds.append(PINYIN)
            continue
        got = text[pos]
        if got == want:
            kinds.append(LITERAL)
        else:
            # both by their main reading: a rare one (有 wěi, 信 shēn) would let 家有 read
            # as 加微 and 为什 as 微信
            have, need = readings(got), readings(want)
            if have.main == need.main:
                kinds.append(STRICT)
            elif have.main_keys and have.main_keys == need.main_keys:
                kinds.append(LOOSE)
            else:
                return None
    if all(k == LITERAL for k in kinds):
        return None
    return tuple(kinds)


def accept(m: Match, text: str, category: str, rules: list[str]) -> str | None:
    """"keep", NEEDS_CONTACT (keep only with a strict contact context) or None (drop); see
    the module doc for the reasons."""
    kinds = m.units
    gated = bool(GATING_RULES.intersection(rules))
    if LOOSE in kinds:
        if category != CHANNEL_CATEGORY or DEAL_RULES.intersection(rules) or LITERAL in kinds or PINYIN in kinds:
            return None
        return NEEDS_CONTACT
    if not gated:
        last = len(kinds) - 1
        for k, kind in enumerate(kinds):
            if kind == STRICT and common(text[m.positions[k]]) and not (0 < k < last):
                return None
        if not any(kind in (LITERAL, PINYIN) for kind in kinds):
            return None
    return "keep"
