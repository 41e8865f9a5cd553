"""`ternembed corpus --out FILE.txt`: build the general distillation corpus from offline text."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

NAME = "corpus"
HELP = ("Build a general distillation corpus (definitions, manuals, info pages, code comments, titles) "
        "with every evaluation text excluded; one text per line, a manifest beside it.")  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", required=True, help="the .txt file to write (its manifest goes to FILE.json)"
    )
    parser.add_argument("--max-texts", type=int, default=None,
                        help="sample at most N texts, keeping the length buckets' shares (default: all)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def run(args: argparse.Namespace) -> int:
    from ternembed.cli.main import CliError
    from ternembed.data.general_corpus import build
    from ternembed.distill.corpus import corpus_fingerprint

    out = Path(args.out)
    if out.suffix != ".txt":
        raise CliError(f"--out {out} must end in .txt (one text per line)")
    if out.exists() and not args.overwrite:
        raise CliError(f"{out} exists; pass --overwrite to replace it")
    if args.max_texts is not None and args.max_texts <= 0:
        raise CliError(f"--max-texts must be positive, got {args.max_texts}")
    if not out.parent.is_dir() or not os.access(out.parent, os.W_OK):
        raise CliError(f"cannot write {out}: {out.parent} is not a writable folder")
    print(
        "reading sources and filtering out evaluation texts (about a minute)...", file=sys.stderr, flush=True
    )
    texts, report = build(args.max_texts, args.seed)
    if not texts:
        raise CliError("no texts found: install the Debian packages wordnet-base, manpages, linux-doc")
    manifest = {
        "texts": len(texts), "fingerprint": corpus_fingerprint(texts), "sources": report.sources,
        "length_buckets": report.buckets, "dropped_for_overlap_with_evaluation": report.dropped_overlap,
        "skipped_sources": report.skipped, "max_texts": args.max_texts, "seed": args.seed,
    }  # fmt: skip
    _write_atomic(out, "".join(text + "\n" for text in texts))
    _write_atomic(out.with_suffix(".json"), json.dumps(manifest, indent=2) + "\n")
    sources = ", ".join(f"{name} {count}" for name, count in report.sources.items())
    print(f"wrote {out}: {len(texts)} texts ({sources}); {report.dropped_overlap} dropped for overlap with "
          f"evaluation texts; fingerprint {manifest['fingerprint']}")  # fmt: skip
    for name, why in report.skipped.items():
        print(f"skipped {name}: {why}", file=sys.stderr)
    return 0


def _write_atomic(path: Path, text: str) -> None:
    from ternembed.io.output_folder import current_umask

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
