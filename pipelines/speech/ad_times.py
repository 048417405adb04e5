"""When a spoken promotion is said: the time range of the sentences holding its cues.

Transcript segments are VAD chunks (a stretch of steady speech), often holding a lesson
sentence and the promotion in one breath, so a segment's bounds can start seconds early.
Inside a segment, time is shared out in proportion to the spoken characters. The range then
grows by whole neighbouring sentences that belong to the promotion: one before that names its
audience (`lead_in` patterns: 想了解更多课程的家长，请拨打…), and sentences on either side that
mention a promotion word themselves (我们的学习群已经开放了。想进群的同学请私信我。).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.domain import TranscriptSegment
from pipelines.speech.ad_text import fold_text, sentence_bounds, spoken_share


@dataclass(frozen=True)
class Reach:
    """How far a promotion's range grows: lead-in patterns (on the folded sentence, at most `max_chars`),
    at most `steps` sentences each way, across segments at most `join_gap_s` apart."""

    patterns: tuple[re.Pattern[str], ...]
    max_chars: int
    join_gap_s: float
    steps: int

    def opens(self, sentence: str) -> bool:
        folded = fold_text(sentence).text
        return 0 < len(folded) <= self.max_chars and any(p.search(folded) for p in self.patterns)


@dataclass(frozen=True)
class Place:
    """A character offset inside transcript segment `segment`."""

    segment: int
    offset: int


def promotion_times(transcript: list[TranscriptSegment], first: Place, last: Place, reach: Reach,
                    mentions: Callable[[str], bool]) -> tuple[float, float]:
    """(start, end) seconds: the sentences from the one holding `first` to the one holding `last`, grown by
    neighbours that open the promotion or `mentions` a promotion word."""
    start = Place(first.segment, sentence_bounds(transcript[first.segment].text, first.offset, first.offset + 1)[0])
    end = Place(last.segment, sentence_bounds(transcript[last.segment].text, max(last.offset - 1, 0), last.offset)[1])
    for _ in range(reach.steps):
        before = _previous(transcript, start, reach.join_gap_s)
        if before is None or not (reach.opens(_text(transcript, *before)) or mentions(_text(transcript, *before))):
            break
        start = before[0]
    for _ in range(reach.steps):
        after = _next(transcript, end, reach.join_gap_s)
        if after is None or not mentions(_text(transcript, *after)):
            break
        end = after[1]
    return round(_time_at(transcript, start), 2), round(_time_at(transcript, end), 2)


def _text(transcript: list[TranscriptSegment], start: Place, end: Place) -> str:
    return transcript[start.segment].text[start.offset:end.offset]


def _previous(transcript: list[TranscriptSegment], start: Place, join_gap_s: float) -> tuple[Place, Place] | None:
    """The sentence ending just before `start` (in its segment, or the previous one when close), or None."""
    segment, offset = start.segment, start.offset
    text = transcript[segment].text
    while offset > 0 and not text[offset - 1].isalnum():
        offset -= 1
    if offset == 0:
        if segment == 0 or transcript[segment].start_s - transcript[segment - 1].end_s > join_gap_s:
            return None
        segment -= 1
        text = transcript[segment].text
        offset = len(text)
        while offset > 0 and not text[offset - 1].isalnum():
            offset -= 1
        if offset == 0:
            return None
    lo, _ = sentence_bounds(text, offset - 1, offset)
    return Place(segment, lo), Place(segment, offset)


def _next(transcript: list[TranscriptSegment], end: Place, join_gap_s: float) -> tuple[Place, Place] | None:
    """The sentence starting just after `end` (in its segment, or the next one when close), or None."""
    segment, offset = end.segment, end.offset
    text = transcript[segment].text
    while offset < len(text) and not text[offset].isalnum():
        offset += 1
    if offset >= len(text):
        if segment + 1 >= len(transcript) or transcript[segment + 1].start_s - transcript[segment].end_s > join_gap_s:
            return None
        segment, offset = segment + 1, 0
        text = transcript[segment].text
    lo, hi = sentence_bounds(text, offset, offset + 1)
    return (Place(segment, lo), Place(segment, hi)) if lo < hi else None


def _time_at(transcript: list[TranscriptSegment], place: Place) -> float:
    segment = transcript[place.segment]
    return segment.start_s + (segment.end_s - segment.start_s) * spoken_share(segment.text, place.offset)
