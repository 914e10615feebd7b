"""Decide whether a free-text @mention reports an equipment or platform fault.

Pure rules, no model. A message is normalised (NFKC, lower case, @mentions and image
markers removed, common IME typos fixed), "healthy" phrases such as 推流没断 / 声音正常 are
masked, and then evidence is collected per category:

* a *specific* phrase is a symptom that names its category on its own (断流, 掉帧, 限流,
  没声音, 虚焦, 挂错 …), each with a weight;
* a *generic* symptom (坏了, 断了, 黑屏, 没反应, crash, not working …) counts only when an
  equipment *object* (摄像头, 补光灯, OBS, 麦克风 …) stands near it; it is credited to the
  nearest object, preferring one that comes before it, within ``PAIR_WINDOW`` characters.
  Some symptoms only fit some objects (a stream does not "crash", software does; "设置成"
  only describes a listing). A weak object (画面) loses to a strong one a few characters
  further, and a bare room ("1号间断了") counts as the stream only when nothing else is near.
  A word that is an object of two categories (链接: price_stock and listing) goes to the one
  the symptom prefers (打不开 → listing, 错了 → price_stock); an object inside a symptom
  (信号 in 没信号) is not a second object;
* a specific screen or setting phrase (黑屏, 设置错) said next to a device of another
  category yields to it: "采集卡没信号 黑屏" is a capture-card fault, not a stream outage.

The tables are in bot.faults.vocab, the categories in bot.faults.categories.

The category with the highest score wins (ties: the one mentioned first). It is a fault
when that score reaches ``FAULT_THRESHOLD`` and no *gate* applies. Gates, in order:

1. command   – the message starts with a bot command word written without the slash
               (帮助, 排期 本周, 复盘 …);
2. hypothetical – 如果 / 万一 / 避免 / in case …;
3. past      – 昨天 / 上次 / 上周 / yesterday … with no present marker (又, 还, 现在, 今天,
               刚才, again, still, now): a question or remark about a past fault is not a
               new fault;
4. question  – an information question (几点, 谁, 哪, 多少, 怎么设置, what time …) or a
               yes/no question (…吗, …了没, ending in ?) – except the complaint form
               (怎么/为什么 + symptom: "怎么没声音了"), the suspicion form (是不是被限流了)
               and the help form (OBS崩了怎么办), which are reports;
5. resolved  – a recovery marker (恢复了, 已经好了, 正常了, fixed …) with no symptom after it;
6. negation  – only masked healthy phrases remain (推流没断, 网络不卡了, 没有违规).

A message that is no fault but was not ruled out either (no gate, no healthy phrase: the
symptom is missing or too weak) is ``unsure``; with a room or an object named (``objects``)
the bot asks whether it is a fault (bot.commands.fault) instead of saying it did not understand.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Callable
import unicodedata

from bot.i18n import Msg, msg

from .categories import (  # noqa: F401 - re-exported: bot.faults.classify is where callers look
    CATEGORY_LABELS,
    DEFAULT_SEVERITY,
    Category,
    Severity,
    category_label,
    raise_severity,
)
from .vocab import (  # noqa: F401 - the tables, re-exported for tests and tools
    COMPLAINT,
    FAULT_THRESHOLD,
    FOLLOW_PENALTY,
    GENERIC_SYMPTOMS,
    GENERIC_WEIGHT,
    HEALTHY,
    HELP,
    HYPOTHETICAL,
    INFO_QUESTION,
    OBJECTS,
    PAIR_WINDOW,
    PAST,
    PRESENT,
    RECURRENCE,
    RESOLVED,
    SPECIFIC,
    SUSPICION,
    TYPOS,
    WEAK_PENALTY,
    YESNO_QUESTION,
    YIELDING,
    Rules,
)


@dataclass(frozen=True)
class Classification:
    """The verdict on one message.

    ``confidence`` (0..1) is confidence in the verdict itself: for a fault it grows with the
    winning score and shrinks when another category scored close; for a non-fault it is
    0.9 with no symptom at all, 0.8–0.85 when a gate or a negation overrode a symptom, and
    lower when a symptom was seen but too weak. ``category`` and ``severity`` are None for
    non-faults; ``why`` (判定依据, i18n texts: read them with ``.text(locale)``; ``reasons``
    is their Chinese reading) and ``keywords`` are filled either way.
    ``scores`` maps each category with evidence to its score, for debugging.
    """

    is_fault: bool
    category: Category | None
    confidence: float
    severity: Severity | None
    why: list[Msg] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    has_image: bool = False
    # Not a fault, and nothing said it is not one (no gate, no healthy phrase): the symptom
    # is missing or too weak. ``guess`` is the category with the most evidence, if any;
    # ``objects`` the equipment and live-stream words named (小黄车, 评论区, 直播间 …).
    unsure: bool = False
    guess: Category | None = None
    objects: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return category_label(self.category) if self.category else ""

    @property
    def reasons(self) -> list[str]:
        return self.reasons_in("zh_CN")

    def reasons_in(self, locale: str | None) -> list[str]:
        return [m.text(locale) for m in self.why]


# ---------------------------------------------------------------- normalisation

_MENTION = re.compile(r"@_user_\d+|@[a-z][\w\-]*")
_IMAGE = re.compile(r"\[(?:image|图片|img|photo|截图)\]")


def normalise(text: str) -> tuple[str, bool]:
    """Return the text ready for matching and whether an image marker was present."""
    t = unicodedata.normalize("NFKC", text).lower()
    has_image = bool(_IMAGE.search(t))
    t = _IMAGE.sub(" ", t)
    t = _MENTION.sub(" ", t)
    for wrong, right in TYPOS.items():
        t = t.replace(wrong, right)
    t = re.sub(r"\s+", " ", t).strip()
    return t, has_image


# ---------------------------------------------------------------- matching

@dataclass(frozen=True)
class _Hit:
    category: Category
    start: int
    end: int
    weight: float
    words: tuple[str, ...]
    fallback: bool = False
    symptom: tuple[int, int] | None = None  # a pair's symptom span


def _compile(rules: Rules) -> list[tuple[re.Pattern[str], float]]:
    return [(re.compile(p), w) for p, w in rules]


# A bare room ("1号间断了", "room 3 is down") is the stream itself, but only when no
# equipment object is near the symptom.
_ROOM_OBJECT = re.compile(r"(?<=[\d一二三四五六七八九十])\s*号间|\broom\s*\d{1,2}\b")
ROOM_STRENGTH = 0.8

_SPECIFIC = {c: _compile(r) for c, r in SPECIFIC.items()}
_OBJECTS = {c: _compile(r) for c, r in OBJECTS.items()}
_GENERIC = [(re.compile(s.pattern), s.only, s.never, s.prefer) for s in GENERIC_SYMPTOMS]
_YIELDING = re.compile(YIELDING)
_HEALTHY = [re.compile(p) for p in HEALTHY]
_RESOLVED = [re.compile(p) for p in RESOLVED]


def _mask(text: str) -> tuple[str, list[str]]:
    """Blank out healthy phrases (keeping offsets) and return what was blanked."""
    found: list[str] = []
    chars = list(text)
    for pattern in _HEALTHY:
        for m in pattern.finditer(text):
            found.append(m.group(0))
            for i in range(m.start(), m.end()):
                chars[i] = "\u3000"
    return "".join(chars), found


def _symptom_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for pattern, *_ in _GENERIC for m in pattern.finditer(text)]


def _objects(text: str) -> list[_Hit]:
    """All object mentions. An object inside a longer one is dropped (直播伴侣 ⊃ 直播), and so is
    one inside a symptom (信号 in 没信号: the symptom, not a second thing that broke); a word
    that is an object of several categories (链接) is kept once per category."""
    symptoms = _symptom_spans(text)
    raw: list[_Hit] = []
    for cat, rules in _OBJECTS.items():
        for pattern, strength in rules:
            for m in pattern.finditer(text):
                raw.append(_Hit(cat, m.start(), m.end(), strength, (m.group(0),)))
    for m in _ROOM_OBJECT.finditer(text):
        raw.append(_Hit(Category.STREAM_DOWN, m.start(), m.end(), ROOM_STRENGTH, (m.group(0),), True))
    raw.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[_Hit] = []
    for hit in raw:
        if any(a <= hit.start and hit.end <= b and (a, b) != (hit.start, hit.end) for a, b in symptoms):
            continue
        same_span = [k for k in kept if (k.start, k.end) == (hit.start, hit.end)]
        if same_span:
            if all(k.category != hit.category for k in same_span):
                kept.append(hit)
            continue
        if any(hit.start < k.end and k.start < hit.end for k in kept):
            continue
        kept.append(hit)
    return kept


def _specific(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for cat, rules in _SPECIFIC.items():
        for pattern, weight in rules:
            m = pattern.search(text)
            if m:
                hits.append(_Hit(cat, m.start(), m.end(), weight, (m.group(0),)))
    return hits


def _pairs(text: str, objects: list[_Hit]) -> list[_Hit]:
    hits: list[_Hit] = []
    seen: set[tuple[Category, str, str]] = set()
    for pattern, only, never, prefer in _GENERIC:
        for m in pattern.finditer(text):
            best: tuple[tuple[float, int], _Hit] | None = None
            for obj in objects:
                if obj.category in never or (only is not None and obj.category not in only):
                    continue
                if obj.end <= m.start():
                    distance = m.start() - obj.end
                elif obj.start >= m.end():
                    distance = obj.start - m.end() + FOLLOW_PENALTY
                else:
                    continue
                if distance > PAIR_WINDOW:
                    continue
                # a weak object (画面, a room) loses to a strong one a few characters further
                distance += WEAK_PENALTY * (1.0 - obj.weight)
                if obj.fallback:
                    distance += PAIR_WINDOW
                key = (distance, 0 if obj.category in prefer else 1)
                if best is None or key < best[0]:
                    best = (key, obj)
            if best is None:
                continue
            obj = best[1]
            key = (obj.category, obj.words[0], m.group(0))
            if key in seen:
                continue
            seen.add(key)
            hits.append(
                _Hit(
                    obj.category,
                    min(obj.start, m.start()),
                    max(obj.end, m.end()),
                    GENERIC_WEIGHT * obj.weight,
                    (obj.words[0], m.group(0)),
                    symptom=m.span(),
                )
            )
    return hits


def _yield(specific: list[_Hit], pairs: list[_Hit]) -> list[_Hit]:
    """Drop a screen symptom (黑屏) credited to the stream when the same words were said of a
    device of another category ("采集卡没信号 黑屏" is the capture card's)."""
    out = []
    for hit in specific:
        if _YIELDING.fullmatch(hit.words[0]) and any(
            p.symptom and p.symptom[0] < hit.end and hit.start < p.symptom[1] and p.category != hit.category
            for p in pairs
        ):
            continue
        out.append(hit)
    return out


def _scores(hits: list[_Hit]) -> dict[Category, float]:
    scores: dict[Category, float] = {}
    for hit in hits:
        scores[hit.category] = scores.get(hit.category, 0.0) + hit.weight
    return scores


def _first_position(hits: list[_Hit], category: Category) -> int:
    return min(h.start for h in hits if h.category == category)


def _labels(category: Category) -> dict[str, str]:
    return {locale: category_label(category, locale) for locale in CATEGORY_LABELS}


def _quoted(words: list[str]) -> dict[str, str]:
    return {"zh_CN": "".join(f"「{w}」" for w in words), "en_US": ", ".join(f"“{w}”" for w in words)}


def _keyword_reason(hits: list[_Hit], category: Category, verdict: bool) -> Msg:
    words: list[str] = []
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.category != category:
            continue
        for w in hit.words:
            w = w.strip()
            if w and w not in words:
                words.append(w)
    return msg("faults.why.keywords" if verdict else "faults.why.mentions", words=_quoted(words),
               category=_labels(category))


def written_as_command(text: str) -> bool:
    """The command registry's view (bot.commands.registry): "排期 本周" is a command written
    without the slash; "room 2 stream just went down" is not, although "room" is a command's
    name, because the rest does not parse as that command."""
    from bot.commands.registry import REGISTRY

    return REGISTRY.parses_as_command(text)


def asks(cls: Classification, rooms: list[str] | tuple[str, ...] = ()) -> bool:
    """Whether to ask "这是故障吗？": not a fault, nothing rules it out (``unsure``), and it names
    a room (``rooms``, found by the caller from the team's rooms) or a live-stream term."""
    return not cls.is_fault and cls.unsure and bool(rooms or cls.objects)


def reads_as_fault(text: str) -> bool:
    """For a command's ``accepts``: "@LiveOps 检查 the mic in room 1, no sound" is a fault report."""
    return classify(text).is_fault


def _gate(text: str, hits: list[_Hit], is_command: Callable[[str], bool]) -> Msg | None:
    """The reason this message is not a new fault report, or None."""
    if is_command(text):
        return msg("faults.why.command")
    if m := re.search(HYPOTHETICAL, text):
        return msg("faults.why.hypothetical", text=m.group(0))
    past = re.search(PAST, text)
    if past and not re.search(PRESENT, text):
        return msg("faults.why.past", text=past.group(0))
    info = re.search(INFO_QUESTION, text)
    if info:
        return msg("faults.why.info_question", text=info.group(0).strip())
    yesno = re.search(YESNO_QUESTION, text)
    if yesno and not (
        re.search(COMPLAINT, text) or re.search(SUSPICION, text) or re.search(HELP, text)
    ):
        return msg("faults.why.yes_no")
    last_resolved = -1
    resolved_word = ""
    for pattern in _RESOLVED:
        for m in pattern.finditer(text):
            if m.end() > last_resolved:
                last_resolved, resolved_word = m.end(), m.group(0)
    if last_resolved >= 0:
        later = [h for h in hits if h.start >= last_resolved]
        if not later and not re.search(RECURRENCE, text[last_resolved:]):
            return msg("faults.why.resolved", text=resolved_word)
    return None


def classify(text: str, *, is_command: Callable[[str], bool] | None = None) -> Classification:
    """Classify one @mention. Same text, same answer (for the same declared commands: whether
    it is a command written without the slash is the registry's call, ``written_as_command``)."""
    norm, has_image = normalise(text)
    masked, healthy = _mask(norm)
    objects = _objects(masked)
    pairs = _pairs(masked, objects)
    hits = _yield(_specific(masked), pairs) + pairs
    named = tuple(dict.fromkeys(o.words[0].strip() for o in objects if not o.fallback and o.words[0].strip()))
    scores = _scores(hits)
    score_view = {str(c): round(s, 2) for c, s in sorted(scores.items(), key=lambda kv: -kv[1])}
    keywords: list[str] = []
    for hit in sorted(hits, key=lambda h: h.start):
        for w in hit.words:
            if w.strip() and w.strip() not in keywords:
                keywords.append(w.strip())

    best: Category | None = None
    if scores:
        best = max(scores, key=lambda c: (scores[c], -_first_position(hits, c)))
    best_score = scores[best] if best else 0.0

    gate = _gate(norm, hits, is_command or written_as_command)
    verdict = gate is None and best is not None and best_score >= FAULT_THRESHOLD
    reasons: list[Msg] = []
    if best is not None:
        reasons.append(_keyword_reason(hits, best, verdict))
    extra = dict(guess=best, objects=named)
    if gate:
        reasons.append(gate)
        return Classification(False, None, 0.8 if best else 0.9, None, reasons, keywords, score_view, has_image,
                              **extra)
    if best is None or best_score < FAULT_THRESHOLD:
        if healthy:
            reasons.append(msg("faults.why.healthy", words=_quoted(list(healthy))))
            return Classification(False, None, 0.85, None, reasons, keywords, score_view, has_image, **extra)
        if best is None:
            reasons.append(msg("faults.why.no_symptom"))
            return Classification(False, None, 0.9, None, reasons, keywords, score_view, has_image, True, **extra)
        reasons.append(msg("faults.why.weak", score=f"{best_score:.1f}", threshold=f"{FAULT_THRESHOLD:.1f}"))
        confidence = round(1.0 - best_score / (2 * FAULT_THRESHOLD), 2)
        return Classification(False, None, confidence, None, reasons, keywords, score_view, has_image, True,
                              **extra)

    runner_up = max((s for c, s in scores.items() if c != best), default=0.0)
    margin = best_score / (best_score + runner_up)
    confidence = round(min(0.97, 0.35 + 0.6 * (best_score / (best_score + 2.0)) * margin), 2)
    if runner_up:
        second = max((c for c in scores if c != best), key=lambda c: scores[c])
        reasons.append(msg("faults.why.runner_up", category=_labels(second), score=f"{runner_up:.1f}",
                           best=f"{best_score:.1f}"))
    if has_image:
        reasons.append(msg("faults.why.image"))
    return Classification(
        True, best, confidence, DEFAULT_SEVERITY[best], reasons, keywords, score_view, has_image, **extra
    )
