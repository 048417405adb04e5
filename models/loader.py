"""Pick, resolve and load the Whisper model a speech config asks for (once per process).

Config (`speech.model` in the profile): `device` is auto|cpu|cuda; the `cpu` and
`cuda` sections each name a model: a manifest name installed in the store, a
folder (absolute, or a name under the store), or `hub:<id>`, the only form that
may download. A CUDA node falls back to its `fallback` model when `name` is absent.

`LESSONQC_FORBID_MODEL` (set by the tests for every test not marked `model`) makes
every `load()` raise ModelForbidden, cached model or not; when its value is an
absolute path, each refusal is also appended there, so a refusal that a stage turns
into a stage error (or that happens in a worker subprocess) is still seen.
Unset (production), nothing changes.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ModelForbidden, ModelMissing

from . import store

log = logging.getLogger(__name__)

HUB_PREFIX = "hub:"
FORBID_ENV = "LESSONQC_FORBID_MODEL"


@dataclass(frozen=True)
class ModelChoice:
    """The model, device and precision a config resolves to on this machine."""

    name: str
    source: str            # local folder, or a hub id when `hub`
    device: str            # "cpu" | "cuda"
    compute_type: str
    threads: int
    batch_size: int        # 0: sequential decoding; >0: BatchedInferencePipeline
    hub: bool = False


@dataclass
class LoadedModel:
    """A ready WhisperModel (and its batched pipeline when configured)."""

    choice: ModelChoice
    model: Any
    batched: Any = None


_MODELS: dict[tuple[str, str, str], Any] = {}
_LOADED: dict[ModelChoice, LoadedModel] = {}
_LOCK = threading.Lock()


def cuda_available() -> bool:
    """Whether CTranslate2 sees a CUDA device."""
    import ctranslate2

    try:
        return ctranslate2.get_cuda_device_count() > 0
    except RuntimeError:
        return False


def device_for(config: Mapping[str, Any]) -> str:
    """The configured device, with "auto" settled for this machine."""
    device = config["device"]
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    return device


def choose(config: Mapping[str, Any]) -> ModelChoice:
    """The model choice for this machine; raises ModelMissing (with the install hint) when absent."""
    device = device_for(config)
    section = config[device]
    name = section["name"]
    try:
        source = source_of(name)
    except ModelMissing:
        if not section.get("fallback"):
            raise
        _warn_fallback(name, device, section["fallback"])
        name = section["fallback"]
        source = source_of(name)
    return ModelChoice(name, source, device, section["compute_type"], int(section["threads"]),
                       int(section["batch_size"]), name.startswith(HUB_PREFIX))


@lru_cache(maxsize=None)
def _warn_fallback(name: str, device: str, fallback: str) -> None:
    """Say once per process that a configured model is absent and which one stands in."""
    log.warning("speech model %s is not installed; %s uses %s instead", name, device, fallback)


def resolve(config: Mapping[str, Any]) -> str:
    """The local model folder (or explicit hub id) the config selects on this machine."""
    return choose(config).source


def source_of(name: str) -> str:
    """Where model `name` is: a hub id (explicit `hub:` only), else an installed local folder."""
    if name.startswith(HUB_PREFIX):
        return name[len(HUB_PREFIX):]
    if name in store.names():
        if store.is_installed(name):
            return str(store.model_dir(name))
        raise ModelMissing(f"speech model '{name}' is not installed in {store.model_dir(name)}: {store.INSTALL_HINT}")
    path = Path(name).expanduser()
    folder = path if path.is_absolute() or "/" in name else store.store_dir() / name
    if (folder / "model.bin").is_file():
        return str(folder)
    raise ModelMissing(f"speech model folder {folder} has no model.bin: {store.INSTALL_HINT}, "
                       f"or put a CTranslate2 Whisper model there")


def forbidden() -> bool:
    """Whether this process may not load a model (FORBID_ENV set to a non-empty value)."""
    return bool(os.environ.get(FORBID_ENV))


def refuse_if_forbidden(what: str) -> None:
    """Raise ModelForbidden when `forbidden()`; record the refusal in FORBID_ENV's file when it names one."""
    value = os.environ.get(FORBID_ENV, "")
    if not value:
        return
    message = f"loading {what} refused: {FORBID_ENV} is set (a test not marked `model`)"
    if os.path.isabs(value):
        with open(value, "a", encoding="utf-8") as record:
            record.write(f"pid {os.getpid()}: {message}\n")
    raise ModelForbidden(message)


def load(config: Mapping[str, Any]) -> LoadedModel:
    """The loaded model for `config`; one WhisperModel per process per (source, device, precision).

    Refused (ModelForbidden) before any cache lookup when `forbidden()`.
    """
    refuse_if_forbidden("the Whisper model")
    choice = choose(config)
    with _LOCK:
        if choice not in _LOADED:
            key = (choice.source, choice.device, choice.compute_type)
            if key not in _MODELS:
                _MODELS[key] = _create(choice)
            _LOADED[choice] = LoadedModel(choice, _MODELS[key], _batched(_MODELS[key], choice))
        return _LOADED[choice]


def _create(choice: ModelChoice) -> Any:
    refuse_if_forbidden(f"Whisper model {choice.name}")
    from faster_whisper import WhisperModel

    log.info("loading %s (%s) on %s/%s", choice.name, choice.source, choice.device, choice.compute_type)
    return WhisperModel(choice.source, device=choice.device, compute_type=choice.compute_type,
                        cpu_threads=choice.threads, num_workers=1, local_files_only=not choice.hub,
                        download_root=str(store.store_dir() / "hub") if choice.hub else None)


def _batched(model: Any, choice: ModelChoice) -> Any:
    from faster_whisper import BatchedInferencePipeline

    return BatchedInferencePipeline(model) if choice.batch_size > 0 else None
