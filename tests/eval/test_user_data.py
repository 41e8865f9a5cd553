"""User data readers: BEIR folders and CSVs, with errors naming the line and the problem."""

from __future__ import annotations

import pytest

from ternembed.eval.user_data import EvalDataError, read_beir_folder, read_classification_csv, read_sts_csv


def test_beir_folder_reads(beir_dir):
    data = read_beir_folder(beir_dir)
    assert len(data.corpus) == 6 and data.qrels["q2"] == {"d3": 1}


def test_beir_missing_files(tmp_path):
    with pytest.raises(EvalDataError, match=r"missing corpus.jsonl, queries.jsonl, qrels/test.tsv"):
        read_beir_folder(tmp_path)


def test_beir_bad_json_line_is_named(beir_dir):
    lines = (beir_dir / "corpus.jsonl").read_text().splitlines()
    lines[1] = '{"_id": "d2", "text": '
    (beir_dir / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(EvalDataError, match=r"corpus.jsonl:2: not valid JSON"):
        read_beir_folder(beir_dir)


def test_beir_qrels_unknown_document_is_named(beir_dir):
    (beir_dir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\tnope\t1\n")
    with pytest.raises(EvalDataError, match=r"test.tsv:3: corpus id 'nope' is not in corpus.jsonl"):
        read_beir_folder(beir_dir)


def test_beir_qrels_bad_score(beir_dir):
    (beir_dir / "qrels" / "test.tsv").write_text("q1\td1\thigh\n")
    with pytest.raises(EvalDataError, match=r"test.tsv:1: score 'high' is not an integer"):
        read_beir_folder(beir_dir)


def test_sts_csv_bad_score_line(tmp_path):
    path = tmp_path / "sts.csv"
    path.write_text("sentence1,sentence2,score\na,b,1\nc,d,lots\n")
    with pytest.raises(EvalDataError, match=r"sts.csv:3: score 'lots' is not a number"):
        read_sts_csv(path)


def test_classification_csv_missing_column_and_empty_text(tmp_path):
    path = tmp_path / "cls.csv"
    path.write_text("sentence,label\na,x\n")
    with pytest.raises(EvalDataError, match=r"cls.csv:1: header .* lacks column\(s\) \['text'\]"):
        read_classification_csv(path)
    path.write_text("text,label\na,x\n,y\n")
    with pytest.raises(EvalDataError, match=r"cls.csv:3: empty value in column\(s\) \['text'\]"):
        read_classification_csv(path)


def test_classification_csv_needs_enough_per_label(tmp_path):
    path = tmp_path / "cls.csv"
    path.write_text("text,label\na,x\nb,x\nc,y\n")
    with pytest.raises(EvalDataError, match=r"label\(s\) \['y'\] have fewer than 2 texts"):
        read_classification_csv(path)
