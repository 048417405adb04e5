"""Normalised copies of transcript text for the spoken-promotion rules, each mapped back to the source.

`fold_text` keeps letters, digits and Chinese characters (NFKC, lower case); `fold_digits` turns digits
read one by one (幺三八...) into digits and drops spaces/dashes inside digit groups. In both, `origin[i]`
is the index in the source text of folded character i, so every match maps back to the words heard.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from itertools import pairwise

DIGIT_JOINERS = " -"
SENTENCE_ENDS = "。！？!?；;\n"


@dataclass(frozen=True)
class Folded:
    """A normalised copy of a text; `origin[i]` is the source index of character i."""

    text: str
    origin: tuple[int, ...]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """[start, end) in the folded text as [start, end) in the source."""
        return self.origin[start], self.origin[end - 1] + 1


def _nfkc_chars(text: str) -> list[tuple[str, int]]:
    """(character, source index) after NFKC and lower-casing, one source char possibly giving several."""
    return [(c, i) for i, ch in enumerate(text) for c in unicodedata.normalize("NFKC", ch).lower()]


def fold_text(text: str) -> Folded:
    """Letters, digits and Chinese characters only (punctuation and spaces dropped), NFKC, lower case."""
    kept = [(c, i) for c, i in _nfkc_chars(text) if c.isalnum()]
    return Folded("".join(c for c, _ in kept), tuple(i for _, i in kept))


def fold_digits(text: str, digits: dict[str, str], run_min: int) -> Folded:
    """NFKC, lower case, runs of >= run_min spoken digits as digits, spaces/dashes inside digit groups removed."""
    chars = _spoken_digits(_nfkc_chars(text), digits, run_min)
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


def is_counting(digits: str, min_len: int) -> bool:
    """Digits stepping by +1 or -1 throughout (123456789, 98765), at least `min_len` long: counting aloud."""
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(digits)}
    return len(digits) >= min_len and steps in ({1}, {9})


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of `text` holding [start, end): from after the previous sentence end to the next one."""
    lo = max((text.rfind(mark, 0, start) for mark in SENTENCE_ENDS), default=-1) + 1
    ends = [i for i in (text.find(mark, end) for mark in SENTENCE_ENDS) if i >= 0]
    hi = min(ends) + 1 if ends else len(text)
    while lo < hi and not text[lo].isalnum():
        lo += 1
    return lo, hi


def spoken_share(text: str, index: int) -> float:
    """Share of `text`'s spoken characters (letters, digits, Chinese) before `index`: its time, proportionally."""
    total = sum(ch.isalnum() for ch in text)
    return sum(ch.isalnum() for ch in text[:index]) / total if total else 0.0
