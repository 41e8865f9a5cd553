"""embed_items: batches of similar length, results in the caller's order."""

from __future__ import annotations

import random

import torch
from torch import nn

from ternembed.distill.encoders import EncoderOutput
from ternembed.distill.evaluation import embed_items


class PaddingRecorder:
    """Items are lengths; an item's embedding is a one-hot of its length; padded widths are recorded."""

    def __init__(self) -> None:
        self.padded_widths: list[int] = []

    def lengths(self, items):
        return list(items)

    def collate(self, items):
        width = max(items)
        self.padded_widths.append(width)
        mask = torch.tensor([[1] * n + [0] * (width - n) for n in items])
        return {"attention_mask": mask}

    def encode(self, model, batch, hidden_states=False):
        lengths = batch["attention_mask"].sum(1)
        embedding = nn.functional.one_hot(lengths, num_classes=64).float()
        return EncoderOutput(embedding, embedding[:, None, :], batch["attention_mask"])


def test_embeddings_come_back_in_input_order_from_length_sorted_batches():
    items = [random.Random(i).randint(1, 63) for i in range(200)]
    encoder = PaddingRecorder()
    embeddings = embed_items(encoder, nn.Identity(), items, batch_size=16, device=torch.device("cpu"))
    assert embeddings.argmax(1).tolist() == items
    random_batches = sum(max(items[s : s + 16]) * len(items[s : s + 16]) for s in range(0, 200, 16))
    sorted_batches = sum(width * 16 for width in encoder.padded_widths)
    assert sorted_batches < 0.7 * random_batches
