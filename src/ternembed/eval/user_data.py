"""Readers of user evaluation data: a BEIR folder, an STS CSV, a classification CSV.

Every error names the file, the line and what is wrong with it.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ternembed.data.jsonl import iter_json_objects
from ternembed.errors import TernembedError
from ternembed.eval.wordnet_tasks import LabelledTexts, RetrievalData, TextPairs


class EvalDataError(TernembedError, ValueError):
    """User evaluation data is missing or malformed."""


def _read_jsonl(path: Path, id_field: str = "_id") -> dict[str, str]:
    """``{_id: text}`` of a BEIR corpus or queries file; the title is prepended to the text when present."""
    records: dict[str, str] = {}
    for line_number, record in iter_json_objects(path, EvalDataError):
        if id_field not in record:
            raise EvalDataError(
                f"{path}:{line_number}: missing field {id_field!r} (fields: {sorted(record)})"
            )
        if not isinstance(record.get("text"), str):
            raise EvalDataError(f"{path}:{line_number}: missing or non-string field 'text'")
        doc_id = str(record[id_field])
        if doc_id in records:
            raise EvalDataError(f"{path}:{line_number}: duplicate id {doc_id!r}")
        title = record.get("title") or ""
        records[doc_id] = f"{title} {record['text']}".strip() if title else record["text"]
    if not records:
        raise EvalDataError(f"{path} holds no records")
    return records


def _read_qrels(path: Path, corpus: dict[str, str], queries: dict[str, str]) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for line_number, row in enumerate(csv.reader(handle, delimiter="\t"), 1):
            if not row or (line_number == 1 and row[0] in ("query-id", "query_id", "qid")):
                continue
            if len(row) != 3:
                raise EvalDataError(
                    f"{path}:{line_number}: expected 3 tab-separated columns (query-id, corpus-id, score), got {len(row)}"
                )
            query_id, doc_id, score = row
            try:
                grade = int(score)
            except ValueError:
                raise EvalDataError(f"{path}:{line_number}: score {score!r} is not an integer") from None
            if query_id not in queries:
                raise EvalDataError(f"{path}:{line_number}: query id {query_id!r} is not in queries.jsonl")
            if doc_id not in corpus:
                raise EvalDataError(f"{path}:{line_number}: corpus id {doc_id!r} is not in corpus.jsonl")
            qrels.setdefault(query_id, {})[doc_id] = grade
    if not any(grade > 0 for judged in qrels.values() for grade in judged.values()):
        raise EvalDataError(f"{path} holds no positive relevance judgement")
    return qrels


def read_beir_folder(folder: str | os.PathLike, split: str = "test") -> RetrievalData:
    """Read a BEIR folder: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

    Queries without a judgement are dropped, as BEIR does.

    Raises:
        EvalDataError: A file is missing or a line is malformed (the message names the line).
    """
    folder = Path(folder)
    paths = {
        "corpus": folder / "corpus.jsonl",
        "queries": folder / "queries.jsonl",
        "qrels": folder / "qrels" / f"{split}.tsv",
    }
    missing = [str(path.relative_to(folder)) for path in paths.values() if not path.is_file()]
    if missing:
        raise EvalDataError(
            f"{folder} is not a BEIR folder: missing {', '.join(missing)} "
            f"(expected corpus.jsonl, queries.jsonl and qrels/{split}.tsv)"
        )
    corpus = _read_jsonl(paths["corpus"])
    queries = _read_jsonl(paths["queries"])
    qrels = _read_qrels(paths["qrels"], corpus, queries)
    return RetrievalData(corpus=corpus, queries={q: queries[q] for q in queries if q in qrels}, qrels=qrels)


def _read_csv(path: str | os.PathLike, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    path = Path(path)
    if not path.is_file():
        raise EvalDataError(f"CSV file {path} does not exist")
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        absent = [c for c in columns if c not in header]
        if absent:
            raise EvalDataError(
                f"{path}:1: header {header} lacks column(s) {absent}; expected {list(columns)}"
            )
        rows = []
        for row in reader:
            line_number = reader.line_num
            if None in row or any(row[c] is None for c in columns):
                raise EvalDataError(
                    f"{path}:{line_number}: expected {len(header)} columns, got a different count"
                )
            empty = [c for c in columns if not row[c].strip()]
            if empty:
                raise EvalDataError(f"{path}:{line_number}: empty value in column(s) {empty}")
            rows.append((line_number, row))
    if not rows:
        raise EvalDataError(f"{path} holds a header but no rows")
    return rows


def read_sts_csv(path: str | os.PathLike) -> TextPairs:
    """Read an STS CSV with columns ``sentence1,sentence2,score`` (any numeric scale).

    Raises:
        EvalDataError: A missing column, an empty value or a non-numeric score (the message names the line).
    """
    pairs = TextPairs([], [], [])
    for line_number, row in _read_csv(path, ("sentence1", "sentence2", "score")):
        try:
            score = float(row["score"])
        except ValueError:
            raise EvalDataError(f"{path}:{line_number}: score {row['score']!r} is not a number") from None
        pairs.first.append(row["sentence1"])
        pairs.second.append(row["sentence2"])
        pairs.labels.append(score)
    if len(set(pairs.labels)) < 2:
        raise EvalDataError(
            f"{path}: every score is {pairs.labels[0]}; a correlation needs at least two values"
        )
    return pairs


def read_classification_csv(path: str | os.PathLike, min_per_label: int = 2) -> LabelledTexts:
    """Read a classification CSV with columns ``text,label``.

    Raises:
        EvalDataError: A missing column or empty value (naming the line), fewer than two labels, or a
            label with fewer than ``min_per_label`` texts.
    """
    data = LabelledTexts([], [])
    for _, row in _read_csv(path, ("text", "label")):
        data.texts.append(row["text"])
        data.labels.append(row["label"].strip())
    counts = {label: data.labels.count(label) for label in dict.fromkeys(data.labels)}
    if len(counts) < 2:
        raise EvalDataError(f"{path}: a classification needs at least two labels, found {sorted(counts)}")
    rare = sorted(label for label, count in counts.items() if count < min_per_label)
    if rare:
        raise EvalDataError(
            f"{path}: label(s) {rare} have fewer than {min_per_label} texts; add texts or drop them"
        )
    return data
