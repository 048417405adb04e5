"""Load the speech model once per worker process, before the worker takes any message."""
from __future__ import annotations

import logging
import os
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from pipelines import profile as profiles

log = logging.getLogger(__name__)
SPEECH_QUEUE = "speech"
PROFILE_ENV = "LESSONQC_WARM_PROFILE"


class ModelWarmup(Middleware):
    """Warms the speech model in processes whose worker serves the speech queue (or every queue).

    `before_worker_boot` runs once per worker process, after `process_boot`, and is the
    first hook that knows which queues the process serves (`dramatiq --queues`).
    """

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        queues = worker.consumer_whitelist
        if queues is None or SPEECH_QUEUE in queues:
            warm_speech_model()


def warm_speech_model(profile_name: str | None = None) -> bool:
    """Load the model the profile's `speech.model` names into the per-process cache; never raises.

    Skipped when model loading is forbidden (tests not marked `model`): the speech stage still refuses.
    """
    from models import loader

    if loader.forbidden():
        log.info("%s is set: no speech model warm-up", loader.FORBID_ENV)
        return False
    try:
        profile = profiles.load(profile_name or os.environ.get(PROFILE_ENV) or "micro-primary")
        loaded = loader.load(profile.speech.model.to_dict())
        log.info("speech model %s ready on %s", loaded.choice.name, loaded.choice.device)
        return True
    except Exception:  # noqa: BLE001 - warm-up is an optimisation; the speech stage reports real faults
        log.warning("speech model warm-up failed; the speech stage will load it itself", exc_info=True)
        return False
