"""A general distillation corpus from many kinds of offline text, with every evaluation text excluded.

Sources (each from an installed Debian package; a missing one is skipped and reported):

- ``definitions``: WordNet glosses and examples outside the evaluation synsets, GCIDE definitions;
- ``titles``: one-line summaries of manual pages and kernel documentation headings (short, query-shaped);
- ``manuals``: manual page descriptions and kernel documentation sections, cut into passages;
- ``info``: GNU info manuals (coreutils, grep, sed, ...), cut into passages;
- ``code-comments``: comments in the C headers under ``/usr/include`` (Python's headers left out).

Only documents outside the held-out half (:func:`ternembed.data.manuals.is_held_out`) are read, and
every text sharing a run of 8 words with any evaluation text (held-out documentation, WordNet
evaluation synsets) is then dropped, so training never sees what evaluation scores. Texts are
deduplicated and sampled per length bucket.
"""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ternembed.data import manuals

BUCKETS = {"short": (1, 12), "medium": (13, 40), "long": (41, 128)}
"""Length buckets in words; a sampled corpus keeps each bucket's share of :data:`BUCKET_SHARES`."""
BUCKET_SHARES = {"short": 0.3, "medium": 0.4, "long": 0.3}
PASSAGE_WORDS = 96
INFO_DIR = Path("/usr/share/info")
INCLUDE_DIR = Path("/usr/include")
OVERLAP_WORDS = 8
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_WORD = re.compile(r"[a-z0-9]+")
_C_COMMENT = re.compile(r"/\*(.*?)\*/", re.S)


@dataclass
class CorpusReport:
    """What a build produced: texts per source and bucket, texts dropped for overlap, skipped sources."""

    sources: dict[str, int] = field(default_factory=dict)
    buckets: dict[str, int] = field(default_factory=dict)
    dropped_overlap: int = 0
    skipped: dict[str, str] = field(default_factory=dict)


def bucket_of(text: str) -> str | None:
    """The length bucket of a text, None when it is longer than the longest bucket."""
    words = len(text.split())
    return next((name for name, (low, high) in BUCKETS.items() if low <= words <= high), None)


def passages(text: str, max_words: int = PASSAGE_WORDS) -> list[str]:
    """Consecutive sentences of ``text`` grouped into passages of at most ``max_words`` words."""
    chunks, current = [], []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        if current and len(current) + len(words) > max_words:
            chunks.append(" ".join(current))
            current = []
        current.extend(words[:max_words])
    if current:
        chunks.append(" ".join(current))
    return [chunk for chunk in chunks if len(chunk.split()) >= 4]


def evaluation_texts() -> list[str]:
    """Every text the built-in evaluation tasks can score (queries and documents), for the overlap filter."""
    texts = []
    from ternembed.data.wordnet import evaluation_texts as wordnet_evaluation_texts

    texts += _optional(wordnet_evaluation_texts, [])
    for reader in (manuals.manual_pages, manuals.kernel_sections):
        texts += [t for d in _optional(reader, []) if manuals.is_held_out(d.key) for t in (d.title, d.body)]
    return texts


def build(max_texts: int | None = None, seed: int = 0) -> tuple[list[str], CorpusReport]:
    """The corpus texts (deduplicated, overlap-filtered, sampled by bucket) and a report of the build."""
    report = CorpusReport()
    by_source: dict[str, list[str]] = {}
    for name, reader in SOURCES.items():
        try:
            by_source[name] = list(dict.fromkeys(_clean(t) for t in reader()))
        except FileNotFoundError as error:
            report.skipped[name] = str(error)
    seen: set[str] = set()
    candidates: list[tuple[str, str]] = []
    for name, texts in by_source.items():
        for text in texts:
            if text and text not in seen and bucket_of(text) is not None:
                seen.add(text)
                candidates.append((name, text))
    kept_texts = set(_drop_overlapping([t for _, t in candidates], evaluation_texts(), OVERLAP_WORDS))
    report.dropped_overlap = len(candidates) - len(kept_texts)
    kept = [(name, text) for name, text in candidates if text in kept_texts]
    kept = _sample_by_bucket(kept, max_texts, seed)
    for name, text in kept:
        report.sources[name] = report.sources.get(name, 0) + 1
        bucket = bucket_of(text) or ""
        report.buckets[bucket] = report.buckets.get(bucket, 0) + 1
    return [text for _, text in kept], report


