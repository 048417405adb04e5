"""Errors of the model store and loader (models/ imports nothing from pipelines/).

`pipelines.errors.ModelMissing` subclasses `ModelMissing` here, so code that catches
LessonQC's own hierarchy sees a missing model raised by the speech stage.
"""
from __future__ import annotations


class ModelError(Exception):
    """Base of the model store's errors."""


class ModelMissing(ModelError):
    """A speech model is not installed where the configuration expects it."""


class ModelForbidden(ModelError):
    """Loading a model is forbidden in this process (`LESSONQC_FORBID_MODEL` is set: tests not marked `model`)."""


class CommandFailed(Exception):
    """An external command failed: its argv, stderr and exit status (the last stderr lines print with it).

    The base of `ModelFetchError` here and of `pipelines.errors.ToolError`.
    """

    def __init__(self, message: str, cmd: list[str] | None = None, stderr: str = "", returncode: int | None = None):
        super().__init__(message)
        self.cmd = cmd or []
        self.stderr = stderr
        self.returncode = returncode

    def __str__(self) -> str:
        tail = self.stderr.strip().splitlines()[-5:]
        return super().__str__() + ("\n" + "\n".join(tail) if tail else "")


class ModelFetchError(ModelError, CommandFailed):
    """pip could not fetch a pinned model part (or timed out); carries its stderr."""
