"""The trained parser's models: built once per version of the templates, then cached.

The cache folder is named by a hash of everything the models are made from (the
sentence templates, the values, the out-of-scope examples, the code that generates
and trains, CRFsuite's version), so changing a template trains anew at the next
start, and an unchanged tree never trains twice.

    uv run --frozen python -m intents.trained.build     # train now, print the figures
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from importlib.metadata import version
from pathlib import Path

from intents.grammar import SENTENCES
from intents.trained.model import TrainedModel

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SOURCES = (
    "data.py",
    "features.py",
    "train.py",
    "values.yaml",
    "out_of_scope.yaml",
    "paraphrases.yaml",
    "everyday.yaml",
)
STALE_DAYS = 14
_loading = threading.Lock()


def fingerprint(sentences: Path = SENTENCES) -> str:
    digest = hashlib.sha256(version("python-crfsuite").encode())
    files = sorted(sentences.rglob("*.yaml")) + [HERE / name for name in SOURCES]
    for path in files:
        digest.update(str(path.relative_to(path.parent.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lifeos" / "parser"


def load_or_build(root: Path | None = None) -> TrainedModel:
    """The models for this tree: from the cache, or trained into it (atomically)."""
    from intents.trained.train import build

    key = fingerprint()
    target = (root or cache_root()) / key
    if (target / "manifest.json").exists():
        os.utime(target / "manifest.json")  # in use: see _prune
        return TrainedModel(target)
    staging = target.with_name(f".{key}-{os.getpid()}-{threading.get_ident()}")
    log.info("training the local parser into %s", target)
    stats = build(staging, key)
    log.info("trained the local parser: %s", stats)
    try:
        staging.rename(target)
    except OSError:  # another process finished first: keep its copy
        shutil.rmtree(staging, ignore_errors=True)
    _prune(target.parent, keep=target)
    return TrainedModel(target)


def _prune(root: Path, keep: Path) -> None:
    """Drop builds for templates nobody has loaded for a while (~1 MB each); a build
    another checkout still uses is kept, since loading it marks it used."""
    cutoff = time.time() - STALE_DAYS * 86400
    for folder in root.iterdir():
        manifest = folder / "manifest.json"
        if folder != keep and manifest.exists() and manifest.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def shared_model() -> TrainedModel:
    """One copy per process, loaded (or trained) by whichever thread asks first."""
    with _loading:
        return _shared()


@functools.cache
def _shared() -> TrainedModel:
    return load_or_build()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = load_or_build()
    print(json.dumps({"folder": str(model.folder), **model.manifest}, indent=2))


if __name__ == "__main__":
    main()