def _sample_by_bucket(
    items: list[tuple[str, str]], max_texts: int | None, seed: int
) -> list[tuple[str, str]]:
    if max_texts is None or max_texts >= len(items):
        return items
    rng = random.Random(seed)
    by_bucket: dict[str, list[int]] = {name: [] for name in BUCKETS}
    for index, (_, text) in enumerate(items):
        by_bucket[bucket_of(text) or "long"].append(index)
    chosen: list[int] = []
    remaining = max_texts
    order = sorted(
        by_bucket, key=lambda name: len(by_bucket[name])
    )  # a small bucket's shortfall goes to the rest
    for position, name in enumerate(order):
        share = BUCKET_SHARES[name] / sum(BUCKET_SHARES[other] for other in order[position:])
        take = min(len(by_bucket[name]), round(remaining * share))
        chosen += rng.sample(by_bucket[name], take)
        remaining -= take
    return [items[i] for i in sorted(chosen)]


def _optional(reader: Callable[[], list], default: list) -> list:
    try:
        return reader()
    except FileNotFoundError:
        return default


def _clean(text: str) -> str:
    return " ".join(text.split())


def _definitions() -> Iterator[str]:
    from ternembed.data import gcide, wordnet

    yield from wordnet.training_texts()
    yield from _optional(gcide.definitions, [])


def _training_documents() -> list[manuals.ManualDocument]:
    documents = _optional(manuals.manual_pages, []) + _optional(manuals.kernel_sections, [])
    if not documents:
        raise manuals.ManualsNotFoundError("no manual pages or kernel documentation installed")
    return [d for d in documents if not manuals.is_held_out(d.key)]


def _titles() -> Iterator[str]:
    for document in _training_documents():
        if len(document.title.split()) >= 2:
            yield document.title


def _manual_passages() -> Iterator[str]:
    for document in _training_documents():
        yield from passages(document.body)


def _info_passages() -> Iterator[str]:
    files = sorted(INFO_DIR.glob("*.info*.gz"))
    if not files:
        raise FileNotFoundError(f"no GNU info manuals in {INFO_DIR}")
    for path in files:
        text = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        for node in text.split("\x1f")[1:]:
            paragraphs = re.split(r"\n\s*\n", node.split("\n", 2)[-1])
            for paragraph in paragraphs:
                if re.search(
                    r"[a-z]{3,} [a-z]{3,} [a-z]{3,}", paragraph
                ) and not paragraph.lstrip().startswith("*"):
                    yield from passages(_clean(paragraph))


def _code_comments() -> Iterator[str]:
    if not INCLUDE_DIR.is_dir():
        raise FileNotFoundError(f"no C headers in {INCLUDE_DIR}")
    for path in sorted(INCLUDE_DIR.rglob("*.h")):
        if any(part.startswith("python") for part in path.relative_to(INCLUDE_DIR).parts):
            continue
        try:
            source = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for comment in _C_COMMENT.findall(source):
            text = _clean(re.sub(r"^\s*\*+", " ", comment, flags=re.M))
            if len(text.split()) >= 5 and "copyright" not in text.lower() and "license" not in text.lower():
                yield from passages(text)


def _drop_overlapping(texts: Iterable[str], forbidden: Iterable[str], n: int) -> list[str]:
    """The texts sharing no run of ``n`` lower-cased words with a forbidden text, nor equal to one."""
    grams: set[int] = set()
    whole: set[int] = set()
    for text in forbidden:
        words = _WORD.findall(text.lower())
        whole.add(hash(tuple(words)))
        grams.update(hash(tuple(words[i : i + n])) for i in range(len(words) - n + 1))
    kept = []
    for text in texts:
        words = _WORD.findall(text.lower())
        if hash(tuple(words)) in whole:
            continue
        if all(hash(tuple(words[i : i + n])) not in grams for i in range(len(words) - n + 1)):
            kept.append(text)
    return kept


SOURCES: dict[str, Callable[[], Iterable[str]]] = {
    "definitions": _definitions,
    "titles": _titles,
    "manuals": _manual_passages,
    "info": _info_passages,
    "code-comments": _code_comments,
}
