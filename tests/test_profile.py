"""Profiles: every threshold in YAML, validated on load (unknown key / wrong type named with its file)."""
from __future__ import annotations

import re

import pytest
import yaml

from pipelines import profile as profiles
from pipelines.errors import ProfileError


@pytest.mark.parametrize("name, lo, hi", [("micro-primary", 600, 900), ("micro-secondary", 900, 1200), ("lab", 2400, 2700)])
def test_builtin_profiles(name, lo, hi):
    p = profiles.load(name)
    assert (p.duration.min_s, p.duration.max_s) == (lo, hi)
    assert (p.video.width, p.video.height, p.video.fps) == (1920, 1080, 25.0)
    assert p.file.max_size_bytes == 1_000_000_000
    assert p.languages.speech == ["zh"]


def test_foreign_language_option_allows_english():
    p = profiles.load("micro-secondary", ["en"])
    assert p.allows_language("speech", "en") and p.allows_language("text", "en")
    assert not profiles.load("micro-secondary").allows_language("speech", "en")


def _write(tmp_path, data) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_user_profile_overrides_only_what_it_sets(tmp_path):
    p = profiles.load(_write(tmp_path, {"name": "mine", "video": {"fps": 30}}))
    assert p.name == "mine" and p.video.fps == 30 and p.video.width == 1920


@pytest.mark.parametrize("data, words", [
    ({"video": {"fsp": 30}}, ["video.fsp", "unknown key"]),
    ({"video": {"fps": "fast"}}, ["video.fps", "must be float"]),
    ({"video": 3}, ["video", "mapping"]),
    ({"audio": {"required": "yes"}}, ["audio.required", "bool"]),
    ({"duration": {"min_s": -1}}, ["duration.min_s", ">= 0"]),
    ({"duration": {"min_s": 1000, "max_s": 900}}, ["duration", "min_s must not exceed max_s"]),
    ({"speech": {"low_speech": {"review_below": 1.5}}}, ["speech.low_speech.review_below", "<= 1"]),
    ({"signal": {"black": {"severity": "warn"}}}, ["signal.black.severity", "one of info, review, fail"]),
    ({"video": {"codecs": ["h264", 3]}}, ["video.codecs[1]", "must be str"]),
    ({"speech": {"model": {"device": "tpu"}}}, ["speech.model.device", "one of auto, cpu, cuda"]),
    ({"onscreen": {"title_card": {"fields": {"x": {"labels": ["a"], "values": ["("]}}}}},
     ["onscreen.title_card.fields.x", "not a regular expression"]),
    ({"onscreen": {"title_card": {"fields": {"x": {"labels": ["a"]}}}}}, ["onscreen.title_card.fields.x.values", "missing"]),
    ({"farm": {"segment_s": 0}}, ["farm.segment_s", "> 0"]),
])
def test_bad_profile_names_key_and_file(tmp_path, data, words):
    path = _write(tmp_path, data)
    with pytest.raises(ProfileError) as err:
        profiles.load(path)
    for word in words + [path]:
        assert word in str(err.value)


def test_unknown_profile_lists_builtins():
    with pytest.raises(ProfileError, match="micro-primary"):
        profiles.load("no-such-profile")


def test_sections_are_typed_and_keep_values_as_written(tmp_path):
    p = profiles.load(_write(tmp_path, {"speech": {"transcribe": {"prompts": {"ja": "日本語"}}}}))
    assert isinstance(p.speech.low_speech.review_below, float) and p.speech.low_speech.review_below == 0.4
    assert p.duration.min_s == 600 and isinstance(p.duration.min_s, int), "an int stays an int (report values)"
    assert p.speech.transcribe.prompts["ja"] == "日本語", "a prompt per language is a mapping of its own"
    assert p.speech.model.to_dict()["cpu"]["name"] == p.data["speech"]["model"]["cpu"]["name"]
    assert p.onscreen.title_card.fields["学科"]["labels"][0] == "学科"
    with pytest.raises(Exception):
        p.speech.enabled = False  # frozen


def test_defaults_file_with_a_stray_key_is_named(tmp_path, monkeypatch):
    for path in profiles.DEFAULTS_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    frames = tmp_path / "frames.yaml"
    frames.write_text(frames.read_text(encoding="utf-8") + "  fsp: 3\n", encoding="utf-8")
    monkeypatch.setattr(profiles, "DEFAULTS_DIR", tmp_path)
    monkeypatch.setattr(profiles, "_DEFAULTS", None)
    with pytest.raises(ProfileError, match=r"frames\.yaml: unknown key 'frames\.fsp'"):
        profiles.defaults()


def test_a_yaml_error_names_file_and_line_but_never_echoes_its_text(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nvideo:\n  fps: [25\nsecret_token: hunter2\n", encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        profiles.load(path)
    message = str(err.value)
    assert str(path) in message and "line" in message
    assert "hunter2" not in message and "fps" not in message


def test_a_profile_cannot_raise_a_memory_cap_above_the_servers_ceiling(tmp_path):
    from pipelines.media.limits import server

    ceiling = server().ceilings["onscreen.slides.max_read_scenes"]
    lower, higher = tmp_path / "lower.yaml", tmp_path / "higher.yaml"
    lower.write_text(f"onscreen:\n  slides:\n    max_read_scenes: {int(ceiling) - 1}\n", encoding="utf-8")
    higher.write_text(f"onscreen:\n  slides:\n    max_read_scenes: {int(ceiling) * 100}\n", encoding="utf-8")
    assert profiles.load(lower).onscreen.slides.max_read_scenes == int(ceiling) - 1
    with pytest.raises(ProfileError, match=r"onscreen\.slides\.max_read_scenes.*ceiling"):
        profiles.load(higher)
    with pytest.raises(ProfileError, match="ceiling"):  # a snapshot a farm job carries is held to it too
        profiles.from_snapshot({"onscreen": {"slides": {"max_read_scenes": int(ceiling) * 100}}}, "x")


def test_settings_overlay_takes_known_keys_of_the_same_kind_only():
    from pipelines.settings.files import overlay

    base = {"safety": {"max_fps": 240, "min_width": 2.0, "name": "x", "on": True}}
    overlay(base, {"safety": {"max_fps": 120.5, "min_width": 4}}, "over.yaml")
    assert base["safety"]["max_fps"] == 120.5 and base["safety"]["min_width"] == 4
    for bad, words in [({"safety": {"max_fps": True}}, "safety.max_fps' must be int"),
                       ({"safety": {"on": 1}}, "safety.on' must be bool"),
                       ({"safety": {"name": 3}}, "safety.name' must be str"),
                       ({"safety": 5}, "safety' must be a mapping"),
                       ({"safety": {"max_fpz": 1}}, "unknown key 'safety.max_fpz'")]:
        with pytest.raises(ProfileError, match=re.escape(words)):
            overlay({"safety": {"max_fps": 240, "name": "x", "on": True}}, bad, "over.yaml")
