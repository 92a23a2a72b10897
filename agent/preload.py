"""Loading the models while the rest of the service starts.

Start-up is mostly two kinds of work: importing the web stack and the database
layer (Python, one core at a time) and loading Whisper and Piper (mostly native
code that leaves the interpreter free), then spaCy and dateparser. `lifeos serve`
starts the second on background threads before it even imports the first, so on
two cores they overlap; the service awaits the result when it warms up.

Nothing heavy is imported at module level: importing this module must stay cheap.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import Future
from typing import Any

from speech.models import DEFAULT_WHISPER_MODEL, DEFAULT_WINDOW, WHISPER_MODELS

_jobs: dict[tuple[str, int], Future[Any]] = {}
_lock = threading.Lock()


def start() -> None:
    """Begin loading what this process's settings ask for, on background threads.

    The settings are read straight from the environment: building `Settings` means
    importing the database layer first. A value that does not parse starts nothing,
    and the command reports it; whatever is preloaded is only used if the real
    settings ask for the same thing."""
    model = os.environ.get("LIFEOS_WHISPER_MODEL", DEFAULT_WHISPER_MODEL)
    try:
        window = int(os.environ.get("LIFEOS_WHISPER_WINDOW_SECONDS", DEFAULT_WINDOW))
    except ValueError:
        return
    voice = voice_models(model, window) if model in WHISPER_MODELS else None
    threading.Thread(
        target=_language_models, args=(voice,), name="preload-language", daemon=True
    ).start()


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


def _language_models(after: Future[Any] | None) -> None:
    """spaCy and dateparser: mostly Python, so they wait for the voice models
    rather than fight them and the web stack's imports for the interpreter."""
    if after is not None:
        with contextlib.suppress(BaseException):
            after.result()
    # A failure here is not reported: the service's own warm-up loads them again
    # (or finds them loaded) and says what went wrong.
    with contextlib.suppress(Exception):
        from intents.entities import spacy_model
        from intents.temporal import warm_up

        spacy_model()
        warm_up()


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

    stt = WhisperSTT(model, window=window if window < 30 else None)
    tts = PiperTTS()
    from speech.pipeline import phrase_cache  # imports pipecat: after the native loads

    phrases = phrase_cache(tts)
    stt.transcribe_now(Audio(next(iter(phrases.values())).resampled(16000).pcm, 16000))
    return stt, tts, phrases
