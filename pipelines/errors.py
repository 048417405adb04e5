"""One error hierarchy for every stage, the CLI and the farm."""
from __future__ import annotations

from models import errors as model_errors


class LessonQCError(Exception):
    """Base of every error LessonQC raises on purpose."""


class ProfileError(LessonQCError):
    """A profile file is missing, malformed, or has a wrong key or type."""


class InputUnreadable(LessonQCError):
    """The input is not a decodable video within the safety limits (bad input: never retried)."""


class ToolError(LessonQCError):
    """An external tool (ffmpeg, ffprobe, tesseract) failed; carries its stderr."""

    def __init__(self, message: str, cmd: list[str] | None = None, stderr: str = "", returncode: int | None = None):
        super().__init__(message)
        self.cmd = cmd or []
        self.stderr = stderr
        self.returncode = returncode

    def __str__(self) -> str:
        tail = self.stderr.strip().splitlines()[-5:]
        return super().__str__() + ("\n" + "\n".join(tail) if tail else "")


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
