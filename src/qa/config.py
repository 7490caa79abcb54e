"""Settings: every knob, read from `QA_*` environment variables; CLI options override them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qa.errors import ConfigError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """All configuration. Each field is `QA_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="forbid", frozen=True)

    # where things live
    corpus_dir: Path = Field(Path("corpus"), description="Folder of source documents.")
    index_dir: Path = Field(Path("index"), description="Folder of the built index.")
    fields_file: Path | None = Field(
        None,
        description="Taxonomy of cooperation fields (TOML); default: `fields.toml` in the "
        "corpus folder, else the bundled one.",
    )

    # where the index lives
    index_backend: Literal["local", "milvus"] = Field(
        "local",
        description="`local` (FAISS + BM25 files in QA_INDEX_DIR) or `milvus` (QA_MILVUS_URI).",
    )
    milvus_uri: str | None = Field(
        None,
        description="Milvus: a file path is embedded Milvus Lite, `http://host:19530` a server "
        "or cluster; default `<QA_INDEX_DIR>/milvus.db`.",
    )
    milvus_token: str | None = Field(
        None, description="Milvus: token (`user:password` or API key), when the server needs one."
    )
    milvus_collection: str | None = Field(
        None,
        description="Milvus: passage collection name; default derived from QA_CORPUS_DIR.",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$",
    )

    # embedding and chunking
    embedding_model: str = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model name or path; the default is bundled offline.",
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Passages embedded per batch.")
    chunk_size: int = Field(160, ge=16, description="Target passage size, in model tokens.")
    chunk_overlap: int = Field(0, ge=0, description="Tokens of context repeated between passages.")
    min_chunk_tokens: int = Field(24, ge=0, description="Smaller fragments merge with a neighbour.")

    # retrieval and answers
    k: int = Field(5, ge=1, description="Passages retrieved per question.")
    fusion: Literal["rrf", "convex"] = Field(
        "rrf", description="How dense and BM25 rankings combine: `rrf` or `convex`."
    )
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of the dense ranking in fusion.")
    lexical_weight: float = Field(1.15, ge=0.0, description="Weight of the BM25 ranking in fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion damping constant.")
    answer_scorer: Literal["rules", "trained"] = Field(
        "rules",
        description="What judges answer sentences: `rules` (the calibrated retrieval-score "
        "rule) or `trained` (the bundled cross-encoder: slower, and behind on held-out data).",
    )
    scorer_path: Path | None = Field(
        None,
        description="Folder of a scorer written by `training/train_scorer.py`; default: the "
        "bundled one.",
    )
    abstain_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Abstain when the calibrated answer probability is below this; default: "
        "the trained scorer's calibrated threshold (0.5 for `rules`).",
    )
    answer_checks: bool = Field(
        True,
        description="Also abstain when the quotes lack a name, figure or date the question "
        "asks for.",
    )
    max_answer_sentences: int = Field(
        3, ge=1, le=10, description="At most this many quotes in one answer (a cap, not a target)."
    )
    max_list_sentences: int = Field(
        8, ge=1, le=50, description="At most this many quotes answering a list question."
    )
    max_quote_words: int = Field(
        120,
        ge=10,
        description="Longest quote when a sentence is extended back to the one naming its subject.",
    )
    quote_clauses: bool = Field(
        True,
        description="Quote a long sentence only up to the end of the clause that answers, when "
        "the rest says nothing the question asks; `false` quotes whole sentences.",
    )
    model_languages: list[str] = Field(
        default_factory=lambda: ["en"],
        description="Languages (ISO 639-1) the embedding model reads; `*` for any. Questions in "
        "others abstain with reason `language`.",
    )
    flat_index_max: int = Field(
        50_000, ge=0, description="Exact FAISS search up to this many passages; HNSW above."
    )

    # serving
    host: str = Field("127.0.0.1", description="Address `qa serve` binds to.")
    port: int = Field(8000, ge=0, le=65535, description="Port `qa serve` listens on.")
    api_key: str | None = Field(None, description="When set, required as `Bearer` token.")
    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins.")
    max_question_chars: int = Field(2000, ge=1, description="Longest accepted question.")
    max_k: int = Field(50, ge=1, description="Largest accepted `k`.")
    max_request_bytes: int = Field(1_000_000, ge=1024, description="Largest JSON request body.")
    max_upload_bytes: int = Field(20_000_000, ge=1024, description="Largest uploaded document.")
    max_file_bytes: int = Field(50_000_000, ge=1024, description="Larger corpus files are skipped.")
    ocr: bool = Field(
        True, description="OCR PDF pages without a text layer when Tesseract is installed."
    )
    log_level: str = Field("WARNING", description="Logging level for stderr.")

    @model_validator(mode="after")
    def _check_invariants(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        if self.k > self.max_k:
            raise ValueError("k must not exceed max_k")
        if self.dense_weight == 0 and self.lexical_weight == 0:
            raise ValueError("dense_weight and lexical_weight cannot both be 0")
        return self


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, with `overrides` (None values ignored) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"QA_{'.'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"Invalid configuration: {problems}.", remedy="Fix the variable or option and retry."
        ) from exc
