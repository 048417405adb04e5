"""Additive speech measurements of one span of a video, and the whole-video metrics derived from them.

A farm segment returns its tally in the stage metrics (`tally`); merging
adds the tallies in time order, so the derived metrics and the low-speech
decision equal those of one run over the whole video.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.domain import Finding, TranscriptSegment
from pipelines.speech.ad_text import fold_text

TALLY_KEY = "tally"


@dataclass
class SpeechTally:
    """Sums over a span [start_s, end_s] of the video (absolute seconds)."""

    start_s: float
    end_s: float
    speech_s: float = 0.0
    lead_gap_s: float = 0.0        # no speech from start_s to the first speech
    trail_gap_s: float = 0.0       # no speech from the last speech to end_s
    inner_gap_s: float = 0.0       # longest pause between two speech chunks inside the span
    language_s: dict[str, float] = field(default_factory=dict)
    flagged: list[dict[str, Any]] = field(default_factory=list)  # speech_lang.Flagged as dicts
    windows: int = 0
    stage_s: float = 0.0
    phase_s: dict[str, float] = field(default_factory=dict)  # vad, language, transcribe
    model: str = ""
    device: str = ""

    @property
    def audio_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SpeechTally":
        return cls(**data)


def combine(tallies: list[SpeechTally]) -> SpeechTally:
    """One tally for consecutive spans (sorted by start)."""
    parts = sorted(tallies, key=lambda t: t.start_s)
    total = SpeechTally(parts[0].start_s, parts[-1].end_s, model=parts[0].model, device=parts[0].device)
    for part in parts:
        total.speech_s += part.speech_s
        total.windows += part.windows
        total.stage_s += part.stage_s
        total.flagged += part.flagged
        for phase, seconds in part.phase_s.items():
            total.phase_s[phase] = total.phase_s.get(phase, 0.0) + seconds
        for lang, seconds in part.language_s.items():
            total.language_s[lang] = total.language_s.get(lang, 0.0) + seconds
    total.lead_gap_s, total.inner_gap_s, total.trail_gap_s = _joined_gaps(parts)
    return total


def _joined_gaps(parts: list[SpeechTally]) -> tuple[float, float, float]:
    """(lead, longest inner, trail) gaps of spans laid end to end; silence runs across the seams."""
    lead: float | None = None
    inner = 0.0
    carry = 0.0
    for part in parts:
        if part.speech_s <= 0:
            carry += part.audio_s
            continue
        if lead is None:
            lead = carry + part.lead_gap_s
        else:
            inner = max(inner, carry + part.lead_gap_s)
        inner = max(inner, part.inner_gap_s)
        carry = part.trail_gap_s
    return (carry, 0.0, carry) if lead is None else (lead, inner, carry)


def metrics(tally: SpeechTally, transcript: list[TranscriptSegment]) -> dict[str, Any]:
    """Whole-span metrics for the report."""
    audio, speech = tally.audio_s, tally.speech_s
    chars = sum(len(fold_text(s.text).text) for s in transcript)
    return {
        "speech_ratio": round(speech / audio, 4) if audio else 0.0,
        "speech_seconds": round(speech, 2),
        "longest_gap_s": round(max(tally.lead_gap_s, tally.inner_gap_s, tally.trail_gap_s), 2),
        "chars_per_minute": round(chars / (speech / 60.0), 1) if speech else 0.0,
        "language_shares": {k: round(v / speech, 4) for k, v in sorted(tally.language_s.items())} if speech else {},
        "rtf": round(tally.stage_s / audio, 4) if audio else 0.0,
        "phase_s": {k: round(v, 2) for k, v in tally.phase_s.items()},
        "vad_skipped_share": round(1.0 - speech / audio, 4) if audio else 0.0,
        "windows": tally.windows,
        "model": tally.model,
        "device": tally.device,
    }


def low_speech(ratio: float, cfg: Any) -> Finding | None:
    """speech.low_speech when the speech ratio is under the profile's limits (`cfg`: speech.low_speech)."""
    if ratio >= cfg.review_below:
        return None
    severity = "fail" if ratio < cfg.fail_below else "review"
    limit = cfg.fail_below if severity == "fail" else cfg.review_below
    return Finding("speech.low_speech", severity, f"语音过少：语音占比 {ratio:.0%}，低于 {limit:.0%}",
                   evidence={"speech_ratio": round(ratio, 4), "limit": limit})
