"""The default distillation corpus: the general corpus of :mod:`ternembed.data.general_corpus`.

It is built from the installed Debian text packages the first time it is needed (about 5 minutes on
2 cores) and cached as a ``ternembed corpus`` file with its manifest, so every later run reads the
same texts. The cache folder is ``$TERNEMBED_CACHE`` or ``~/.cache/ternembed``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ternembed.io.output_folder import current_umask

CACHE_ENV = "TERNEMBED_CACHE"
CORPUS_VERSION = 1
"""Bumped whenever the builder changes what it produces, so a stale cache is never reused."""


def cache_folder() -> Path:
    """Where built corpora are cached."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "ternembed")


def default_corpus_path() -> Path:
    """The cached general corpus file, built first if it is missing."""
    path = cache_folder() / f"general-corpus-v{CORPUS_VERSION}.txt"
    if path.is_file() and path.with_suffix(".json").is_file():
        return path
    from ternembed.data.general_corpus import build

    print(
        f"building the default training corpus once into {path} (about 5 minutes)...",
        file=sys.stderr,
        flush=True,
    )
    texts, report = build()
    if not texts:
        from ternembed.distill.corpus import CorpusError

        raise CorpusError(
            "the default corpus found no text: install the Debian packages wordnet-base, manpages and "
            "linux-doc (scripts/setup.sh does), or pass --data PATH"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = write_corpus(path, texts, report, max_texts=None, seed=0)
    print(f"wrote {path}: {manifest['texts']} texts, fingerprint {manifest['fingerprint']}", file=sys.stderr)
    return path


def write_corpus(
    path: Path, texts: list[str], report: Any, max_texts: int | None, seed: int
) -> dict[str, Any]:
    """Write ``texts`` one per line to ``path`` and the build's manifest to ``path.with_suffix('.json')``.

    ``report`` is the :class:`ternembed.data.general_corpus.CorpusReport` of the build. Both files are
    written atomically, the manifest last, so a manifest always describes a complete corpus file.
    """
    from ternembed.distill.corpus import corpus_fingerprint

    manifest = {
        "texts": len(texts), "fingerprint": corpus_fingerprint(texts), "sources": report.sources,
        "length_buckets": report.buckets, "dropped_for_overlap_with_evaluation": report.dropped_overlap,
        "skipped_sources": report.skipped, "max_texts": max_texts, "seed": seed,
    }  # fmt: skip
    _write_atomic(path, "".join(text + "\n" for text in texts))
    _write_atomic(path.with_suffix(".json"), json.dumps(manifest, indent=2) + "\n")
    return manifest


def _write_atomic(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

