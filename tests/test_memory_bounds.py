"""Memory stays bounded on a long video that cuts every second (issue #11).

What grows with the length must be small records; pictures and log lines are bounded by
configuration: the on-screen tracker's kept pictures (`onscreen.slides.max_read_scenes`) and
repeat candidates (`repeat_window`), the lab stage's kept tiles (`lab.sheet.max_kept_tiles`)
and the tail of ffmpeg's log (server `safety.log_tail_lines`). Here the bounds are set small
and a generated video with more scenes than that runs through the shared decode.
"""
from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipelines import check, plan
from pipelines import profile as profiles
from pipelines import stages
from pipelines.domain import AudioInfo, Media, VideoInfo
from pipelines.frames import Frame, FrameConsumer
from pipelines.lab.shots import ShotRules, partition_bests
from pipelines.lab.stage import LabStage, TileKeeper, shot_rules
from pipelines.media import decode, faults
from pipelines.media.limits import server
from pipelines.media.probe import probe
from pipelines.onscreen.stage import OnscreenStage
from testmedia import cached, cuts

MAX_READ, REPEAT_WINDOW, MAX_TILES, LOG_TAIL = 20, 5, 5, 50


@pytest.fixture
def bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> profiles.Profile:
    """A lab profile with small memory bounds, and a server keeping a short log tail."""
    server = tmp_path / "server.yaml"
    server.write_text(f"safety:\n  log_tail_lines: {LOG_TAIL}\n", encoding="utf-8")
    monkeypatch.setenv("LESSONQC_SERVER_CONFIG", str(server))
    path = tmp_path / "bounded.yaml"
    path.write_text("name: bounded\nlab:\n  enabled: true\n  sheet:\n"
                    f"    max_kept_tiles: {MAX_TILES}\n"
                    f"onscreen:\n  slides:\n    max_read_scenes: {MAX_READ}\n    repeat_window: {REPEAT_WINDOW}\n",
                    encoding="utf-8")
    return profiles.load(path)


class Watch(FrameConsumer):
    """Passes frames on to the stages' consumers and records, after each, what they hold."""

    name = "watch"

    def __init__(self, onscreen: FrameConsumer, lab: FrameConsumer):
        self.onscreen, self.lab = onscreen, lab
        self.most = {"pictures": 0, "reduced": 0, "tiles": 0}

    def consume(self, frame: Frame) -> None:
        self.onscreen.consume(frame)
        self.lab.consume(frame)
        closed = self.onscreen.tracker.scenes
        held = {"pictures": sum(s.png is not None for s in closed), "reduced": sum(s.small.size > 0 for s in closed),
                "tiles": len(self.lab.keeper.tiles) - len(self.lab.keeper.periods)}
        self.most = {k: max(v, held[k]) for k, v in self.most.items()}

    def finish(self):
        raise NotImplementedError


def test_a_video_that_cuts_every_second_keeps_bounded_pictures_and_log(media_cache, bounded, tmp_path, monkeypatch):
    path = cached(media_cache, "cuts-every-second-150s.mp4", cuts.cuts_every_second, 150)
    media = probe(path, bounded).media
    ctx = stages.StageContext(path, media, bounded, tmp_path)
    watch = Watch(OnscreenStage().consumer(ctx), LabStage().consumer(ctx))
    seen = []
    feed = faults.LogParser.feed
    monkeypatch.setattr(faults.LogParser, "feed", lambda parser, line: (seen.append(1), feed(parser, line)))
    signal = faults.run_signal(path, media, bounded, tmp_path, [watch], stages.shared_frame_spec(bounded))
    assert not signal.log.consumer_errors
    assert len(seen) > 10 * LOG_TAIL and len(signal.log.lines) == LOG_TAIL  # every line parsed, the tail kept
    onscreen, lab = watch.onscreen.finish().metrics, watch.lab.finish().metrics
    assert onscreen["scenes"] > 5 * MAX_READ and watch.most["pictures"] == onscreen["ocr_frames"] == MAX_READ
    assert onscreen["unread_scenes"] == onscreen["scenes"] - MAX_READ - onscreen["repeated_scenes"]
    assert watch.most["reduced"] <= REPEAT_WINDOW
    runs = partition_bests(np.array(watch.lab.track.columns["cut"]), np.array(watch.lab.track.columns["sharpness"]),
                           shot_rules(bounded.lab))
    assert len(runs) > 4 * MAX_TILES and watch.most["tiles"] <= MAX_TILES + 1 and lab["tiles_kept"] <= MAX_TILES + 1


