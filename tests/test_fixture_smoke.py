from sentence_transformers import SentenceTransformer


def test_tiny_sentence_transformer_encodes(tiny_st_dir):
    model = SentenceTransformer(tiny_st_dir, device="cpu")
    assert model.encode(["hello world"]).shape == (1, 32)
