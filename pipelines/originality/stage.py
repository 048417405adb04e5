"""The two fingerprint stages: picture hashes ride the shared frame stream, Chromaprint the audio decode.

Neither reports a finding: they leave their prints as artifacts, which the report step
(pipelines/originality/cross.py) matches against the index and the index keeps.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines import tools
from pipelines.domain import StageOutput
from pipelines.frames import Frame, FrameConsumer
from pipelines.originality import config, prints
from pipelines.originality.config import Picture
from pipelines.originality.phash import frame_hashes
from pipelines.originality.sound import chromaprint
from pipelines.profile import Profile
from pipelines.stages import AudioStage, FrameStage, StageContext


class PictureConsumer(FrameConsumer):
    """Hashes every frame of the stream (about a millisecond each); writes them at the end."""

    name = "fingerprint"

    def __init__(self, cfg: Picture, workdir: Path, step_s: float):
        self.cfg, self.workdir, self.step_s = cfg, workdir, step_s
        self.hashes: list[int] = []
        self.mirrored: list[int] = []

    def consume(self, frame: Frame) -> None:
        h, m = frame_hashes(frame.image, self.cfg)
        self.hashes.append(h)
        self.mirrored.append(m)

    def finish(self) -> StageOutput:
        path = prints.write_picture(self.workdir, self.hashes, self.mirrored, self.step_s)
        hashed = sum(1 for h in self.hashes if h)
        return StageOutput(metrics={"frames": len(self.hashes), "hashed": hashed, "step_s": self.step_s},
                           artifacts={prints.PICTURE_ARTIFACT: str(path)})


class PictureStage(FrameStage):
    """64-bit perceptual hashes of the shared frame stream."""

    name = "fingerprint"

    def consumer(self, ctx: StageContext) -> FrameConsumer:
        folder = ctx.workdir / f"fingerprint-{ctx.start_s:.0f}"
        folder.mkdir(parents=True, exist_ok=True)
        return PictureConsumer(config.load().picture, folder, 1.0 / self.frame_spec(ctx.profile).fps)

    def merge(self, parts: list[StageOutput], ctx: StageContext) -> StageOutput:
        """Segments' hashes end to end, in time order (the parts come in order)."""
        loaded = [prints.read_picture(Path(p.artifacts[prints.PICTURE_ARTIFACT])) for p in parts]
        hashes = [int(h) for part in loaded for h in part[0]]
        mirrored = [int(h) for part in loaded for h in part[1]]
        path = prints.write_picture(ctx.workdir, hashes, mirrored, loaded[0][2])
        return StageOutput(metrics={"frames": len(hashes), "hashed": sum(1 for h in hashes if h),
                                    "step_s": loaded[0][2]}, artifacts={prints.PICTURE_ARTIFACT: str(path)})


class SoundStage(AudioStage):
    """Chromaprint values of the 16 kHz audio (fpcalc)."""

    name = "soundprint"

    def preflight(self, profile: Profile) -> None:
        tools.which("fpcalc")

    def analyse(self, wav: Path, ctx: StageContext) -> StageOutput:
        values = chromaprint(wav, config.load().sound.timeout_s)
        folder = ctx.workdir / f"soundprint-{ctx.start_s:.0f}"
        folder.mkdir(parents=True, exist_ok=True)
        path = prints.write_sound(folder, values)
        return StageOutput(metrics={"values": int(len(values))}, artifacts={prints.SOUND_ARTIFACT: str(path)})

    def merge(self, parts: list[StageOutput], ctx: StageContext) -> StageOutput:
        values = np.concatenate([prints.read_sound(Path(p.artifacts[prints.SOUND_ARTIFACT])) for p in parts])
        path = prints.write_sound(ctx.workdir, values)
        return StageOutput(metrics={"values": int(len(values))}, artifacts={prints.SOUND_ARTIFACT: str(path)})
