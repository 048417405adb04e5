"""One error hierarchy for every stage, the CLI and the farm."""
from __future__ import annotations

import re

from models import errors as model_errors

FD_NAME = re.compile(r"/proc/self/fd/\d+")  # how the tools name a media file opened once (media/source.py)


class LessonQCError(Exception):
    """Base of every error LessonQC raises on purpose."""


class ProfileError(LessonQCError):
    """A profile file is missing, malformed, or has a wrong key or type."""


class InputUnreadable(LessonQCError):
    """The input is not a decodable video within the safety limits (bad input: never retried)."""


class ToolError(LessonQCError, model_errors.CommandFailed):
    """An external tool (ffmpeg, ffprobe, soffice) failed; carries its argv, stderr and exit status.
    Its text names an opened media file `input`, not `/proc/self/fd/N` (reports quote it)."""

    def __str__(self) -> str:
        return FD_NAME.sub("input", super().__str__())


class ToolTimeout(ToolError):
    """An external tool ran past its timeout and was killed."""


class ToolMissing(LessonQCError):
    """An external tool is not installed (or its env override points nowhere)."""


class ModelMissing(LessonQCError, model_errors.ModelMissing):
    """A speech model is not installed where the configuration expects it (raised by stages)."""

    @classmethod
    def wrap(cls, err: model_errors.ModelError) -> "ModelMissing":
        """The store's error as part of LessonQC's hierarchy (exit code 4, never retried)."""
        return cls(str(err))


class MediaPathRefused(LessonQCError):
    """A submitted media path lies outside the configured media roots."""
