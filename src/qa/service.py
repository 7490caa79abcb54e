"""`QAService`: the one core object behind the CLI, HTTP, MCP and OpenAI surfaces.

It owns the settings, the embedder, the index backend (`qa.backends`: local folder or
Milvus) and the reader currently open on it. Reads (ask, search, documents) use one
reader, so a concurrent ingest or hot reload swaps it without disturbing requests
already in flight.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from qa.backends.base import IndexBackend, IndexReader, open_backend
from qa.backends.local import LocalBackend, LocalReader
from qa.config import Settings
from qa.encoders.base import Embedder, QueryEncoder
from qa.encoders.sentence_transformer import load_embedder, load_query_encoder
from qa.errors import (
    ConfigError,
    CorpusError,
    DocumentParseError,
    NoTextLayerError,
    QueryError,
)
from qa.fields.store import StoredFields, assemble_map, read_fields, require_fields
from qa.formats import describe_formats
from qa.index import layout
from qa.index.builder import IndexBuilder, Progress
from qa.index.snapshot import IndexSnapshot
from qa.index.store import IndexStore
from qa.ingest.corpus import read_document, safe_corpus_path
from qa.ingest.ocr import ocr_available
from qa.models import (
    QUESTION_PATTERN,
    Answer,
    DocumentDetail,
    DocumentInfo,
    FieldMap,
    IndexInfo,
    IndexStatus,
    IngestReport,
    PassageDetail,
    SearchResult,
    SkippedFile,
)
from qa.retrieval.names import DocumentNames, named_first
from qa.retrieval.retriever import (
    Candidate,
    HybridRetriever,
    retrieve_named_parts,
    spread_pages,
    to_hit,
)

if TYPE_CHECKING:
    from qa.answer.questions import QuestionPlan
    from qa.answer.scorer import SentenceScorer

logger = logging.getLogger(__name__)


class Loaded(NamedTuple):
    """The index build a request reads, and the retriever over it."""

    snapshot: IndexSnapshot
    retriever: HybridRetriever


class QAService:
    """Ingest, ask, search and browse one corpus with one index."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        query_encoder: QueryEncoder | None = None,
        store: IndexStore | None = None,
        backend: IndexBackend | None = None,
    ) -> None:
        self.settings = settings
        if backend is None:
            backend = LocalBackend(settings, store=store) if store else open_backend(settings)
        self.backend = backend
        self._embedder = embedder
        self._query_encoder = query_encoder
        self._reader: IndexReader | None = None
        self._names: tuple[str, DocumentNames] | None = None  # (reader version, names)
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._warm = False  # set by warm(): servers keep whole builds in hand
        # (build id, its field map or None when it has no readable one)
        self._fields: tuple[str, StoredFields | None] | None = None
        self._scorer: tuple[SentenceScorer | None] | None = None  # loaded on first ask
        if "corpus_dir" not in settings.model_fields_set and isinstance(backend, LocalBackend):
            # `qa ingest FOLDER` recorded another corpus: status and ingest follow it.
            recorded = self.store.recorded_corpus()
            if recorded is not None and recorded != settings.corpus_dir.resolve():
                self._use_corpus(recorded)

    def _use_corpus(self, folder: Path) -> None:
        settings = self.settings.model_copy(update={"corpus_dir": folder})
        self.settings = self.store.settings = self.builder.settings = settings

    # -- collaborators, built lazily so `qa status` never loads a model ----------------

    @property
    def embedder(self) -> Embedder:
        """The passage embedder (sentence-transformers); loaded on first use."""
        if self._embedder is None:
            self._embedder = load_embedder(self.settings)
        return self._embedder

    def _encoder_for(self, folder: Path | None) -> QueryEncoder:
        if self._query_encoder is None:
            if self._embedder is not None or folder is None:
                self._query_encoder = self.embedder
            else:
                self._query_encoder = load_query_encoder(self.settings, folder / layout.ONNX)
        return self._query_encoder

    def scorer(self) -> SentenceScorer | None:
        """The trained answer scorer (None for QA_ANSWER_SCORER=rules); loaded on first use.

        A configured QA_SCORER_PATH that cannot be read is a configuration error; a broken
        bundled scorer falls back to the rule with a warning.
        """
        from qa.answer.scorer import SentenceScorer, bundled_scorer

        if self._scorer is None:
            if self.settings.answer_scorer == "rules":
                self._scorer = (None,)
            elif self.settings.scorer_path is None:
                self._scorer = (bundled_scorer(),)
            else:
                try:
                    self._scorer = (SentenceScorer(self.settings.scorer_path),)
                except (OSError, ValueError) as exc:
                    raise ConfigError(
                        f"QA_SCORER_PATH {self.settings.scorer_path} is not a usable scorer: {exc}",
                        remedy="Point it at a folder written by training/train_scorer.py, or "
                        "unset it for the bundled scorer.",
                    ) from exc
        return self._scorer[0]

    def _local(self) -> LocalBackend:
        if not isinstance(self.backend, LocalBackend):
            raise ConfigError(
                "This needs the local index folder, but QA_INDEX_BACKEND is "
                f"{self.settings.index_backend!r}.",
                remedy="Set QA_INDEX_BACKEND=local.",
            )
        return self.backend

    @property
    def store(self) -> IndexStore:
        """The local index folder (local backend only)."""
        return self._local().store

    @property
    def builder(self) -> IndexBuilder:
        """The local build pipeline (local backend only)."""
        return self._local().builder

    def reader(self) -> IndexReader:
        """The open reader, reopened when a newer version has been published anywhere.

        Take everything a request needs from one reader: a concurrent ingest may publish a
        newer version between two calls.
        """
        with self._read_lock:
            reader = self._reader
            if reader is None or self.backend.is_newer_than(reader):
                replacing = reader is not None
                reader = self.backend.open(self._encoder_for)
                if replacing or self._warm:
                    reader.warm()  # a long-running process: read it all while it exists
                self._reader = reader
            return reader

    def current(self) -> Loaded:
        """The local snapshot and its retriever (local backend only), loading when needed."""
        self._local()
        reader = self.reader()
        assert isinstance(reader, LocalReader)
        return Loaded(reader.snapshot, reader.retriever)

    def warm(self) -> None:
        """Load the whole index (or a newer build) now, and keep later builds whole too.

        Servers call this at start-up, so a request never waits on a cold load and a build
        pruned by a later ingest is never read from disk again.
        """
        self._warm = True
        self.reader().warm()
        self.scorer()

    def info(self) -> IndexInfo:
        """A cheap description of the build being served (loading it if needed)."""
        return self.reader().info()

    # -- writing ------------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path] | None = None,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        export_query_encoder: bool = True,
    ) -> IngestReport:
        """Index `paths` (default: the corpus folder) incrementally; swap the result in.

        `progress`, when given, is told how far embedding has got (the CLI draws a bar).
        `export_query_encoder=False` skips the ONNX export, for throwaway indexes (eval)
        that are queried in-process with the loaded model anyway.

        A single folder outside the corpus becomes the corpus: the build records it, and
        later services over this index use it (unless QA_CORPUS_DIR is set).
        """
        if paths and len(paths) == 1 and Path(paths[0]).is_dir():
            folder = Path(paths[0]).resolve()
            if not folder.is_relative_to(self.settings.corpus_dir.resolve()):
                logger.info("indexing %s as the corpus", folder)
                self._use_corpus(folder)
                paths = None
        with self._write_lock:
            report = self.backend.ingest(
                paths,
                embedder_factory=lambda: self.embedder,
                rebuild=rebuild,
                progress=progress,
                export_query_encoder=export_query_encoder,
            )
        self._invalidate()
        return report.model_copy(update={"corpus_dir": str(self.settings.corpus_dir.resolve())})

    def add_document(self, filename: str, content: bytes) -> IngestReport:
        """Store an uploaded file in the corpus under a safe name, then index it.

        The file is parsed before it enters the corpus, so a bad upload changes nothing;
        an upload with an existing name replaces that document (restored if indexing fails).
        The check reads without OCR (indexing OCRs a scanned page once, not twice); a
        scanned PDF that OCR then cannot read is refused the same way.
        """
        target = safe_corpus_path(self.settings.corpus_dir, filename)
        if len(content) > self.settings.max_upload_bytes:
            raise CorpusError(
                f"Upload is {len(content)} bytes, over the "
                f"{self.settings.max_upload_bytes}-byte limit.",
                remedy="Split the document or raise QA_MAX_UPLOAD_BYTES.",
            )
        with self._write_lock:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Hidden names are never ingested, so the staged file cannot leak into a build.
            staged = target.with_name(f".{target.name}.upload{target.suffix}")
            backup = target.with_name(f".{target.name}.previous")
            staged.write_bytes(content)
            try:
                try:
                    read_document(staged, self.settings.corpus_dir, ocr=False,
                                  max_bytes=self.settings.max_file_bytes)  # fmt: skip
                except NoTextLayerError:
                    if not (self.settings.ocr and ocr_available()):
                        raise
            except DocumentParseError as exc:
                staged.unlink(missing_ok=True)
                raise self._refused(exc.message.replace(staged.name, filename)) from exc
            replaced = target.exists()
            if replaced:
                target.replace(backup)
            staged.replace(target)
            indexed = False
            skip: SkippedFile | None = None
            try:
                report = self.backend.ingest(None, embedder_factory=lambda: self.embedder)
                # `target` is resolved; the setting may be relative (the default `corpus`).
                source = target.relative_to(self.settings.corpus_dir.resolve()).as_posix()
                # A scanned PDF whose pages OCR could not read is skipped, not indexed.
                skip = next((f for f in report.skipped if f.source == source), None)
                indexed = skip is None
            finally:
                if not indexed:  # leave the corpus as it was
                    target.unlink(missing_ok=True)
                    if replaced:
                        backup.replace(target)
            backup.unlink(missing_ok=True)
            if skip is not None:
                # The index is brought back to the corpus as it was, then the upload refused.
                self.backend.ingest(None, embedder_factory=lambda: self.embedder)
                self._invalidate()
                raise self._refused(f"{filename}: {skip.reason}")
        self._invalidate()
        return report

    @staticmethod
    def _refused(message: str) -> CorpusError:
        return CorpusError(message, remedy=f"Upload a readable {describe_formats()} file.")

    def remove_document(self, document_id: str) -> IngestReport:
        """Delete a document's file from the corpus and drop it from the index."""
        document = self.reader().document(document_id)
        path = safe_corpus_path(self.settings.corpus_dir, document.source)
        with self._write_lock:
            path.unlink(missing_ok=True)
            report = self.backend.ingest(None, embedder_factory=lambda: self.embedder)
        self._invalidate()
        return report

    def _invalidate(self) -> None:
        with self._read_lock:
            self._reader = None

    # -- reading ------------------------------------------------------------------------

    def check_question(self, text: str, *, what: str = "question") -> str:
        """Strip `text` and enforce the length limits, or raise `QueryError`."""
        cleaned = text.strip() if isinstance(text, str) else ""
        if not re.search(QUESTION_PATTERN, cleaned):  # the rule the JSON schemas state
            raise QueryError(
                f"The {what} is empty.", remedy=f"Type a {what} with some words in it."
            )
        if len(cleaned) > self.settings.max_question_chars:
            raise QueryError(
                f"The {what} has {len(cleaned)} characters; the limit is "
                f"{self.settings.max_question_chars}.",
                remedy=f"Shorten the {what}.",
            )
        return cleaned

    def _check_k(self, k: int | None) -> int:
        k = self.settings.k if k is None else k
        if not 1 <= k <= self.settings.max_k:
            raise QueryError(f"k must be between 1 and {self.settings.max_k}, not {k}.")
        return k

    def search(
        self, query: str, *, k: int | None = None, documents: Sequence[str] | None = None
    ) -> SearchResult:
        """The top-`k` passages for `query` by hybrid retrieval."""
        query = self.check_question(query, what="query")
        k = self._check_k(k)
        candidates = spread_pages(self._retrieve(self.reader(), query, 3 * k, documents), k)
        return SearchResult(query=query, hits=[to_hit(r, c) for r, c in enumerate(candidates, 1)])

    def ask(
        self, question: str, *, k: int | None = None, documents: Sequence[str] | None = None
    ) -> Answer:
        """An extractive answer citing its passages, or an abstention with suggestions."""
        # The answer layer (its patterns and the gazetteer) is read on the first question,
        # not by `qa status` or `qa search`.
        from qa.answer.compose import compose_answer
        from qa.answer.from_map import answer_from_map, read_question
        from qa.answer.questions import spell_out_names

        question = self.check_question(question)
        k = self._check_k(k)
        reader = self.reader()

        query = spell_out_names(question)  # "Philipines" retrieves the Philippines
        named = self._named(reader, question) if documents is None else None

        def answer_from(scope: Sequence[str] | None) -> Answer:
            def retrieve(n: int) -> list[Candidate]:
                return _retrieve_parts(reader, query, n, scope, only_named=True)

            def from_map(plan: QuestionPlan) -> Answer | None:
                assert isinstance(reader, LocalReader)
                stored = self._stored_fields(reader.snapshot)
                if stored is None:
                    return None
                asked = read_question(plan, stored, reader.retriever.query_vector(query))
                if asked is None:
                    return None
                field_map = self._assemble(
                    reader.snapshot, stored, scope, actors=asked.actors, fields=asked.fields
                )
                return answer_from_map(
                    plan, asked, field_map, limit=self.settings.max_list_sentences
                )

            return compose_answer(
                question,
                retrieve,
                reader.evidence,
                self.settings,
                k=k,
                scorer=self.scorer(),
                from_map=from_map if isinstance(reader, LocalReader) else None,
            )

        if not named:
            return answer_from(documents)
        # A question naming a document is answered from it, so another document's figure is
        # never quoted for it; only if it does not say, or leaves part of the question
        # uncovered that the whole corpus covers, is the corpus's answer taken, and then it
        # says that it quotes other documents.
        answer = answer_from(named)
        if answer.answered and not answer.uncovered:
            return answer
        wider = answer_from(documents)
        if answer.answered and (
            not wider.answered or len(wider.uncovered) >= len(answer.uncovered)
        ):
            return answer
        if wider.answered and not any(c.document_id in named for c in wider.citations):
            wider = wider.model_copy(update={"caution": self._elsewhere(reader, named)})
        return wider

    @staticmethod
    def _elsewhere(reader: IndexReader, named: Sequence[str]) -> str:
        sources = [d.source for d in reader.document_infos() if d.id in named]
        which = (
            f"The document the question names ({sources[0]}) does not say"
            if len(sources) == 1
            else f"The documents the question names ({', '.join(sources)}) do not say"
        )
        return f"{which}; this answer quotes other documents, as its sources show."

    def _named(self, reader: IndexReader, question: str) -> list[str] | None:
        """The documents `question` names by title or file name (`qa.retrieval.names`)."""
        version = reader.version
        names = self._names
        if names is None or names[0] != version:
            infos = reader.document_infos()
            names = (version, DocumentNames((d.id, d.title, d.source) for d in infos))
            self._names = names
        return names[1].named(question)

    def _retrieve(
        self, reader: IndexReader, query: str, k: int, documents: Sequence[str] | None
    ) -> list[Candidate]:
        """`reader.retrieve`, the documents the query names first when the caller chose none,
        and the statement it names first within them (`retrieve_named_parts`)."""
        named = self._named(reader, query) if documents is None else None

        def retrieve(scope: Sequence[str] | None) -> list[Candidate]:
            return _retrieve_parts(reader, query, k, scope)

        if not named:
            return retrieve(documents)
        return named_first(
            retrieve,
            named,
            k,
            key=lambda c: c.passage.id,
        )

    def documents(self) -> list[DocumentInfo]:
        """Every indexed document, in source order."""
        return self.reader().document_infos()

    def document(self, document_id: str) -> DocumentDetail:
        """One document with its normalised text."""
        return self.reader().document_detail(document_id)

    def passage(self, passage_id: str) -> PassageDetail:
        """One passage with the ids of its neighbours in the same document."""
        return self.reader().passage_detail(passage_id)

    def status(self) -> IndexStatus:
        """Index summary and staleness against the corpus, without loading a model."""
        return self.backend.status()

    def _snapshot_only(self) -> IndexSnapshot:
        # The field map needs no retriever: never load a model or the ONNX encoder for it.
        with self._read_lock:
            reader = self._reader
        if isinstance(reader, LocalReader) and not self.backend.is_newer_than(reader):
            return reader.snapshot
        return self.store.load()

    def fields(
        self,
        documents: Sequence[str] | None = None,
        actors: Sequence[str] | None = None,
        fields: Sequence[str] | None = None,
    ) -> FieldMap:
        """The cooperation-field map: actors x fields, each cell with its cited sentences.

        `documents` (ids or sources) limits the corpus; `actors` (ids or names) keeps the
        cells of those actors, their blocs or members, and the cells naming them as
        partners; `fields` (ids) keeps those columns. Read from the build: no model runs.
        """
        snapshot = self._snapshot_only()
        stored = self._stored_fields(snapshot)
        if stored is None:
            stored = require_fields(snapshot.path / layout.FIELDS)  # raises its remedy
        return self._assemble(snapshot, stored, documents, actors=actors, fields=fields)

    def _stored_fields(self, snapshot: IndexSnapshot) -> StoredFields | None:
        """The build's field map, or None without a readable one; read once per build, so
        an ask on a build without one does not read (and warn about) the file again."""
        cached = self._fields
        if cached is None or cached[0] != snapshot.build_id:
            cached = self._fields = (snapshot.build_id, read_fields(snapshot.path / layout.FIELDS))
        return cached[1]

    @staticmethod
    def _assemble(
        snapshot: IndexSnapshot,
        stored: StoredFields,
        documents: Sequence[str] | None,
        *,
        actors: Sequence[str] | None,
        fields: Sequence[str] | None,
    ) -> FieldMap:
        chosen = [snapshot.document(d).id for d in documents] if documents else None
        return assemble_map(
            stored,
            lambda passage_id: snapshot.passage(snapshot.row_of(passage_id)),
            documents=chosen,
            actors=actors,
            fields=fields,
        )


__all__ = ["QAService"]


def _retrieve_parts(
    reader: IndexReader,
    query: str,
    k: int,
    documents: Sequence[str] | None,
    *,
    only_named: bool = False,
) -> list[Candidate]:
    """`reader.retrieve` through `retrieve_named_parts`: a statement the query names first."""
    return retrieve_named_parts(
        lambda text, n: reader.retrieve(text, k=n, documents=documents),
        query,
        k,
        only_named=only_named,
    )
