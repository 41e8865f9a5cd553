"""Reader of the WordNet 3.x database installed by Debian's ``wordnet-base`` package.

Also the one place that decides which synsets the evaluation suite may score on
(:func:`is_evaluation_synset`) and which texts are free for training (:func:`training_texts`),
so distillation data and evaluation data can never overlap.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ternembed.errors import InvalidArgumentError, TernembedError

WORDNET_DIR_ENV = "TERNEMBED_WORDNET_DIR"
"""Environment variable that overrides the WordNet folder (default ``/usr/share/wordnet``)."""

DEFAULT_WORDNET_DIR = Path("/usr/share/wordnet")
DATA_FILES = {"n": "data.noun", "v": "data.verb", "a": "data.adj", "r": "data.adv"}

LEXNAMES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)  # fmt: skip
"""The 45 lexicographer files, indexed by the ``lex_filenum`` field (see ``man 5 lexnames``)."""

EVALUATION_FRACTION = 0.3
"""Share of synsets reserved for evaluation; the rest is free for training."""

_SPLIT_SALT = "ternembed-wordnet-split-v1"
_HYPERNYM_POINTERS = frozenset({"@", "@i"})
_SYNTACTIC_MARKER = re.compile(r"\((?:a|p|ip)\)$")
_QUOTED = re.compile(r'"([^"]+)"')

Pos = Literal["n", "v", "a", "s", "r"]


class WordNetNotFoundError(TernembedError, FileNotFoundError):
    """The WordNet database files are not installed."""


@dataclass(frozen=True)
class Synset:
    """One WordNet synset.

    Attributes:
        id: Part-of-speech letter of its data file plus the 8-digit offset, e.g. ``n02084071``.
        pos: Synset type: ``n``, ``v``, ``a``, ``s`` (adjective satellite) or ``r``.
        lexname: Lexicographer file, e.g. ``noun.animal``.
        lemmas: Words and phrases of the synset, underscores replaced by spaces.
        definition: The gloss without its example sentences.
        examples: Example sentences quoted in the gloss.
        hypernyms: Ids of the hypernym and instance-hypernym synsets.
    """

    id: str
    pos: Pos
    lexname: str
    lemmas: tuple[str, ...]
    definition: str
    examples: tuple[str, ...]
    hypernyms: tuple[str, ...]


def wordnet_dir(root: str | os.PathLike | None = None) -> Path:
    """The WordNet folder: ``root``, else ``$TERNEMBED_WORDNET_DIR``, else ``/usr/share/wordnet``.

    Raises:
        WordNetNotFoundError: When a data file is missing, naming the apt package to install.
    """
    folder = Path(root or os.environ.get(WORDNET_DIR_ENV) or DEFAULT_WORDNET_DIR)
    missing = [name for name in DATA_FILES.values() if not (folder / name).is_file()]
    if missing:
        raise WordNetNotFoundError(
            f"WordNet database not found: {folder} lacks {', '.join(missing)}; "
            f"install it with 'apt-get install wordnet-base' or set {WORDNET_DIR_ENV} to a folder holding "
            f"data.noun, data.verb, data.adj and data.adv"
        )
    return folder


def parse_data_line(line: str, file_pos: str) -> Synset:
    """Parse one synset line of a ``data.*`` file (format in ``man 5 wndb``).

    Raises:
        ValueError: When the line does not follow the format.
    """
    head, _, gloss = line.partition(" | ")
    fields = head.split()
    try:
        offset, lex_filenum, ss_type = fields[0], int(fields[1]), fields[2]
        word_count = int(fields[3], 16)
        words = fields[4 : 4 + 2 * word_count : 2]
        pointer_start = 4 + 2 * word_count
        pointer_count = int(fields[pointer_start])
        pointers = [
            fields[pointer_start + 1 + 4 * i : pointer_start + 5 + 4 * i] for i in range(pointer_count)
        ]
        lexname = LEXNAMES[lex_filenum]
    except (IndexError, ValueError) as error:
        raise InvalidArgumentError(f"malformed WordNet data line: {line[:80]!r} ({error})") from None
    lemmas = tuple(_SYNTACTIC_MARKER.sub("", word).replace("_", " ") for word in words)
    hypernyms = tuple(p[2] + p[1] for p in pointers if p[0] in _HYPERNYM_POINTERS)
    definition, examples = split_gloss(gloss.strip())
    return Synset(
        id=f"{file_pos}{offset}",
        pos=ss_type,  # type: ignore[arg-type]
        lexname=lexname,
        lemmas=lemmas,
        definition=definition,
        examples=examples,
        hypernyms=hypernyms,
    )


def split_gloss(gloss: str) -> tuple[str, tuple[str, ...]]:
    """Split a gloss into its definition and its quoted example sentences."""
    quote = gloss.find('"')
    if quote < 0:
        return gloss.strip(" ;"), ()
    definition = gloss[:quote].strip(" ;")
    examples = tuple(example.strip() for example in _QUOTED.findall(gloss[quote:]) if example.strip())
    return definition, examples


@lru_cache(maxsize=4)
def _load_synsets_cached(folder: Path) -> tuple[Synset, ...]:
    synsets = []
    for file_pos, name in DATA_FILES.items():
        with open(folder / name, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("  "):  # license header
                    continue
                synsets.append(parse_data_line(line, file_pos))
    return tuple(synsets)


def load_synsets(root: str | os.PathLike | None = None) -> tuple[Synset, ...]:
    """All synsets of the WordNet database, in file order (noun, verb, adjective, adverb).

    Args:
        root: WordNet folder; see :func:`wordnet_dir` for the default.
    """
    return _load_synsets_cached(wordnet_dir(root).resolve())


def is_evaluation_synset(synset_id: str) -> bool:
    """Whether the evaluation suite may use this synset (a stable hash puts 30% of synsets there).

    Training data must only come from synsets for which this is ``False``.
    """
    digest = hashlib.sha256(f"{_SPLIT_SALT}:{synset_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < EVALUATION_FRACTION * 2**64


def lemma_list(synset: Synset) -> str:
    """The synset's lemmas joined by ", " ("dog, domestic dog, Canis familiaris"): a lemma query's text."""
    return ", ".join(synset.lemmas)


def synset_texts(synset: Synset) -> tuple[str, ...]:
    """Every text of a synset: its lemmas, its definition and its example sentences."""
    return (*synset.lemmas, synset.definition, *synset.examples)


def evaluation_texts(root: str | os.PathLike | None = None) -> list[str]:
    """Every text (lemmas, definitions, examples) of the synsets the evaluation suite may score on."""
    return [text for s in load_synsets(root) if is_evaluation_synset(s.id) for text in synset_texts(s)]


def training_texts(root: str | os.PathLike | None = None, include_lemmas: bool = False) -> list[str]:
    """Definitions and example sentences of non-evaluation synsets, deduplicated, in file order.

    Texts that also occur in an evaluation synset are dropped, so no string the evaluation suite
    scores on can be trained on.

    Args:
        root: WordNet folder; see :func:`wordnet_dir` for the default.
        include_lemmas: Also return multi-word lemmas (short phrases) of training synsets.
    """
    evaluation = {text.lower() for text in evaluation_texts(root)}
    texts: dict[str, None] = {}
    for synset in load_synsets(root):
        if is_evaluation_synset(synset.id):
            continue
        candidates = [synset.definition, *synset.examples]
        if include_lemmas:
            candidates += [lemma for lemma in synset.lemmas if " " in lemma]
        for text in candidates:
            if text and text.lower() not in evaluation:
                texts.setdefault(text, None)
    return list(texts)


def training_lemma_lists(root: str | os.PathLike | None = None) -> list[str]:
    """Each non-evaluation synset's lemmas joined by ", " (the form of wordnet-retrieval's lemma queries).

    Deduplicated, in file order; lists that equal an evaluation text are dropped, as in
    :func:`training_texts`.
    """
    evaluation = {text.lower() for text in evaluation_texts(root)}
    lists: dict[str, None] = {}
    for synset in load_synsets(root):
        text = lemma_list(synset)
        if not is_evaluation_synset(synset.id) and text.lower() not in evaluation:
            lists.setdefault(text, None)
    return list(lists)
