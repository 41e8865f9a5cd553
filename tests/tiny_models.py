"""Tiny random models built from configs, so tests never need downloads or big weights."""

from __future__ import annotations

from pathlib import Path

import torch
import transformers

TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64}


def tiny_text_model(kind: str, vocab_size: int = 1000) -> transformers.PreTrainedModel:
    """A random ``bert``, ``mpnet`` or ``xlm-roberta`` encoder with hidden size 32."""
    torch.manual_seed(0)
    if kind == "bert":
        config = transformers.BertConfig(vocab_size=vocab_size, max_position_embeddings=64, **TINY)
        return transformers.BertModel(config)
    if kind == "mpnet":
        config = transformers.MPNetConfig(vocab_size=vocab_size, max_position_embeddings=66, **TINY)
        return transformers.MPNetModel(config)
    if kind == "xlm-roberta":
        config = transformers.XLMRobertaConfig(vocab_size=vocab_size, max_position_embeddings=66, **TINY)
        return transformers.XLMRobertaModel(config)
    raise ValueError(kind)


def tiny_vision_model(kind: str) -> transformers.PreTrainedModel:
    """A random ``vit`` or ``clip-vision`` encoder on 32x32 images with 8x8 patches."""
    torch.manual_seed(0)
    if kind == "vit":
        config = transformers.ViTConfig(image_size=32, patch_size=8, num_channels=3, **TINY)
        return transformers.ViTModel(config)
    if kind == "clip-vision":
        config = transformers.CLIPVisionConfig(image_size=32, patch_size=8, **TINY)
        return transformers.CLIPVisionModel(config)
    raise ValueError(kind)


def save_tiny_sentence_transformer(folder: Path, tokenizer_dir: str | Path) -> Path:
    """Save a tiny random BERT as a sentence-transformers folder (mean pooling + normalize).

    The tokenizer is the real all-MiniLM-L6-v2 one, so the vocabulary is real; the weights are random.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tokenizer_dir))
    model = tiny_text_model("bert", vocab_size=tokenizer.vocab_size)
    hf_dir = folder / "hf"
    model.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=48)
    st = SentenceTransformer(
        modules=[transformer, Pooling(model.config.hidden_size, "mean"), Normalize()], device="cpu"
    )
    out = folder / "st"
    st.save(str(out))
    return out
