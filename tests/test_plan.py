"""The job plan: the embedded check's one task, speech running alongside the decode, the same speech audio."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from pipelines import plan, registry
from pipelines import profile as profiles
from pipelines.check import check
from pipelines.domain import StageOutput
from pipelines.frames import Frame, FrameConsumer
from pipelines.media import decode, faults
from pipelines.media.probe import probe
from pipelines.speech.windows import read_wav
from pipelines.stages import AudioStage, FrameStage, StageContext
from testmedia import cached, clips


@pytest.fixture(scope="session")
def speech_clip(media_cache: Path) -> Path:
    return cached(media_cache, "plan-speech-6s.mp4", clips.clip, 6.0)


class Listen(AudioStage):
    """Says when it started; reports how much audio it got."""

    name = "listen"

    def __init__(self) -> None:
        self.started = threading.Event()

    def analyse(self, wav: Path, ctx: StageContext) -> StageOutput:
        self.started.set()
        return StageOutput(metrics={"samples": int(read_wav(wav).size)})


class WaitConsumer(FrameConsumer):
    """On its first frame, waits (during the decode) for the audio stage to start."""

    name = "wait"

    def __init__(self, audio_started: threading.Event) -> None:
        self.audio_started = audio_started
        self.overlapped: bool | None = None

    def consume(self, frame: Frame) -> None:
        if self.overlapped is None:
            self.overlapped = self.audio_started.wait(60)

    def finish(self) -> StageOutput:
        return StageOutput(metrics={"overlapped": self.overlapped})


class Wait(FrameStage):
    name = "wait"

    def __init__(self, listen: Listen) -> None:
        self.listen = listen

    def consumer(self, ctx: StageContext) -> FrameConsumer:
        return WaitConsumer(self.listen.started)


def test_the_embedded_plan_is_one_signal_task_carrying_every_stage(speech_clip: Path):
    profile = profiles.load("micro-primary")
    listen = Listen()
    tasks = plan.plan(probe(speech_clip, profile).media, profile, {"wait": Wait(listen), "listen": listen},
                      plan.Layout())
    assert [(t.key, t.stages) for t in tasks] == [("signal", ("signal", "wait", "listen"))]
    builtin = plan.plan(probe(speech_clip, profile).media, profile, registry.all_stages(), plan.Layout())
    assert len(builtin) == 1 and set(builtin[0].stages) == {"signal", "speech", "onscreen", "fingerprint", "soundprint"}


def test_audio_stages_run_while_the_picture_is_decoded(speech_clip: Path, tmp_path: Path):
    """The frame consumer holds the decode until the audio stage has started: it starts during the decode."""
    listen = Listen()
    report = check(speech_clip, profiles.load("micro-primary"), tmp_path, stages=[Wait(listen), listen])
    assert report.metrics["wait"] == {"overlapped": True}
    assert report.metrics["listen"]["samples"] == pytest.approx(6.0 * 16000, abs=1600)
    assert {k: v.status for k, v in report.stages.items()} == {"probe": "ok", "signal": "ok", "wait": "ok",
                                                               "listen": "ok"}


def test_the_audio_only_decode_gives_the_shared_decodes_speech_audio(speech_clip: Path, tmp_path: Path):
    profile = profiles.load("micro-primary")
    media = probe(speech_clip, profile).media
    faults.run_signal(speech_clip, media, profile, tmp_path, wav_out=tmp_path / "shared.wav")
    alone = read_wav(decode.extract_audio(speech_clip, tmp_path / "alone.wav"))
    shared = read_wav(tmp_path / "shared.wav")
    assert alone.size > 5 * 16000 and np.abs(alone).max() > 0.05  # real speech, not silence
    assert np.array_equal(alone, shared)


class Deaf(AudioStage):
    name = "deaf"

    def analyse(self, wav: Path, ctx: StageContext) -> StageOutput:
        raise RuntimeError("model crashed")


def test_an_audio_stage_failing_beside_the_decode_is_isolated(speech_clip: Path, tmp_path: Path):
    listen = Listen()
    report = check(speech_clip, profiles.load("micro-primary"), tmp_path, stages=[Deaf(), listen])
    assert report.stages["deaf"].status == "error" and "model crashed" in report.stages["deaf"].error
    assert report.stages["signal"].status == "ok" and report.stages["listen"].status == "ok"
    assert report.verdict in ("review", "fail") and "signal" in report.metrics
