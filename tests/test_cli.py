"""The `lessonqc check` command: summary, --json, one folder per video, documented exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines import registry
from testmedia import cached
from testmedia.clips import clip

SKIP_ALL = ["--skip-stage", "speech", "--skip-stage", "onscreen", "--skip-stage", "lab", "--skip-stage", "fingerprint",
            "--skip-stage", "soundprint"]


def lessonqc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=300,
                          env=None if env is None else {**os.environ, **env})


@pytest.fixture(scope="module")
def small_profile(tmp_path_factory) -> Path:
    """Rules for 640x360 few-second clips, so a plain clip passes and one fault decides the verdict."""
    path = tmp_path_factory.mktemp("cli") / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "duration": {"min_s": 1, "max_s": 60},
                                    "video": {"width": 640, "height": 360, "bitrate_review_below": 1000000}}),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def clips(media_cache: Path) -> dict[str, Path]:
    return {"plain": cached(media_cache, "cli-plain.mp4", clip, 6.0),
            "lowrate": cached(media_cache, "cli-lowrate.mp4", clip, 6.0,
                              vcodec=["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "200k"]),
            "black": cached(media_cache, "cli-black.mp4", clip, 16.0, black_between=(3, 14))}


@pytest.mark.parametrize("clip, code, verdict", [("plain", 0, "PASS"), ("lowrate", 1, "REVIEW"), ("black", 2, "FAIL")])
def test_exit_code_per_verdict(clips, small_profile, tmp_path, clip, code, verdict):
    proc = lessonqc("check", str(clips[clip]), "--profile", str(small_profile), "--out", str(tmp_path), *SKIP_ALL)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert f"->  {verdict}" in proc.stdout and "report:" in proc.stdout
    assert (tmp_path / "report.html").is_file()


def test_summary_shows_code_and_time(clips, small_profile, tmp_path):
    proc = lessonqc("check", str(clips["black"]), "--profile", str(small_profile), "--out", str(tmp_path), *SKIP_ALL)
    line = next(row for row in proc.stdout.splitlines() if "signal.black" in row)
    assert "00:03-00:14" in line and "fail" in line


def test_json_output_and_one_folder_per_video(clips, small_profile, tmp_path):
    proc = lessonqc("check", str(clips["plain"]), str(clips["lowrate"]), "--profile", str(small_profile),
                    "--out", str(tmp_path), "--json", *SKIP_ALL)
    assert proc.returncode == 1, "the worst verdict decides the exit code"
    decoder = json.JSONDecoder()
    first, end = decoder.raw_decode(proc.stdout)
    second, _ = decoder.raw_decode(proc.stdout[end:].lstrip())
    assert (first["verdict"], second["verdict"]) == ("pass", "review")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"01-{clips['plain'].stem}", f"02-{clips['lowrate'].stem}"]
    skipped = {name for name, stage in first["stages"].items() if stage["status"] == "skipped"}
    assert skipped == set(registry.all_stages()), "every optional stage was skipped as asked"


@pytest.mark.parametrize("args", [["check", "x.mp4", "--profile", "no-such-profile"], ["check"], ["frobnicate"]])
def test_usage_errors_exit_4_without_traceback(args):
    proc = lessonqc(*args)
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("env, words", [
    ({"LESSONQC_MODEL_DIR": "/nonexistent/models"}, "lessonqc models install"),
    ({"LESSONQC_FFMPEG": "/nonexistent/ffmpeg"}, "ffmpeg not found"),
])
def test_missing_model_or_tool_stops_before_any_video_with_exit_4(clips, tmp_path, env, words):
    proc = lessonqc("check", str(clips["plain"]), "--out", str(tmp_path / "o"), env=env)
    assert proc.returncode == 4 and words in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists(), "nothing was checked"


def test_missing_ocr_engine_stops_before_any_video_with_exit_4(clips, tmp_path):
    """A PP-OCR package without its modules (here shadowed by an empty one) gives the install hint."""
    (tmp_path / "rapidocr_onnxruntime").mkdir()
    (tmp_path / "rapidocr_onnxruntime" / "__init__.py").write_text("", encoding="utf-8")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", str(Path(__file__).resolve().parent.parent))])
    proc = lessonqc("check", str(clips["plain"]), "--out", str(tmp_path / "o"), env={"PYTHONPATH": path})
    assert proc.returncode == 4 and "pip install --no-deps rapidocr-onnxruntime" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def test_check_and_submit_share_their_job_options():
    from cli import main as cli

    parser = cli.build_parser()
    shared = ["--profile", "lab", "--foreign-language", "en", "--skip-stage", "speech"]
    check_args = vars(parser.parse_args(["check", "a.mp4", *shared]))
    submit_args = vars(parser.parse_args(["submit", "a.mp4", *shared]))
    keys = ("profile", "foreign_language", "skip_stage")
    assert [check_args[k] for k in keys] == [submit_args[k] for k in keys] == ["lab", ["en"], ["speech"]]


def test_help_lists_every_command_on_one_line_each():
    from cli import main as cli

    proc = lessonqc("--help", env={"COLUMNS": "60"})
    assert proc.returncode == 0
    for name, parser in cli.commands().items():
        [line] = [row for row in proc.stdout.splitlines() if row.split()[:1] == [name]]
        assert len(line.split()) > 2, f"{name} has its one-line help: {line!r}"
    assert set(cli.commands()) >= {"check", "models", "submit", "status", "report", "worker", "sweep", "reindex",
                                   "serve", "tokens", "users"}


def test_closed_stdout_pipe_ends_quietly(tmp_path):
    """`lessonqc status | head`: the reader is gone; exit 141 (as a shell reports SIGPIPE), stderr stays empty."""
    env = {**os.environ, "LESSONQC_DATABASE_URL": f"sqlite:///{tmp_path / 'index.sqlite3'}"}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "reindex", "--reports", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # before the command printed anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""


def test_one_handler_maps_errors_to_exit_codes(capsys, monkeypatch):
    from pipelines.errors import InputUnreadable, ProfileError
    from cli import main as cli
    from workers import exitcodes

    monkeypatch.setenv("LESSONQC_MEDIA_ROOTS", "/")
    assert cli.main(["submit", "/no/such/lesson.mp4", "--profile", "no-such-profile"]) == exitcodes.USAGE
    assert capsys.readouterr().err.strip().splitlines() == [
        "lessonqc: unknown profile 'no-such-profile' (built-in: lab, micro-primary, micro-secondary)"]
    assert exitcodes.for_error(InputUnreadable("x")) == exitcodes.ERROR
    assert exitcodes.for_error(ProfileError("x")) == exitcodes.USAGE
    assert exitcodes.for_error(KeyError("x")) is None, "a bug stays an internal error (exit 5)"
    assert exitcodes.for_verdicts(["pass", "fail", "review"]) == exitcodes.FAIL
    assert exitcodes.for_verdicts(["error", "fail"]) == exitcodes.ERROR
