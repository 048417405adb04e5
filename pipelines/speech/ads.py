"""Spoken promotion in a transcript: phrases by characters and by toneless pinyin, digit/URL patterns.

A small ASR model mishears (扫码关注 -> 骚骂观众, 公众号 -> 公众好), so a phrase marked
`sound` also matches where the transcript *sounds* the same: both sides become
toneless pinyin, with accent near-homophones folded (zh~z, ing~in ...). Patterns
run on a normalised copy in which digits read one by one (幺三八...) are digits.
Every match maps back to character offsets in the original text.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pypinyin import Style, lazy_pinyin

from config import CONFIG_DIR
from pipelines.domain import Finding, TranscriptSegment

DIGIT_JOINERS = " -"


@dataclass(frozen=True)
class AdRule:
    """One cue: a phrase (optionally matched by sound) or a regular expression."""

    id: str
    strong: bool
    phrase: str = ""
    sound: bool = False
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class AdMatch:
    """Where a rule matched: [start, end) in the searched text."""

    rule: str
    strong: bool
    start: int
    end: int
    heard: str
    how: str  # "text" | "sound" | "pattern"


@dataclass(frozen=True)
class Folded:
    """A normalised copy of a text; `origin[i]` is the source index of character i."""

    text: str
    origin: tuple[int, ...]


class AdMatcher:
    """Finds promotion cues in text, per a rules file (config/speech_ads.yaml)."""

    def __init__(self, rules: list[AdRule], folds: list[tuple[str, str]], digits: dict[str, str], run_min: int):
        self.rules = rules
        self.folds = folds
        self.digits = digits
        self.run_min = run_min
        self._sounds = {r.phrase: self.syllables(r.phrase) for r in rules if r.sound}

    @classmethod
    def from_file(cls, path: Path) -> "AdMatcher":
        """Load the rules file (YAML, see config/speech_ads.yaml)."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules = [_phrase_rule(item, True) for item in data["strong"]]
        rules += [_phrase_rule(item, False) for item in data.get("weak", [])]
        rules += [AdRule(item["id"], True, pattern=re.compile(item["regex"])) for item in data.get("patterns", [])]
        folds = [(a, b) for a, b in data["sound"]["folds"]]
        return cls(rules, folds, dict(data["numerals"]["digits"]), int(data["numerals"]["run_min"]))

    def find(self, text: str) -> list[AdMatch]:
        """Every cue in `text`, sorted by position; a span matched by characters is not repeated by sound."""
        found = sorted(self._phrases(text) + self._patterns(text), key=lambda m: (m.start, -m.end, m.rule))
        return [m for k, m in enumerate(found) if not _inside_same_rule(m, found[:k])]

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

    def _phrases(self, text: str) -> list[AdMatch]:
        folded = fold_text(text)
        sounds = self.syllables(folded.text)
        found: list[AdMatch] = []
        for rule in (r for r in self.rules if r.phrase):
            spans = {(i, i + len(rule.phrase)) for i in _find_all(folded.text, rule.phrase)}
            found += [_match(rule, text, folded, s, e, "text") for s, e in sorted(spans)]
            if rule.sound:
                extra = [(i, i + len(rule.phrase)) for i in _find_seq(sounds, self._sounds[rule.phrase])]
                found += [_match(rule, text, folded, s, e, "sound") for s, e in extra if (s, e) not in spans]
        return found

    def _patterns(self, text: str) -> list[AdMatch]:
        folded = fold_digits(text, self.digits, self.run_min)
        found: list[AdMatch] = []
        for rule in (r for r in self.rules if r.pattern is not None):
            for m in rule.pattern.finditer(folded.text):
                found.append(_match(rule, text, folded, m.start(), m.end(), "pattern"))
        return found


def _phrase_rule(item: dict[str, Any], strong: bool) -> AdRule:
    phrase = fold_text(str(item["text"])).text
    return AdRule(str(item["id"]), strong, phrase=phrase, sound=bool(item.get("sound", False)))


def _match(rule: AdRule, text: str, folded: Folded, start: int, end: int, how: str) -> AdMatch:
    lo, hi = folded.origin[start], folded.origin[end - 1] + 1
    return AdMatch(rule.id, rule.strong, lo, hi, text[lo:hi], how)


def _inside_same_rule(match: AdMatch, earlier: list[AdMatch]) -> bool:
    return any(e.rule == match.rule and e.start <= match.start and match.end <= e.end for e in earlier)


def _find_all(haystack: str, needle: str) -> list[int]:
    return [m.start() for m in re.finditer(f"(?={re.escape(needle)})", haystack)] if needle else []


def _find_seq(tokens: list[str], needle: list[str]) -> list[int]:
    n = len(needle)
    return [i for i in range(len(tokens) - n + 1) if n and tokens[i:i + n] == needle]


