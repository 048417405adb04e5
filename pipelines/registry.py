"""The stage registry: the built-in stages listed explicitly, plus plug-ins added with `register()`.

Nothing registers itself on import. `check()` and the farm's plan take the stages to run
from here by default; tests and plug-ins pass their own.
"""
from __future__ import annotations

from pipelines.lab.stage import LabStage
from pipelines.onscreen.stage import OnscreenStage
from pipelines.originality.stage import PictureStage, SoundStage
from pipelines.speech.stage import SpeechStage
from pipelines.stages import Stage

BUILTIN: tuple[type[Stage], ...] = (SpeechStage, LabStage, OnscreenStage, PictureStage, SoundStage)

_BUILTINS: dict[str, Stage] = {cls.name: cls() for cls in BUILTIN}
_plugins: dict[str, Stage] = {}


def register(stage: Stage) -> Stage:
    """Add a plug-in stage instance under its `name` (replaces one of the same name)."""
    _plugins[stage.name] = stage
    return stage


def unregister(name: str) -> None:
    """Remove a plug-in stage (tests use it to undo `register`)."""
    _plugins.pop(name, None)


def all_stages() -> dict[str, Stage]:
    """Every stage by name: the built-ins, then plug-ins."""
    return {**_BUILTINS, **_plugins}
