"""Spoken promotion in a transcript (speech.ad), per config/speech_ads.yaml.

Three kinds of cue: listed phrases (strong alone, or weak: counted only next to a cue of
another group); contact patterns (phone numbers, URLs); and the general rule, a call to
action (拨打, 添加, 关注, 扫描 ...) near a channel (热线, 微信, 直播间 ...) or near a digit run
shaped like a contact number, or a channel near such a number. A small ASR model mishears
(扫码关注 -> 骚骂观众, 拨打 -> 播打, 咨询 -> 资讯), so a word marked `sound` also matches where the
transcript *sounds* the same: both sides become toneless pinyin, accent near-homophones
folded (zh~z, ing~in ...). Words in their ordinary sense (联系上下文, 扫码支付) are no cue.
A finding covers the sentences holding its cues, timed in proportion within a segment.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from pypinyin import Style, lazy_pinyin

from config import CONFIG_DIR
from pipelines.domain import Finding, TranscriptSegment
from pipelines.speech.ad_text import Folded, fold_digits, fold_text, is_counting
from pipelines.speech.ad_times import Place, Reach, promotion_times


@dataclass(frozen=True)
class AdRule:
    """One cue: a phrase (optionally matched by sound) or a regular expression; weak cues have a group."""

    id: str
    strong: bool
    phrase: str = ""
    sound: bool = False
    pattern: re.Pattern[str] | None = None
    group: str = ""


@dataclass(frozen=True)
class AdMatch:
    """Where a rule matched: [start, end) in the searched text."""

    rule: str
    strong: bool
    start: int
    end: int
    heard: str
    how: str  # "text" | "sound" | "pattern"
    group: str = ""


@dataclass(frozen=True)
class Word:
    """A call-to-action or channel word; `numbers`: whether it pairs with a contact-like number."""

    text: str
    sound: bool = True
    numbers: bool = True


@dataclass(frozen=True)
class NumberShape:
    """A digit run that may be a contact number, even with a digit lost or added by the ASR."""

    min_digits: int
    max_digits: int
    not_after: str
    counting_min: int


@dataclass(frozen=True)
class CallToAction:
    """The general rule: an action near a channel or a number, or a channel near a number."""

    actions: tuple[Word, ...]
    channels: tuple[Word, ...]
    number: NumberShape
    window_chars: int
    not_ads: tuple[str, ...]


@dataclass(frozen=True)
class Span:
    """A word or number found at [start, end) of the source text."""

    kind: str  # "action" | "channel" | "number"
    start: int
    end: int
    how: str
    word: str = ""


@dataclass
class Heard:
    """A text searched: as said, folded (letters, digits, Chinese), and the folded text's syllables."""

    text: str
    folded: Folded
    sounds: list[str]

    @cached_property
    def starts(self) -> dict[str, list[int]]:
        """Positions of each syllable in `sounds`."""
        out: dict[str, list[int]] = {}
        for i, syllable in enumerate(self.sounds):
            out.setdefault(syllable, []).append(i)
        return out

    def find_sound(self, needle: list[str]) -> list[int]:
        """Where the syllables `needle` occur in a row."""
        n = len(needle)
        return [i for i in self.starts.get(needle[0], []) if self.sounds[i:i + n] == needle] if n else []


