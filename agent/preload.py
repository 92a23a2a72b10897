"""Loading the models while the rest of the service starts.

Start-up is mostly two kinds of work: importing the web stack and the database
layer (Python, one core at a time) and loading Whisper and Piper (mostly native
code that leaves the interpreter free). `lifeos serve` starts the second on a
background thread before it even imports the first, so on two cores they overlap;
the service awaits the result when it warms up, while it warms the grammar and
dateparser (mostly Python: run beside the imports, they would only slow both down).

Nothing heavy is imported at module level: importing this module must stay cheap.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from speech.models import DEFAULT_WHISPER_MODEL, DEFAULT_WINDOW, WHISPER_MODELS

_jobs: dict[tuple[str, int], Future[Any]] = {}
_lock = threading.Lock()
# Seconds each model took to load in this process, by name ("whisper tiny.en",
# "piper", "fixed phrases"), for the model load time metric.
load_seconds: dict[str, float] = {}


def start() -> None:
    """Begin loading the voice models this process's settings ask for.

    The settings are read straight from the environment: building `Settings` means
    importing the database layer first. A value that does not parse starts nothing,
    and the command reports it; whatever is preloaded is only used if the real
    settings ask for the same thing."""
    model = os.environ.get("LIFEOS_WHISPER_MODEL", DEFAULT_WHISPER_MODEL)
    try:
        window = int(os.environ.get("LIFEOS_WHISPER_WINDOW_SECONDS", DEFAULT_WINDOW))
    except ValueError:
        return
    if model in WHISPER_MODELS:
        voice_models(model, window)


def voice_models(model: str, window: int) -> Future[Any]:
    """Whisper, Piper and the fixed phrases, loaded once per process: the first
    call starts the work on a thread, every call gets the same future."""
    with _lock:
        job = _jobs.get((model, window))
        if job is not None:
            return job
        job = _jobs[(model, window)] = Future()
    threading.Thread(
        target=_fulfil, args=(job, model, window), name="load-voice-models", daemon=True
    ).start()
    return job


def _fulfil(job: Future[Any], model: str, window: int) -> None:
    try:
        job.set_result(load_voice_models(model, window))
    except BaseException as exc:  # the waiting service re-raises it
        job.set_exception(exc)


def load_voice_models(
    model: str = DEFAULT_WHISPER_MODEL, window: int = DEFAULT_WINDOW
) -> tuple[Any, Any, Any]:
    """Whisper, Piper and the fixed phrases, each run once so first use is fast."""
    from speech.logs import quiet_pipecat

    quiet_pipecat()  # before pipecat's import prints its banner
    from speech.audio import Audio
    from speech.stt import WhisperSTT
    from speech.tts import PiperTTS

    # Both loads are mostly native code that releases the GIL: on two cores, Piper
    # loads beside Whisper rather than after it.
    with ThreadPoolExecutor(1, thread_name_prefix="load-piper") as beside:
        piper = beside.submit(_timed, "piper", PiperTTS)
        stt = _timed(f"whisper {model}", WhisperSTT, model, window=window if window < 30 else None)
        tts = piper.result()
    from speech.pipeline import phrase_cache  # imports pipecat: after the native loads

    phrases = _timed("fixed phrases", phrase_cache, tts)
    stt.transcribe_now(Audio(next(iter(phrases.values())).resampled(16000).pcm, 16000))
    return stt, tts, phrases


def _timed(name: str, load: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    loaded = load(*args, **kwargs)
    load_seconds[name] = time.perf_counter() - started
    return loaded
