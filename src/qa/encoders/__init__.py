"""Encoders: the embedder protocols, the sentence-transformers embedder, the torch-free
ONNX runtime for queries and its export."""