def _nfkc_chars(text: str) -> list[tuple[str, int]]:
    """(character, source index) after NFKC and lower-casing, one source char possibly giving several."""
    return [(c, i) for i, ch in enumerate(text) for c in unicodedata.normalize("NFKC", ch).lower()]


def fold_text(text: str) -> Folded:
    """Letters, digits and Chinese characters only (punctuation and spaces dropped), NFKC, lower case."""
    kept = [(c, i) for c, i in _nfkc_chars(text) if c.isalnum()]
    return Folded("".join(c for c, _ in kept), tuple(i for _, i in kept))


def fold_digits(text: str, digits: dict[str, str], run_min: int) -> Folded:
    """NFKC, lower case, runs of >= run_min spoken digits as digits, spaces/dashes inside digit groups removed."""
    chars = _nfkc_chars(text)
    chars = _spoken_digits(chars, digits, run_min)
    kept = [(c, i) for k, (c, i) in enumerate(chars) if not _joins_digits(chars, k)]
    return Folded("".join(c for c, _ in kept), tuple(i for _, i in kept))


def _spoken_digits(chars: list[tuple[str, int]], digits: dict[str, str], run_min: int) -> list[tuple[str, int]]:
    out = list(chars)
    k = 0
    while k < len(out):
        end = k
        while end < len(out) and (out[end][0] in digits or out[end][0].isdigit()):
            end += 1
        if end - k >= run_min:
            out[k:end] = [(digits.get(c, c), i) for c, i in out[k:end]]
        k = max(end, k + 1)
    return out


def _joins_digits(chars: list[tuple[str, int]], k: int) -> bool:
    """Whether chars[k] is a space/dash between two digits (138 1234-5678)."""
    if chars[k][0] not in DIGIT_JOINERS:
        return False
    before = next((c.isdigit() for c, _ in reversed(chars[:k]) if c not in DIGIT_JOINERS), False)
    after = next((c.isdigit() for c, _ in chars[k + 1:] if c not in DIGIT_JOINERS), False)
    return before and after


@lru_cache(maxsize=8)
def matcher(rules_file: str) -> AdMatcher:
    """The matcher for a rules file (a name under config/, or an absolute path), cached per process."""
    path = Path(rules_file)
    return AdMatcher.from_file(path if path.is_absolute() else CONFIG_DIR / path)



def ad_findings(transcript: list[TranscriptSegment], cues: AdMatcher, cooccur_s: float,
                merge_gap_s: float) -> list[Finding]:
    """speech.ad findings: transcript segments holding counted cues, neighbours joined."""
    hits = _counted(transcript, _located(transcript, cues), cooccur_s)
    groups: list[list[tuple[int, AdMatch]]] = []
    for index, match in hits:
        last = groups[-1][-1][0] if groups else None
        if last is not None and transcript[index].start_s - transcript[last].end_s <= merge_gap_s:
            groups[-1].append((index, match))
        else:
            groups.append([(index, match)])
    return [_ad_finding(transcript, group) for group in groups]


def _located(transcript: list[TranscriptSegment], cues: AdMatcher) -> list[tuple[int, AdMatch]]:
    """Every cue in the joined transcript, with the index of the segment it starts in."""
    starts, pos = [], 0
    for segment in transcript:
        starts.append(pos)
        pos += len(segment.text) + 1
    joined = "\n".join(s.text for s in transcript)
    return [(bisect.bisect_right(starts, m.start) - 1, m) for m in cues.find(joined)]


def _counted(transcript: list[TranscriptSegment], hits: list[tuple[int, AdMatch]],
             cooccur_s: float) -> list[tuple[int, AdMatch]]:
    """Strong cues, and weak cues with a cue of another rule no more than `cooccur_s` away."""
    def near(i: int, j: int) -> bool:
        a, b = transcript[min(i, j)], transcript[max(i, j)]
        return b.start_s - a.end_s <= cooccur_s

    return [(i, m) for i, m in hits if m.strong or any(o.rule != m.rule and near(i, j) for j, o in hits)]


def _ad_finding(transcript: list[TranscriptSegment], group: list[tuple[int, AdMatch]]) -> Finding:
    indices = sorted({i for i, _ in group})
    matches = [m for _, m in group]
    rules = sorted({m.rule for m in matches})
    severity = "fail" if any(m.strong for m in matches) else "review"
    heard = "、".join(dict.fromkeys(m.heard for m in matches))
    evidence = {"key": "spoken_ad", "rules": rules, "heard": [m.heard for m in matches],
                "how": sorted({m.how for m in matches}),
                "transcript": "".join(transcript[i].text for i in range(indices[0], indices[-1] + 1))}
    return Finding("speech.ad", severity, f"疑似口播推广：{heard}",
                   transcript[indices[0]].start_s, transcript[indices[-1]].end_s, evidence)
