"""The media factory: one file per spec (digest in the name), written atomically."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from testmedia import cached

CALLS: list[tuple[str, int]] = []


def _bytes(out: Path, text: str, repeat: int = 1) -> Path:
    CALLS.append((text, repeat))
    out.write_bytes((text * repeat).encode())
    return out


def _broken(out: Path) -> Path:
    out.write_bytes(b"half a file")
    raise RuntimeError("generator failed")


def test_one_file_per_spec_and_a_changed_spec_gets_a_new_file(tmp_path):
    CALLS.clear()
    first = cached(tmp_path, "x.bin", _bytes, "ab", repeat=2)
    again = cached(tmp_path, "x.bin", _bytes, "ab", repeat=2)
    edited = cached(tmp_path, "x.bin", _bytes, "ab", repeat=3)
    assert first == again and CALLS == [("ab", 2), ("ab", 3)], "generated once per spec"
    assert edited != first and edited.read_bytes() == b"ababab" and first.read_bytes() == b"abab"
    assert first.name.startswith("x-") and first.suffix == ".bin"


def test_a_failed_generator_leaves_nothing_behind(tmp_path):
    with pytest.raises(RuntimeError):
        cached(tmp_path, "y.bin", _broken)
    assert list(tmp_path.iterdir()) == []


def test_two_writers_at_once_both_get_the_whole_file(tmp_path):
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(cached(tmp_path, "z.bin", _bytes, "z", 100_000)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and results[0].read_bytes() == b"z" * 100_000
    assert [p.name for p in tmp_path.iterdir()] == [results[0].name], "no temporary file left"
