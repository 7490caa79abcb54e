"""Index backends: where a corpus's passages live and how they are searched (local, Milvus)."""
