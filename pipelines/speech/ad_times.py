"""When a spoken promotion is said: the time range of the sentences holding its cues.

Transcript segments are VAD chunks (a stretch of steady speech), often holding a lesson
sentence and the promotion in one breath, so a segment's bounds can start seconds early.
Inside a segment, time is shared out in proportion to the spoken characters. A promotion
often opens with its audience in a sentence of its own (想了解更多课程的家长，请拨打…): a
sentence right before it that matches a `lead_in` pattern is part of the promotion.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.domain import TranscriptSegment
from pipelines.speech.ad_text import fold_text, sentence_bounds, spoken_share


@dataclass(frozen=True)
class LeadIn:
    """Sentences that open a promotion: patterns on the folded sentence, at most `max_chars` long,
    in the same segment or in one ending at most `join_gap_s` before."""

    patterns: tuple[re.Pattern[str], ...]
    max_chars: int
    join_gap_s: float

    def opens(self, sentence: str) -> bool:
        folded = fold_text(sentence).text
        return 0 < len(folded) <= self.max_chars and any(p.search(folded) for p in self.patterns)


@dataclass(frozen=True)
class Place:
    """A character offset inside transcript segment `segment`."""

    segment: int
    offset: int


def promotion_times(transcript: list[TranscriptSegment], first: Place, last: Place,
                    lead_in: LeadIn) -> tuple[float, float]:
    """(start, end) seconds: from the sentence holding `first` (or its lead-in) to the end of the one holding `last`."""
    start = _lead_in(transcript, _sentence_start(transcript, first), lead_in)
    end_seg = transcript[last.segment]
    _, hi = sentence_bounds(end_seg.text, max(last.offset - 1, 0), last.offset)
    return round(_time_at(transcript, start), 2), round(_time_at(transcript, Place(last.segment, hi)), 2)


def _sentence_start(transcript: list[TranscriptSegment], place: Place) -> Place:
    lo, _ = sentence_bounds(transcript[place.segment].text, place.offset, place.offset + 1)
    return Place(place.segment, lo)


def _lead_in(transcript: list[TranscriptSegment], start: Place, lead_in: LeadIn) -> Place:
    """`start`, or the start of the sentence just before it when that sentence opens the promotion."""
    segment, offset = start.segment, start.offset
    if offset == 0:
        if segment == 0 or transcript[segment].start_s - transcript[segment - 1].end_s > lead_in.join_gap_s:
            return start
        segment, offset = segment - 1, len(transcript[segment - 1].text)
    text = transcript[segment].text
    end = offset
    while end > 0 and not text[end - 1].isalnum():
        end -= 1
    if end == 0:
        return start
    lo, _ = sentence_bounds(text, end - 1, end)
    return Place(segment, lo) if lead_in.opens(text[lo:end]) else start


def _time_at(transcript: list[TranscriptSegment], place: Place) -> float:
    segment = transcript[place.segment]
    return segment.start_s + (segment.end_s - segment.start_s) * spoken_share(segment.text, place.offset)
