"""Profiles: every threshold in YAML, validated on load (unknown key / wrong type named with its file)."""
from __future__ import annotations

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
