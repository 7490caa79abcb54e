"""Retrieval engines (dense FAISS, lexical BM25), rank fusion, and the hybrid retriever."""
