"""Typed settings: every YAML file under config/ validated on load, each error naming the file and the key path."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from console import settings as console_settings
from pipelines import profile as profiles
from pipelines.errors import ProfileError
from pipelines.media import limits
from workers import serviceconfig


def _yaml(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _refused(load, *words: str) -> str:
    with pytest.raises(ProfileError) as err:
        load()
    message = str(err.value)
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize("data, words", [
    ({"video": {"fps": True}}, ["video.fps", "must be float, got bool"]),
    ({"video": {"width": True}}, ["video.width", "must be int, got bool"]),
    ({"video": {"width": 1920.5}}, ["video.width", "must be int, got float"]),
    ({"video": {"fps": None}}, ["video.fps", "must be float, got NoneType"]),
    ({"speech": {"enabled": 1}}, ["speech.enabled", "must be bool, got int"]),
    ({"lab": {"sheet": {"jpeg_quality": 101}}}, ["lab.sheet.jpeg_quality", "<= 100, got 101"]),
    ({"video": {"aspect": "wide"}}, ["video.aspect", "got 'wide'"]),
    ({"speech": {"transcribe": {"temperatures": []}}}, ["speech.transcribe.temperatures", "at least 1"]),
    ({"speech": {"transcribe": {"prompts": {"ja": 3}}}}, ["speech.transcribe.prompts.ja", "must be str"]),
    ({"package": {"categories": {"lesson": {"video": "v", "required": ["x"], "optional": []}}}},
     ["package.categories.lesson", "'v' must be required"]),
])
def test_a_profile_value_of_the_wrong_kind_or_range_is_named_with_its_key_and_file(tmp_path, data, words):
    path = _yaml(tmp_path / "mine.yaml", data)
    _refused(lambda: profiles.load(path), str(path), *words)


def test_every_bad_key_of_a_profile_is_named_at_once(tmp_path):
    path = _yaml(tmp_path / "mine.yaml", {"video": {"fps": 0, "fsp": 25}, "audio": {"required": "no"}})
    message = _refused(lambda: profiles.load(path), "video.fps' must be > 0, got 0", "unknown key 'video.fsp'",
                       "audio.required' must be bool")
    assert message.startswith(f"{path}: ") and message.count(str(path)) == 1, "the file is named once"


def test_a_value_quoted_in_an_error_is_shortened(tmp_path):
    path = _yaml(tmp_path / "mine.yaml", {"signal": {"black": {"severity": "x" * 5000}}})
    assert len(_refused(lambda: profiles.load(path), "signal.black.severity")) < 300


def test_a_foreign_language_option_over_a_malformed_language_list_is_a_profile_error(tmp_path):
    path = _yaml(tmp_path / "mine.yaml", {"languages": {"speech": "zh"}})
    _refused(lambda: profiles.load(path, ["en"]), str(path), "languages.speech' must be a list")


def test_a_submitted_profile_mapping_is_held_to_the_same_rules():
    _refused(lambda: profiles.from_snapshot({"video": {"fps": "25"}}, "x"), "job profile snapshot", "video.fps")
    _refused(lambda: profiles.from_snapshot({"safety": {"max_fps": 1}}, "x"), "unknown key 'safety'")
    assert profiles.from_snapshot({"video": {"fps": 30}}, "x").video.fps == 30


def test_sections_stay_valid_when_copied_with_a_change():
    video = profiles.load("micro-primary").video
    assert dataclasses.replace(video, fps=30).fps == 30
    with pytest.raises(ValidationError):
        dataclasses.replace(video, fps=-1)


def test_a_bad_profile_stops_the_cli_with_exit_4_before_any_video(tmp_path):
    from tests.test_cli import lessonqc

    video = tmp_path / "lesson.mp4"
    video.write_bytes(b"not read")
    path = _yaml(tmp_path / "bad.yaml", {"speech": {"ad": {"min_score": 2}}, "video": {"fps": -1}})
    proc = lessonqc("check", str(video), "--profile", str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for words in (str(path), "unknown key 'speech.ad'", "video.fps' must be > 0"):
        assert words in proc.stderr
    assert not (tmp_path / "out").exists(), "nothing was checked"


# --- the server's configuration (config/server.yaml + LESSONQC_SERVER_CONFIG) -----------------

def _server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: object) -> Path:
    path = _yaml(tmp_path / "server.yaml", data)
    monkeypatch.setenv(limits.SERVER_CONFIG_ENV, str(path))
    return path


@pytest.mark.parametrize("data, words", [
    ({"safety": {"max_fps": 0}}, ["safety.max_fps' must be > 0"]),
    ({"safety": {"max_fps": True}}, ["safety.max_fps' must be int"]),
    ({"safety": {"max_width": 7680.5}}, ["safety.max_width' must be int, got float"]),
    ({"safety": {"max_fsp": 1}}, ["unknown key 'safety.max_fsp'"]),
    ({"inputs": {"formats": "mp4"}}, ["inputs.formats' must be list"]),
    ({"profile_ceilings": {"lab.sheet.max_kept_tiles": -1}}, ["profile_ceilings.lab.sheet.max_kept_tiles", ">= 0"]),
])
def test_a_bad_server_override_is_named_with_its_file_and_key(tmp_path, monkeypatch, data, words):
    path = _server(tmp_path, monkeypatch, data)
    _refused(limits.server, str(path), *words)


def test_a_server_override_sets_only_what_it_names(tmp_path, monkeypatch):
    _server(tmp_path, monkeypatch, {"safety": {"max_fps": 120.5}})
    config = limits.server()
    assert config.safety.max_fps == 120.5 and config.safety.max_width == 7680
    assert config.inputs.protocols == ("file",)


def test_a_profile_may_lower_a_memory_cap_never_raise_it_above_a_lowered_ceiling(tmp_path, monkeypatch):
    _server(tmp_path, monkeypatch, {"profile_ceilings": {"onscreen.slides.max_read_scenes": 100}})
    lower = _yaml(tmp_path / "lower.yaml", {"onscreen": {"slides": {"max_read_scenes": 50}}})
    higher = _yaml(tmp_path / "higher.yaml", {"onscreen": {"slides": {"max_read_scenes": 150}}})
    assert profiles.load(lower).onscreen.slides.max_read_scenes == 50
    _refused(lambda: profiles.load(higher), str(higher), "'onscreen.slides.max_read_scenes' is 150", "ceiling 100")
    _refused(lambda: profiles.load("micro-primary"), "ceiling 100")  # a built-in profile is held to it too


# --- the service (config/service.yaml + LESSONQC_SERVICE_CONFIG) and the console --------------

@pytest.fixture
def fresh_service():
    serviceconfig.load.cache_clear()
    yield
    serviceconfig.load.cache_clear()


@pytest.mark.parametrize("data, words", [
    ({"service": {"paging": {"max_limit": 0}}}, ["service.paging.max_limit' must be >= 1"]),
    ({"service": {"callbacks": {"retries": 2.5}}}, ["service.callbacks.retries' must be int, got float"]),
    ({"service": {"uploads": {"max_bytes": False}}}, ["service.uploads.max_bytes' must be int"]),
    ({"service": {"uplods": {}}}, ["unknown key 'service.uplods'"]),
])
def test_a_bad_service_override_is_named_with_its_file_and_key(tmp_path, monkeypatch, fresh_service, data, words):
    path = _yaml(tmp_path / "service.yaml", data)
    monkeypatch.setenv(serviceconfig.CONFIG_ENV, str(path))
    _refused(serviceconfig.load, str(path), *words)


def test_service_settings_take_the_override_and_the_environment(tmp_path, monkeypatch, fresh_service):
    path = _yaml(tmp_path / "service.yaml", {"service": {"paging": {"max_limit": 20},
                                                         "callbacks": {"allowed_hosts": ["Hooks.Example.org"]}}})
    monkeypatch.setenv(serviceconfig.CONFIG_ENV, str(path))
    monkeypatch.setenv(serviceconfig.HOSTS_ENV, " Other.example.org ,")
    monkeypatch.setenv(serviceconfig.PUBLIC_URL_ENV, "https://qc.example.org")
    settings = serviceconfig.load()
    assert (settings.paging.max_limit, settings.paging.default_limit) == (20, 50)
    assert settings.callbacks.allowed_hosts == ("hooks.example.org", "other.example.org")
    assert settings.public_url == "https://qc.example.org"


@pytest.mark.parametrize("change, words", [
    (lambda c: c.update(display_timezone="Mars/Olympus"), ["console.display_timezone", "unknown time zone"]),
    (lambda c: c["lockout"].pop("minutes"), ["missing key 'console.lockout.minutes'"]),
    (lambda c: c["argon2"].update(time_cost=0), ["console.argon2.time_cost' must be >= 1"]),
    (lambda c: c.update(secure_cookies="yes"), ["console.secure_cookies' must be bool"]),
])
def test_a_bad_console_file_is_named_with_its_key(tmp_path, monkeypatch, change, words):
    data = yaml.safe_load((console_settings.CONFIG_DIR / "console.yaml").read_text(encoding="utf-8"))
    change(data["console"])
    _yaml(tmp_path / "console.yaml", data)
    monkeypatch.setattr(console_settings, "CONFIG_DIR", tmp_path)
    _refused(console_settings.load, str(tmp_path / "console.yaml"), *words)


def test_every_built_in_settings_file_loads():
    assert {name: profiles.load(name).name for name in profiles.available()} == {
        "lab": "lab", "micro-primary": "micro-primary", "micro-secondary": "micro-secondary"}
    assert console_settings.load().max_page_size >= console_settings.load().page_size
    serviceconfig.load.cache_clear()
    assert serviceconfig.load().paging.default_limit <= serviceconfig.load().paging.max_limit
