"""The wake word, heard on the device: microWakeWord models that ship inside the
`pymicro-wakeword` wheel (with its own TensorFlow Lite runtime), so nothing is
downloaded. About 2 ms of one core per second of audio on this machine."""

from __future__ import annotations

from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

# The names a user passes to --wake-word, and the phrase each model listens for.
WAKE_WORDS: dict[str, Model] = {
    "okay_nabu": Model.OKAY_NABU,
    "hey_jarvis": Model.HEY_JARVIS,
    "hey_mycroft": Model.HEY_MYCROFT,
    "alexa": Model.ALEXA,
}
DEFAULT_WAKE_WORD = "okay_nabu"
# Lower than the model's own 0.85: on the corpus voices it hears the wake word in 87 %
# of trials against 64 % (quiet, far and noisy together), and neither woke falsely
# once in an hour of other speech (python -m eval.wake; README "The smart speaker").
DEFAULT_CUTOFF = 0.5
# After a detection the model's averaged probability stays high for a few windows:
# one wake word is one wake, not several.
REFRACTORY_SECONDS = 1.5
_FEATURE_SECONDS = 0.01  # the frontend gives one feature vector per 10 ms


class WakeWord:
    """Feed 16 kHz 16-bit mono PCM in pieces; `feed` says whether the wake word
    ended in this piece. Not thread-safe: one interpreter, used from one thread."""

    def __init__(self, name: str = DEFAULT_WAKE_WORD, cutoff: float = DEFAULT_CUTOFF) -> None:
        if name not in WAKE_WORDS:
            raise ValueError(f"unknown wake word {name!r}; choose one of {', '.join(WAKE_WORDS)}")
        self.name = name
        self._model = MicroWakeWord.from_builtin(WAKE_WORDS[name])
        self._features = MicroWakeWordFeatures()
        self.phrase: str = self._model.wake_word
        self.cutoff = cutoff  # lower hears more, and wakes falsely more
        self._quiet_for = 0.0  # seconds of features still to ignore after a detection

    def feed(self, pcm: bytes) -> bool:
        heard = False
        for features in self._features.process_streaming(pcm):
            probability = self._model.process_streaming_prob(features) or 0.0
            if self._quiet_for > 0:
                self._quiet_for -= _FEATURE_SECONDS
            elif probability > self.cutoff:
                heard = True
                self._quiet_for = REFRACTORY_SECONDS
        return heard