class AdMatcher:
    """Finds promotion cues in text, per a rules file (config/speech_ads.yaml)."""

    def __init__(self, rules: list[AdRule], folds: list[tuple[str, str]], digits: dict[str, str], run_min: int,
                 call: CallToAction, reach: Reach):
        self.rules = rules
        self.reach = reach
        self.folds = folds
        self.digits = digits
        self.run_min = run_min
        self.call = call
        self._sounds = {w: self.syllables(w) for w in
                        [r.phrase for r in rules if r.sound] + [w.text for w in call.actions + call.channels]}

    @classmethod
    def from_file(cls, path: Path) -> AdMatcher:
        """Load the rules file (YAML, see config/speech_ads.yaml)."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules = [_phrase_rule(item, True) for item in data["strong"]]
        rules += [_phrase_rule(item, False) for item in data.get("weak", [])]
        rules += [AdRule(item["id"], True, pattern=re.compile(item["regex"])) for item in data.get("patterns", [])]
        folds = [(a, b) for a, b in data["sound"]["folds"]]
        numerals = data["numerals"]
        grow = data["reach"]
        reach = Reach(tuple(re.compile(p) for p in grow["lead_in"]), int(grow["max_chars"]),
                      float(grow["join_gap_s"]), int(grow["steps"]))
        return cls(rules, folds, dict(numerals["digits"]), int(numerals["run_min"]),
                   _call_to_action(data["call_to_action"]), reach)

    def find(self, text: str) -> list[AdMatch]:
        """Every cue in `text`, sorted by position; a span matched by characters is not repeated by sound,
        a weak cue inside a strong one is part of it, a cue inside an ordinary phrase is none."""
        folded = fold_text(text)
        heard = Heard(text, folded, self.syllables(folded.text))
        ordinary = self._ordinary(text)
        found = [m for m in self._phrases(heard) + self._patterns(text) + self._calls(heard, ordinary)
                 if not any(a <= m.start and m.end <= b for a, b in ordinary)]
        strong = [(m.start, m.end) for m in found if m.strong]
        found = [m for m in found if m.strong or not any(a <= m.start and m.end <= b for a, b in strong)]
        found.sort(key=lambda m: (m.start, -m.end, m.rule))
        return [m for k, m in enumerate(found) if not _inside_same_rule(m, found[:k])]

    def mentions(self, text: str) -> bool:
        """Whether `text` holds a listed phrase or a call-to-action/channel word of two characters or more,
        by characters, outside ordinary senses (a sentence that belongs to a promotion next to it)."""
        folded = fold_text(text).text
        for phrase in self.call.not_ads:
            folded = folded.replace(phrase, " ")
        words = [w.text for w in self.call.actions + self.call.channels if len(w.text) > 1]
        return any(w in folded for w in words + [r.phrase for r in self.rules if r.phrase])

    def syllables(self, text: str) -> list[str]:
        """Toneless, folded pinyin per character (non-Chinese characters stand for themselves)."""
        out = lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: list(chars))
        if len(out) != len(text):
            out = [lazy_pinyin(ch, style=Style.NORMAL, errors=lambda c: list(c))[0] for ch in text]
        return [self._fold(s) for s in out]

    def _fold(self, syllable: str) -> str:
        for long, short in self.folds:
            if long in syllable:
                syllable = syllable.replace(long, short)
        return syllable

    def _phrases(self, heard: Heard) -> list[AdMatch]:
        found: list[AdMatch] = []
        for rule in (r for r in self.rules if r.phrase):
            for start, end, how in self._occurrences(heard, rule.phrase, rule.sound):
                found.append(_match(rule, heard.text, heard.folded, start, end, how))
        return found

    def _occurrences(self, heard: Heard, word: str, by_sound: bool) -> list[tuple[int, int, str]]:
        """[start, end, how) of `word` in the folded text: by characters, and by sound where not by characters
        and said in one breath (视频，好 does not sound like 视频号)."""
        folded = heard.folded
        spans = {(i, i + len(word)) for i in _find_all(folded.text, word)}
        out = [(s, e, "text") for s, e in sorted(spans)]
        if by_sound:
            extra = [(i, i + len(word)) for i in heard.find_sound(self._sounds[word])]
            out += [(s, e, "sound") for s, e in extra
                    if (s, e) not in spans and _one_breath(heard.text, *folded.source_span(s, e))]
        return out

    def _patterns(self, text: str) -> list[AdMatch]:
        folded = fold_digits(text, self.digits, self.run_min)
        found: list[AdMatch] = []
        for rule in (r for r in self.rules if r.pattern is not None):
            for m in rule.pattern.finditer(folded.text):
                found.append(_match(rule, text, folded, m.start(), m.end(), "pattern"))
        return found

    def _ordinary(self, text: str) -> list[tuple[int, int]]:
        """Source spans of phrases in which a cue word has its ordinary sense (联系上下文)."""
        folded = fold_text(text)
        return [folded.source_span(i, i + len(p)) for p in self.call.not_ads for i in _find_all(folded.text, p)]

    def _calls(self, heard: Heard, ordinary: list[tuple[int, int]]) -> list[AdMatch]:
        """The general rule: action + channel, action + number, channel + number, close together."""
        spans = [s for s in self._words(heard) + self._numbers(heard.text)
                 if not any(a <= s.start and s.end <= b for a, b in ordinary)]
        return [_pair_match(heard.text, a, b) for a in spans for b in spans
                if (a.kind, b.kind) in PAIRS and self._close(a, b) and self._pairs(a, b)]

    def _pairs(self, a: Span, b: Span) -> bool:
        """A word marked `numbers: false` (加: 三加五) pairs with channels only."""
        if b.kind != "number":
            return True
        words = self.call.actions if a.kind == "action" else self.call.channels
        return next((w.numbers for w in words if w.text == a.word), True)

    def _words(self, heard: Heard) -> list[Span]:
        out: list[Span] = []
        for kind, words in (("action", self.call.actions), ("channel", self.call.channels)):
            for word in words:
                for start, end, how in self._occurrences(heard, word.text, word.sound):
                    lo, hi = heard.folded.source_span(start, end)
                    out.append(Span(kind, lo, hi, how, word.text))
        return [s for s in out if not any(o.kind == s.kind and o.start <= s.start and s.end <= o.end
                                          and o.end - o.start > s.end - s.start for o in out)]

    def _numbers(self, text: str) -> list[Span]:
        """Digit runs shaped like a contact number: not a decimal's digits, not counting aloud."""
        shape = self.call.number
        folded = fold_digits(text, self.digits, self.run_min)
        out: list[Span] = []
        for m in re.finditer(r"[0-9]+", folded.text):
            decimal = m.start() > 0 and folded.text[m.start() - 1] in shape.not_after
            if (shape.min_digits <= len(m.group()) <= shape.max_digits and not decimal
                    and not is_counting(m.group(), shape.counting_min)):
                lo, hi = folded.source_span(m.start(), m.end())
                out.append(Span("number", lo, hi, "text"))
        return out

    def _close(self, a: Span, b: Span) -> bool:
        gap = max(a.start, b.start) - min(a.end, b.end)
        return 0 <= gap <= self.call.window_chars


