"""Shared fixtures: a session-wide cache folder for generated media."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def media_cache() -> Path:
    """Generated media lives here for the whole session (outside git)."""
    root = Path(os.environ.get("LESSONQC_TEST_CACHE", Path(__file__).resolve().parent.parent / ".cache" / "test-media"))
    root.mkdir(parents=True, exist_ok=True)
    return root
