"""Text to speech with Piper and the en_US-joe-medium voice, one clause at a time
so the first words can play while the rest is still being made."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import platform
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from piper.config import SynthesisConfig

from speech.audio import Audio, from_float
from speech.models import cache_dir, piper_voice

LONGEST_CLAUSE = 14  # words: Piper's time and memory grow with what it says at once


def clauses(text: str, first_max_words: int = 8) -> Iterator[str]:
    """Sentences, long ones cut at commas: the first sound comes sooner when the
    first piece is short (a long first sentence is cut at its first comma), and
    no piece is so long that synthesizing it needs a large buffer (later ones
    are cut into runs of comma-separated parts of up to LONGEST_CLAUSE words)."""
    sentences = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p.strip()]
    for index, sentence in enumerate(sentences):
        parts = [p.strip() for p in re.split(r"(?<=,)\s+", sentence)]
        if index == 0 and len(sentence.split()) > first_max_words and len(parts) > 1:
            yield parts.pop(0)
        yield from _runs(parts, LONGEST_CLAUSE)


def _runs(parts: list[str], most: int) -> Iterator[str]:
    """Consecutive parts joined while the run stays within `most` words."""
    run: list[str] = []
    for part in parts:
        if run and len(" ".join([*run, part]).split()) > most:
            yield " ".join(run)
            run = []
        run.append(part)
    if run:
        yield " ".join(run)


class PiperTTS:
    def __init__(self, cache: Path | None = None) -> None:
        from piper import PiperVoice
        from piper.config import PiperConfig
        from piper.voice import ESPEAK_DATA_DIR

        model, config = piper_voice()
        self.voice_name = model.stem  # en_US-joe-medium
        self.voice = PiperVoice(
            config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
            session=onnx_session(model, cache or cache_dir()),
            espeak_data_dir=Path(ESPEAK_DATA_DIR),
            download_dir=Path.cwd(),  # Piper only downloads when asked to: never here
        )
        self.rate = self.voice.config.sample_rate

    def synthesize_now(self, text: str, *, steady: bool = False) -> Audio:
        """``steady`` turns off the voice's random variation: the same text then gives
        the same audio, which test and evaluation corpora need."""
        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if steady else None
        chunks = [chunk.audio_float_array for chunk in self.voice.synthesize(text, config)]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return Audio(from_float(samples), self.rate)

    async def stream(self, text: str) -> AsyncIterator[Audio]:
        """Audio per clause, each made in a worker thread."""
        for clause in clauses(text):
            yield await asyncio.to_thread(self.synthesize_now, clause)


def onnx_session(model: Path, cache: Path) -> Any:
    """An ONNX Runtime session for the voice. Most of a plain load is spent optimizing
    the graph, so the optimized graph is kept in the cache and later loads skip that
    step (start-up is part of the latency budget). The optimized file suits only the
    runtime version and CPU that made it, so both are in its name."""
    import onnxruntime

    stat = model.stat()
    machine = hashlib.blake2b(digest_size=6)
    for part in (onnxruntime.__version__, platform.machine(), _cpu_flags(), stat.st_size):
        machine.update(str(part).encode())
    optimized = cache / "onnx" / f"{model.stem}-{machine.hexdigest()}.onnx"
    providers = ["CPUExecutionProvider"]
    if optimized.exists():
        options = _session_options()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        with contextlib.suppress(Exception):  # unreadable: make it again below
            return onnxruntime.InferenceSession(str(optimized), options, providers=providers)
    options = _session_options()
    staging = optimized.with_suffix(f".{os.getpid()}.tmp")
    try:
        optimized.parent.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(staging)
    except OSError:
        pass  # a cache that cannot be written only makes the next start slower
    session = onnxruntime.InferenceSession(str(model), options, providers=providers)
    with contextlib.suppress(OSError):
        staging.replace(optimized)  # atomic: a half-written graph is never loaded
    return session


def _session_options() -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # no warning that the saved graph is CPU-specific
    # Memory patterns pre-plan buffers per input shape; every clause has a new
    # length, so they only pile up (50 MB over a few replies, no faster).
    options.enable_mem_pattern = False
    return options


def _cpu_flags() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    return next((line for line in info.splitlines() if line.startswith("flags")), "")