PAIRS = {("action", "channel"), ("action", "number"), ("channel", "number")}


def _pair_match(text: str, a: Span, b: Span) -> AdMatch:
    lo, hi = min(a.start, b.start), max(a.end, b.end)
    how = "sound" if "sound" in (a.how, b.how) else "text"
    return AdMatch(f"{a.kind}+{b.kind}", True, lo, hi, text[lo:hi], how)


def _word_list(items: list[dict[str, Any]]) -> tuple[Word, ...]:
    return tuple(Word(str(i["text"]), bool(i.get("sound", True)), bool(i.get("numbers", True))) for i in items)


def _call_to_action(data: dict[str, Any]) -> CallToAction:
    n = data["number"]
    return CallToAction(_word_list(data["actions"]), _word_list(data["channels"]),
                        NumberShape(int(n["min_digits"]), int(n["max_digits"]), str(n["not_after"]),
                                    int(n["counting_min"])),
                        int(data["window_chars"]), tuple(fold_text(str(p)).text for p in data.get("not_ads", [])))


def _phrase_rule(item: dict[str, Any], strong: bool) -> AdRule:
    phrase = fold_text(str(item["text"])).text
    return AdRule(str(item["id"]), strong, phrase=phrase, sound=bool(item.get("sound", False)),
                  group=str(item.get("group", item["id"])))


def _match(rule: AdRule, text: str, folded: Folded, start: int, end: int, how: str) -> AdMatch:
    lo, hi = folded.source_span(start, end)
    return AdMatch(rule.id, rule.strong, lo, hi, text[lo:hi], how, rule.group or rule.id)


def _one_breath(text: str, start: int, end: int) -> bool:
    return all(ch.isalnum() for ch in text[start:end])


def _inside_same_rule(match: AdMatch, earlier: list[AdMatch]) -> bool:
    return any(e.rule == match.rule and e.start <= match.start and match.end <= e.end for e in earlier)


def _find_all(haystack: str, needle: str) -> list[int]:
    return [m.start() for m in re.finditer(f"(?={re.escape(needle)})", haystack)] if needle else []


