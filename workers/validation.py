"""What a submission must be before it is indexed or queued: media that exists and is not empty, stages
to skip that exist, extra languages the speech model knows. Messages name what was submitted."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from pipelines import registry
from pipelines.errors import LessonQCError


class SubmissionInvalid(LessonQCError):
    """A submission that cannot run as asked; `code` is the API's stable error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def check(real: Path, ref: str, languages: Sequence[str], skip: Sequence[str]) -> None:
    """SubmissionInvalid for missing or empty media, an unknown stage to skip, or an unknown language."""
    check_media(real, ref)
    check_stages(skip)
    check_languages(languages)


def check_media(real: Path, ref: str) -> None:
    try:
        found = real.exists()
    except OSError:  # a name too long for the file system
        found = False
    if not found:
        raise SubmissionInvalid("media.not_found", f"no media at {ref!r} under the media roots")
    if real.is_file() and real.stat().st_size == 0:
        raise SubmissionInvalid("media.empty", f"media is empty (0 bytes): {ref}")
    if not (real.is_file() or real.is_dir()):
        raise SubmissionInvalid("media.not_a_file", f"media is not a file: {ref}")


def check_stages(skip: Sequence[str]) -> None:
    known = registry.all_stages()
    unknown = [name for name in skip if name not in known]
    if unknown:
        raise SubmissionInvalid("request.unknown_stage", f"unknown stage(s) to skip: {', '.join(unknown)} "
                                                         f"(known: {', '.join(sorted(known))})")


def check_languages(languages: Sequence[str]) -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # the codes the speech model can tell apart

    unknown = [lang for lang in languages if lang not in _LANGUAGE_CODES]
    if unknown:
        raise SubmissionInvalid("request.unknown_language",
                                f"unknown language(s): {', '.join(unknown)} (ISO 639-1 codes such as en, ja)")
