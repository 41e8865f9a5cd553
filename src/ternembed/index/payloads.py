"""What an index keeps about each document besides its vector: the text and a JSON metadata object.

Saved as ``payloads.jsonl`` in the index folder, one ``{"id", "text", "metadata"}`` object per line.
Index folders written before payloads existed have no such file and load with no payloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ternembed.errors import InvalidArgumentError
from ternembed.index.errors import IndexFormatError

PAYLOADS_FILE = "payloads.jsonl"


class PayloadStore:
    """Text and metadata by document id."""

    def __init__(self) -> None:
        self._payloads: dict[str, tuple[str, dict[str, Any]]] = {}

    def put(self, doc_id: str, text: str, metadata: dict[str, Any] | None = None) -> None:
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidArgumentError(
                f"metadata of document {doc_id!r} must be a JSON object, got {type(metadata).__name__}"
            )
        self._payloads[doc_id] = (text, dict(metadata or {}))

    def put_many(self, records: Iterable[tuple[str, str, dict[str, Any] | None]]) -> None:
        for doc_id, text, metadata in records:
            self.put(doc_id, text, metadata)

    def remove(self, doc_id: str) -> None:
        self._payloads.pop(doc_id, None)

    def text(self, doc_id: str) -> str | None:
        payload = self._payloads.get(doc_id)
        return payload[0] if payload else None

    def metadata(self, doc_id: str) -> dict[str, Any]:
        payload = self._payloads.get(doc_id)
        return payload[1] if payload else {}

    def __len__(self) -> int:
        return len(self._payloads)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._payloads

    def save(self, folder: Path, doc_ids: Iterable[str]) -> None:
        """Write the payloads of ``doc_ids`` (the index's live documents, in order)."""
        with open(folder / PAYLOADS_FILE, "w", encoding="utf-8") as file:
            for doc_id in doc_ids:
                if doc_id in self._payloads:
                    text, metadata = self._payloads[doc_id]
                    record = {"id": doc_id, "text": text, "metadata": metadata}
                    file.write(json.dumps(record, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, folder: Path) -> PayloadStore:
        """The payloads saved in ``folder`` (none when the folder has no payload file)."""
        store = cls()
        path = folder / PAYLOADS_FILE
        if not path.is_file():
            return store
        with open(path, encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                try:
                    record = json.loads(line)
                    store.put(record["id"], record["text"], record["metadata"])
                except (ValueError, KeyError, TypeError) as error:
                    raise IndexFormatError(
                        f"{path}:{number}: damaged payload line ({error}); rebuild the index"
                    ) from None
        return store