@lru_cache(maxsize=8)
def matcher(rules_file: str) -> AdMatcher:
    """The matcher for a rules file (a name under config/, or an absolute path), cached per process."""
    path = Path(rules_file)
    return AdMatcher.from_file(path if path.is_absolute() else CONFIG_DIR / path)


@dataclass(frozen=True)
class Located:
    """A cue in the joined transcript: the segments its start and end fall in, and offsets inside them."""

    match: AdMatch
    first: int
    start: int
    last: int
    end: int


def ad_findings(transcript: list[TranscriptSegment], cues: AdMatcher, cooccur_s: float,
                merge_gap_s: float) -> list[Finding]:
    """speech.ad findings: counted cues, those in segments closer than `merge_gap_s` joined into one."""
    hits = _counted(transcript, _located(transcript, cues, merge_gap_s), cooccur_s, merge_gap_s)
    groups: list[list[Located]] = []
    for hit in hits:
        last = max((h.last for h in groups[-1]), default=None) if groups else None
        if last is not None and transcript[hit.first].start_s - transcript[last].end_s <= merge_gap_s:
            groups[-1].append(hit)
        else:
            groups.append([hit])
    return [_ad_finding(transcript, group, cues) for group in groups]


def _located(transcript: list[TranscriptSegment], cues: AdMatcher, join_gap_s: float) -> list[Located]:
    """Every cue, with the segments (and offsets in them) where it starts and ends. Cues are sought in
    runs of segments with pauses up to `join_gap_s` joined, so words said far apart never pair up."""
    out: list[Located] = []
    run = [0] if transcript else []
    for k in range(1, len(transcript) + 1):
        if k < len(transcript) and transcript[k].start_s - transcript[k - 1].end_s <= join_gap_s:
            run.append(k)
            continue
        out += _located_in(transcript, run, cues)
        run = [k]
    return out


def _located_in(transcript: list[TranscriptSegment], run: list[int], cues: AdMatcher) -> list[Located]:
    starts, pos = [], 0
    for k in run:
        starts.append(pos)
        pos += len(transcript[k].text) + 1
    out = []
    for m in cues.find("\n".join(transcript[k].text for k in run)):
        first, last = bisect.bisect_right(starts, m.start) - 1, bisect.bisect_right(starts, m.end - 1) - 1
        out.append(Located(m, run[first], m.start - starts[first], run[last], m.end - starts[last]))
    return out


def _counted(transcript: list[TranscriptSegment], hits: list[Located], cooccur_s: float,
             merge_gap_s: float) -> list[Located]:
    """Strong cues; weak cues with a weak cue of another group no more than `cooccur_s` away, or a strong
    cue close enough to join its finding (a strong finding already reports the promotion around it)."""
    def near(a: Located, b: Located, seconds: float) -> bool:
        i, j = sorted((a.first, b.first))
        return transcript[j].start_s - transcript[i].end_s <= seconds

    def confirmed(h: Located) -> bool:
        return any(o.match.group != h.match.group and near(h, o, merge_gap_s if o.match.strong else cooccur_s)
                   for o in hits)

    return [h for h in hits if h.match.strong or confirmed(h)]


def _ad_finding(transcript: list[TranscriptSegment], group: list[Located], cues: AdMatcher) -> Finding:
    first = min(group, key=lambda h: (h.first, h.start))
    last = max(group, key=lambda h: (h.last, h.end))
    matches = [h.match for h in group]
    rules = sorted({m.rule for m in matches})
    severity = "fail" if any(m.strong for m in matches) else "review"
    heard = "、".join(dict.fromkeys(m.heard for m in matches))
    evidence = {"key": "spoken_ad", "rules": rules, "heard": [m.heard for m in matches],
                "how": sorted({m.how for m in matches}),
                "transcript": "".join(transcript[i].text for i in range(first.first, last.last + 1))}
    start_s, end_s = promotion_times(transcript, Place(first.first, first.start), Place(last.last, last.end),
                                     cues.reach, cues.mentions)
    return Finding("speech.ad", severity, f"疑似口播推广：{heard}", start_s, end_s, evidence)
