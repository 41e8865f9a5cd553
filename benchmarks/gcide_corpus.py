"""Write a larger distillation corpus: WordNet's training texts plus GCIDE dictionary definitions.

GCIDE (Debian ``dict-gcide``) adds ~207k definition paragraphs, mostly Webster's 1913. Its
WordNet-credited paragraphs are skipped by the reader, and any paragraph sharing a run of 8 words
with a text of an evaluation synset (lemma, gloss or example) is dropped here, so the evaluation
suite never scores a text the student was trained on.

    python benchmarks/gcide_corpus.py --out runs/gcide/wordnet_plus_gcide.txt

    python benchmarks/gcide_corpus.py --out runs/s9/wordnet_lemmas.txt --max-gcide 0 --lemma-lists

Writes the corpus (one text per line: WordNet texts first, then GCIDE, then with ``--lemma-lists`` the
lemma lists of WordNet's training synsets, shaped like wordnet-retrieval's lemma queries) and
``<out>.json`` with counts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from pathlib import Path

from ternembed.data.gcide import definitions, drop_overlapping
from ternembed.data.wordnet import evaluation_texts, training_lemma_lists, training_texts
from ternembed.distill.corpus import corpus_fingerprint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="text file to write")
    parser.add_argument(
        "--ngram", type=int, default=8, help="drop GCIDE texts sharing this many words with eval texts"
    )
    parser.add_argument("--max-gcide", type=int, help="keep a seeded sample of at most N GCIDE texts")
    parser.add_argument(
        "--lemma-lists",
        action="store_true",
        help="append the training synsets' lemma lists ('dog, domestic dog')",
    )
    args = parser.parse_args()

    wordnet = training_texts()
    raw = definitions()
    gcide = drop_overlapping(raw, evaluation_texts(), n=args.ngram)
    seen = set(wordnet)
    gcide = [text for text in gcide if text not in seen]
    kept = len(gcide)
    if args.max_gcide is not None and args.max_gcide < len(gcide):
        gcide = random.Random(0).sample(gcide, args.max_gcide)
    texts = wordnet + gcide  # one line each: WordNet and cleaned GCIDE texts hold no newlines
    taken = set(texts)
    lemma_lists = [text for text in training_lemma_lists() if text not in taken] if args.lemma_lists else []
    texts += lemma_lists

    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.name + ".partial")
    partial.write_text("\n".join(texts) + "\n", encoding="utf-8")
    os.replace(partial, args.out)
    counts = {
        "wordnet_training_texts": len(wordnet),
        "gcide_definitions": len(raw),
        "gcide_kept_after_overlap_filter": kept,
        "overlap_ngram": args.ngram,
        "gcide_used": len(gcide),
        "lemma_lists": len(lemma_lists),
        "total": len(texts),
        "fingerprint": corpus_fingerprint(texts),
    }
    args.out.with_name(args.out.name + ".json").write_text(json.dumps(counts, indent=2) + "\n")
    print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    main()
