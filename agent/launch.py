"""The ``lifeos`` command's entry point, kept apart from agent.cli so that
``lifeos serve`` can start loading its models before the command line module and
everything it imports (the web stack, the database layer) are read."""

from __future__ import annotations

import logging
import os
import sys


def main() -> None:
    # Everything the service writes (the database, its WAL, the signing secret,
    # invoice PDFs, caches) is for its own user only; explicit modes back this up
    # where the service is started some other way (agent.bootstrap.secure_data_dir).
    os.umask(0o077)
    if sys.argv[1:2] != ["serve"] or "--help" in sys.argv:
        _run_command()
        return
    from agent import preload

    if not _several_workers(sys.argv[2:]):  # each worker loads its own models instead
        preload.start()
    code = 0
    try:
        _run_command()
    except SystemExit as exit_:
        code = _exit_code(exit_.code)
    except BaseException:
        logging.getLogger("lifeos").exception("lifeos serve failed")
        code = 1
    finally:
        # A model may still be loading in native code (the service stopped early or
        # never started): interpreter shutdown would abort under it, so leave now,
        # with the service's own shutdown done and the output flushed.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run_command() -> None:
    from agent.cli import main as run_command

    run_command()


def _several_workers(args: list[str]) -> bool:
    for i, arg in enumerate(args):
        value = arg.partition("=")[2] if arg.startswith("--workers=") else None
        if arg == "--workers" and i + 1 < len(args):
            value = args[i + 1]
        if value is not None:
            return value.strip() not in ("", "1")
    return False


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