def test_the_log_tail_follows_the_server_configuration(bounded, tmp_path):
    args = ["-hide_banner", "-f", "lavfi", "-i", "color=s=16x16:r=50:d=10", "-vf", "showinfo", "-f", "null", "-"]
    seen: list[str] = []
    plan = decode.DecodePlan(path=tmp_path / "unused", on_line=seen.append)
    result = decode.DecodeLog()
    proc = subprocess.Popen(["ffmpeg", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    decode._read_stderr(proc, result, plan)
    proc.wait()
    assert result.lines.maxlen == LOG_TAIL and len(seen) > 500 and list(result.lines) == seen[-LOG_TAIL:]


RULES = ShotRules(min_score=0.35, adaptive_ratio=2.5, window=3, min_shot_s=1.0)


def _keep(cut: list[float], limit: int, every_s: float = 1e9) -> TileKeeper:
    keeper = TileKeeper(every_s, 8, limit)
    sharpness = [float((i * 7) % 5) for i in range(len(cut))]
    for i, score in enumerate(cut):
        keeper.offer(i, i * 0.5, sharpness[i], math.isnan(score) or score >= RULES.min_score,
                     np.full((4, 8), i % 256, np.uint8))
        assert len(keeper.tiles) <= limit + 1 + len(keeper.periods)
    return keeper


def test_tile_keeper_keeps_the_longest_runs_as_the_offline_choice_does():
    lengths = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4]
    cut = [c for n in lengths for c in [0.9] + [0.0] * (n - 1)]
    cut[0] = math.nan
    sharpness = np.array([float((i * 7) % 5) for i in range(len(cut))])
    for limit in (3, 7, len(lengths)):
        keeper = _keep(cut, limit)
        offline = set(partition_bests(np.array(cut), sharpness, RULES, limit))
        assert offline <= set(keeper.tiles) and len(offline) == limit
    unbounded = _keep(cut, len(lengths))
    assert set(unbounded.tiles) == set(partition_bests(np.array(cut), sharpness, RULES)) | unbounded.periods


def test_tile_keeper_is_bounded_when_every_step_may_cut():
    keeper = _keep([math.nan] + [0.9] * 999, limit=25, every_s=60.0)
    assert len(keeper.periods) == math.ceil(1000 * 0.5 / 60) and len(keeper.tiles) <= 25 + 1 + len(keeper.periods)


def _media(duration_s: float) -> Media:
    video = VideoInfo("h264", 320, 180, "16:9", 2.0, False, None, "yuv420p", "progressive")
    return Media("mp4", duration_s, 1, None, video, AudioInfo("aac", 44100, 1, None))


@pytest.mark.parametrize("duration_s", [900.0, 3600.0, 14400.0])
def test_a_long_embedded_check_runs_speech_in_segments(duration_s):
    """Speech holds its audio in memory: past `safety.embedded_speech_segment_s` it runs in segments of that length."""
    media = _media(duration_s)
    tasks = plan.plan(media, profiles.load("lab"), check.stage_map(), check.layout(media))
    speech = [(t.start_s, t.length_s) for t in tasks if t.stages == ("speech",)]
    limit = server().safety.embedded_speech_segment_s
    if duration_s <= limit:
        assert len(tasks) == 1 and "speech" in tasks[0].stages and speech == []
    else:
        assert "speech" not in tasks[0].stages and {"onscreen", "lab"} <= set(tasks[0].stages)
        assert speech == [(i * limit, limit if (i + 1) * limit < duration_s else None)
                          for i in range(math.ceil(duration_s / limit))]
