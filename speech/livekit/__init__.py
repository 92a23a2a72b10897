"""Our speech engines behind livekit-agents' own interfaces (STT, TTS, VAD, LLM),
so an `AgentSession` runs the same Whisper, Piper, Silero turn ending and assistant
as the voice socket and the phone line. Only this package and the worker import
livekit; the core never does (an import-linter contract keeps it so)."""
