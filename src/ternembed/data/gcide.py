"""Reader of GCIDE, the GNU Collaborative International Dictionary of English (Debian's ``dict-gcide``).

Extra unlabeled text for distillation: about 200k definition paragraphs, mostly Webster's 1913.
GCIDE also carries definitions copied from WordNet; those are dropped (:func:`definitions`), and
:func:`drop_overlapping` removes anything sharing a word n-gram with the WordNet evaluation texts,
so training on GCIDE never trains on what the evaluation suite scores.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ternembed.errors import TernembedError

GCIDE_FILE_ENV = "TERNEMBED_GCIDE_FILE"
"""Environment variable that overrides the dictionary file (default below)."""

DEFAULT_GCIDE_FILE = Path("/usr/share/dictd/gcide.dict.dz")

_SOURCE_TAG = re.compile(r"^\s*\[([^\[\]]*(?:Webster|WordNet|PJC|Century|Dict\.)[^\[\]]*)\]\s*$")
_HEADWORD = re.compile(r"^(?:[^\\]{1,60}\\[^\\]{1,60}\\[,;]?\s*)+")
_DERIVED_FORM = re.compile(r"\s*--\s*\S*[*\"`]\S*,?\s*(?:[a-z]{1,5}\.\s*)*")
_HEADER_TAIL = re.compile(r"^[,;]?\s*(?:[a-z]{1,6}\.\s*)*(?:pl\.?\s*\{[^}]*\}[,;]?\s*)*")
_LEADING_BRACKET = re.compile(r"^(?:pl\.\s*[^.\[]*\.\s*)?\[[^\]]*\]\s*")
_UNOPENED_BRACKET = re.compile(r"^[^\[\]]{0,100}\]\s*")
_LIGATURE = re.compile(r"\[(ae|oe|AE|OE)\]")
_SENSE_NUMBER = re.compile(r"^(?:\d+\.|\([a-z]\))\s*")
_DOMAIN_LABEL = re.compile(r"^\((?:[A-Z][\w.]*\s*)+\)\s*")
_CITATION = re.compile(r"\s*--\s*[A-Z][\w.' ]{0,40}\.?(?=\s|$)")
_EDITORIAL = re.compile(r"\[(?:R\.|Obs\.|Colloq\.|Archaic|Prov\. Eng\.|Eng\.|U\.S\.|Slang|Poetic)\]")
_WORD = re.compile(r"[a-z0-9]+")


class GcideNotFoundError(TernembedError, FileNotFoundError):
    """The GCIDE dictionary file is not installed."""


def gcide_file(path: str | os.PathLike | None = None) -> Path:
    """The dictionary file: ``path``, else ``$TERNEMBED_GCIDE_FILE``, else Debian's location.

    Raises:
        GcideNotFoundError: When it is missing, naming the apt package to install.
    """
    file = Path(path or os.environ.get(GCIDE_FILE_ENV) or DEFAULT_GCIDE_FILE)
    if not file.is_file():
        raise GcideNotFoundError(
            f"GCIDE not found at {file}; install it with 'apt-get install dict-gcide' "
            f"or set {GCIDE_FILE_ENV} to a gcide.dict.dz file"
        )
    return file


def definitions(path: str | os.PathLike | None = None, min_words: int = 4) -> list[str]:
    """Cleaned definition paragraphs from Webster's 1913 and the Century Dictionary, deduplicated.

    Paragraphs credited to WordNet (or to PJC, whose additions often follow WordNet) are skipped.
    """
    with gzip.open(gcide_file(path), "rt", encoding="utf-8", errors="replace") as stream:
        texts = dict.fromkeys(
            text
            for block, source in _source_blocks(stream)
            if _is_independent_source(source)
            for text in [clean_paragraph(block)]
            if len(text.split()) >= min_words
        )
    return list(texts)


def clean_paragraph(lines: list[str]) -> str:
    """One dictionary paragraph as plain text: no headword, pronunciation, etymology, labels or citations."""
    text = _LIGATURE.sub(r"\1", " ".join(line.strip() for line in lines if line.strip()))
    if lines and not lines[0][:1].isspace():
        text = _HEADWORD.sub("", text)
        text = _HEADER_TAIL.sub("", text)
        text = _LEADING_BRACKET.sub("", text)
        text = _UNOPENED_BRACKET.sub("", text)
    text = _SENSE_NUMBER.sub("", text)
    text = _DOMAIN_LABEL.sub("", text)
    text = _EDITORIAL.sub("", text)
    text = _DERIVED_FORM.sub(" ", text)
    text = _CITATION.sub("", text)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    return " ".join(text.split()).strip(" ;,")


def drop_overlapping(texts: Iterable[str], forbidden: Iterable[str], n: int = 8) -> list[str]:
    """The texts that share no run of ``n`` words (lower-cased) with any forbidden text, nor equal one."""
    forbidden_grams: set[tuple[str, ...]] = set()
    forbidden_whole: set[tuple[str, ...]] = set()
    for text in forbidden:
        words = tuple(_WORD.findall(text.lower()))
        forbidden_whole.add(words)
        forbidden_grams.update(_ngrams(words, n))
    kept = []
    for text in texts:
        words = tuple(_WORD.findall(text.lower()))
        if words not in forbidden_whole and forbidden_grams.isdisjoint(_ngrams(words, n)):
            kept.append(text)
    return kept


def _ngrams(words: tuple[str, ...], n: int) -> Iterator[tuple[str, ...]]:
    return (words[i : i + n] for i in range(len(words) - n + 1))


def _source_blocks(lines: Iterable[str]) -> Iterator[tuple[list[str], str]]:
    """Paragraphs (blank-line separated) paired with the source tag that closes their run."""
    pending: list[list[str]] = []
    paragraph: list[str] = []
    for line in lines:
        tag = _SOURCE_TAG.match(line)
        if tag:
            if paragraph:
                pending.append(paragraph)
            yield from ((block, tag.group(1)) for block in pending)
            pending, paragraph = [], []
        elif line.strip():
            paragraph.append(line.rstrip("\n"))
        elif paragraph:
            pending.append(paragraph)
            paragraph = []


def _is_independent_source(source: str) -> bool:
    return "WordNet" not in source and "PJC" not in source
