"""GCIDE reader: cleaned Webster paragraphs, WordNet-credited ones skipped, eval overlaps dropped."""

from __future__ import annotations

import gzip

import pytest

from ternembed.data.gcide import GcideNotFoundError, clean_paragraph, definitions, drop_overlapping

SAMPLE = """\
Abdication \\Ab`di*ca"tion\\, n. [L. abdicatio: cf. F.
   abdication.]
   The act of abdicating; the renunciation of a high office,
   dignity, or trust, by its holder. --Bailey.
   [1913 Webster]

Abdominal \\Ab*dom"i*nal\\, a. [Cf. F. abdominal.]
   1. Of or pertaining to the abdomen; ventral; as, the
      abdominal regions, muscles, cavity.
      [1913 Webster]

   2. (Zool.) Having abdominal fins; belonging to the
      Abdominales; as, abdominal fishes.
      [1913 Webster]

1st-class \\1st-class\\ n.
   1. a class mail comprising letters, postcards, and other mail
      sealed against inspection.

   Syn: first-class, first-class mail
        [WordNet 1.5]

Abditive \\Ab"di*tive\\, a. [L. abditivus.]
   Hiding. [R.]
   [1913 Webster]
"""


@pytest.fixture
def gcide_file(tmp_path):
    path = tmp_path / "gcide.dict.dz"
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.write(SAMPLE)
    return path


def test_definitions_are_cleaned_webster_paragraphs(gcide_file):
    assert definitions(gcide_file) == [
        "The act of abdicating; the renunciation of a high office, dignity, or trust, by its holder.",
        "Of or pertaining to the abdomen; ventral; as, the abdominal regions, muscles, cavity.",
        "Having abdominal fins; belonging to the Abdominales; as, abdominal fishes.",
    ]


def test_wordnet_credited_paragraphs_are_skipped(gcide_file):
    texts = definitions(gcide_file, min_words=1)
    assert not any("mail" in text for text in texts)
    assert "Hiding." in texts


def test_environment_variable_names_the_file(gcide_file, monkeypatch):
    monkeypatch.setenv("TERNEMBED_GCIDE_FILE", str(gcide_file))
    assert len(definitions()) == 3


def test_missing_file_names_the_package(tmp_path):
    with pytest.raises(GcideNotFoundError, match="apt-get install dict-gcide"):
        definitions(tmp_path / "absent.dict.dz")


def test_clean_paragraph_strips_labels_and_braces():
    lines = ["   2. (Zool.) A {quadruped} of the genus {Canis}. --Shak."]
    assert clean_paragraph(lines) == "A quadruped of the genus Canis."


def test_drop_overlapping_removes_shared_runs_and_equal_texts():
    forbidden = ["a domesticated carnivorous mammal that typically has a long snout", "Dog"]
    texts = [
        "Any domesticated carnivorous mammal that typically has a long snout and tail.",  # shares 8 words
        "dog",  # equals a forbidden text
        "A domesticated carnivorous mammal of the genus Canis.",  # shares only 4 words
    ]
    assert drop_overlapping(texts, forbidden, n=8) == [texts[2]]
