"""Query encoding without torch: export a sentence-transformers model to ONNX, then run it.

At ingest `export_query_encoder` writes `model.onnx`, `tokenizer.json` and `encoder.json` into
the index's `onnx/` folder; at query time `OnnxQueryEncoder` needs only onnxruntime and tokenizers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Written last: its presence marks an export as complete.
CONFIG_FILE = "encoder.json"

PoolingMode = Literal["mean", "cls"]
Exporter = Literal["torchscript", "dynamo"]

_SUPPORTED_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_BATCH_SIZE = 32
# Parity the export must reach against sentence-transformers before it is kept.
_MIN_COSINE = 0.9999
_PROBES = (
    "What is the notice period?",
    "Ünïcødé façade — naïve café; 日本語のテキスト, ¿qué?",
    "a, b; c!!! (d) [e] {f} ... -- '' \"\"",
)


class UnsupportedModelError(ValueError):
    """The model has a part the ONNX encoder cannot reproduce exactly."""


def find_export(index_path: Path) -> Path | None:
    """`index_path / "onnx"` if it holds a complete export, else None."""
    folder = index_path / "onnx"
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
        return None
    if not (folder / MODEL_FILE).is_file() or not (folder / TOKENIZER_FILE).is_file():
        return None
    return folder


def export_query_encoder(
    model: Any,
    out_dir: Path,
    *,
    exporters: Sequence[Exporter] = ("torchscript", "dynamo"),
) -> Path | None:
    """Export a loaded SentenceTransformer to `out_dir`; None if it cannot be reproduced exactly.

    The export is built in a sibling temporary folder, checked against `model.encode` on a few
    probe texts, and only then renamed into place, so a half-written export is never picked up.
    `exporters` are tried in order: torch's TorchScript exporter is deprecated but takes ~1.5 s,
    its dynamo exporter ~5 s.
    """
    try:
        config, hf_model = _describe(model)
    except (UnsupportedModelError, AttributeError, TypeError, ImportError) as exc:
        logger.warning("no ONNX query encoder: %s; queries will use sentence-transformers", exc)
        return None

    for exporter in exporters:
        tmp: Path | None = None
        try:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
            _write_export(model, hf_model, {**config, "exporter": exporter}, tmp)
            _check_parity(model, tmp)
            _swap_in(tmp, out_dir)
        except OSError as exc:  # the folder itself is the problem: another exporter won't help
            logger.warning("cannot write ONNX export to %s: %s", out_dir, exc)
            _remove(tmp)
            return None
        # Exporters fail in many ways (tracing, unsupported ops, onnxruntime load errors);
        # any failure only means "no fast path", never a failed ingest.
        except Exception as exc:
            logger.info("ONNX export with the %s exporter failed: %s", exporter, exc)
            _remove(tmp)
            continue
        logger.info("exported ONNX query encoder to %s (%s exporter)", out_dir, exporter)
        return out_dir
    logger.warning("ONNX export failed; queries will use sentence-transformers")
    return None


def _remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


class OnnxQueryEncoder:
    """Encodes queries with an exported model through onnxruntime, like sentence-transformers."""

    def __init__(self, path: Path, *, model_id: str, threads: int | None = None) -> None:
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

        self.model_id = model_id
        self.path = path
        config = _read_config(path)
        self.dimension: int = int(config["dimension"])
        self.max_seq_length: int = int(config["max_seq_length"])
        self._pooling: PoolingMode = config["pooling"]
        self._input_names: list[str] = list(config["input_names"])
        self._tokenizer = _load_tokenizer(path / TOKENIZER_FILE, config)

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or _default_threads()
        options.inter_op_num_threads = 1
        # Spinning threads would burn a shared core between queries for a few ms of latency.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._ort_errors: tuple[type[Exception], ...] = _ort_error_types(ort_state)
        try:
            self._session = ort.InferenceSession(
                str(path / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except self._ort_errors as exc:
            raise RuntimeError(f"cannot load {path / MODEL_FILE}: {exc}") from exc
        session_inputs = {node.name for node in self._session.get_inputs()}
        if session_inputs != set(self._input_names):
            raise ValueError(
                f"{path / MODEL_FILE} takes {sorted(session_inputs)}, not the config's"
            )

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> NDArray[np.float32]:
        """L2-normalised float32 vectors, shape (len(texts), dimension).

        `progress` is accepted for the `QueryEncoder` protocol; query batches are too small
        to need a bar.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # Batch texts of similar length together so little compute goes on padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), _BATCH_SIZE):
            rows = order[start : start + _BATCH_SIZE]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(texts)
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        feeds = {name: np.asarray(columns[name], dtype=np.int64) for name in self._input_names}
        try:
            (output,) = self._session.run(None, feeds)
        except self._ort_errors as exc:
            raise RuntimeError(f"ONNX query encoder failed: {exc}") from exc
        hidden: NDArray[np.float32] = np.asarray(output, dtype=np.float32)
        if hidden.ndim != 3 or hidden.shape[-1] != self.dimension:
            raise ValueError(
                f"ONNX model returned shape {hidden.shape}, expected (*, *, {self.dimension})"
            )
        pooled: NDArray[np.float32]
        if self._pooling == "cls":
            pooled = hidden[:, 0, :]
        else:
            mask = feeds["attention_mask"][:, :, None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit


def _describe(model: Any) -> tuple[dict[str, Any], Any]:
    """The runtime config of a supported model and its Hugging Face module, or raise."""
    from sentence_transformers.models import Normalize, Pooling, Transformer

    if getattr(model, "backend", "torch") != "torch":
        raise UnsupportedModelError(f"backend {model.backend!r} is not torch")
    modules = list(model)
    if not modules or not isinstance(modules[0], Transformer):
        raise UnsupportedModelError("the first module is not a Transformer")
    if len(modules) < 2 or not isinstance(modules[1], Pooling):
        raise UnsupportedModelError("the second module is not a Pooling module")
    normalize = len(modules) == 3 and isinstance(modules[2], Normalize)
    if len(modules) > 3 or (len(modules) == 3 and not normalize):
        extra = ", ".join(type(m).__name__ for m in modules[2:])
        raise UnsupportedModelError(f"modules after pooling ({extra}) are not supported")
    default_prompt = model.default_prompt_name and model.prompts.get(model.default_prompt_name)
    if default_prompt:
        raise UnsupportedModelError("a default prompt is set")

    transformer, pooling = modules[0], modules[1]
    mode = pooling.pooling_mode
    mode = mode[0] if isinstance(mode, (tuple, list)) and len(mode) == 1 else mode
    if mode not in ("mean", "cls"):
        raise UnsupportedModelError(f"pooling mode {mode!r} is not supported")
    text = transformer.modality_config.get("text", {})
    if text.get("method") != "forward" or text.get("method_output_name") != "last_hidden_state":
        raise UnsupportedModelError(f"text modality config {text!r} is not supported")
    tokenizer = transformer.tokenizer
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise UnsupportedModelError("the tokenizer is not a fast (tokenizers) tokenizer")
    if getattr(tokenizer, "padding_side", "right") != "right":
        raise UnsupportedModelError("the tokenizer pads on the left")
    max_seq_length = model.max_seq_length
    if not isinstance(max_seq_length, int) or max_seq_length <= 0:
        raise UnsupportedModelError(f"max_seq_length {max_seq_length!r} is not a positive int")

    hf_model = transformer.auto_model
    accepted = _forward_params(hf_model)
    names = [n for n in tokenizer.model_input_names if accepted is None or n in accepted]
    if "input_ids" not in names or "attention_mask" not in names:
        raise UnsupportedModelError(f"model inputs {names} lack input_ids or attention_mask")
    if unknown := [n for n in names if n not in _SUPPORTED_INPUTS]:
        raise UnsupportedModelError(f"model inputs {unknown} are not supported")
    dtype = next(hf_model.parameters()).dtype
    if str(dtype) != "torch.float32":
        raise UnsupportedModelError(f"weights are {dtype}, not float32")

    config = {
        "format_version": FORMAT_VERSION,
        "dimension": int(model.get_embedding_dimension()),
        "max_seq_length": max_seq_length,
        "pooling": mode,
        "normalize": True,  # callers always get unit vectors; `normalize_module` is informative
        "normalize_module": normalize,
        "do_lower_case": bool(getattr(transformer, "do_lower_case", False)),
        # Ordered so that positional export arguments follow the wrapper's signature.
        "input_names": [n for n in _SUPPORTED_INPUTS if n in names],
        "output_name": "last_hidden_state",
        "pad_id": int(tokenizer.pad_token_id),
        "pad_token": str(tokenizer.pad_token),
        "pad_type_id": int(getattr(tokenizer, "pad_token_type_id", 0) or 0),
    }
    return config, hf_model


def _forward_params(hf_model: Any) -> set[str] | None:
    import inspect

    params = inspect.signature(hf_model.forward).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return set(params)


def _write_export(model: Any, hf_model: Any, config: dict[str, Any], folder: Path) -> None:
    """Write tokenizer, model and (last, marking completion) config into `folder`."""
    import torch

    tokenizer_json = model[0].tokenizer.backend_tokenizer.to_str()
    (folder / TOKENIZER_FILE).write_text(tokenizer_json, encoding="utf-8")
    names: list[str] = config["input_names"]
    # Two rows, one padded, so the traced graph is the padded-batch path.
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3], dtype=torch.long)
    examples = {
        "input_ids": torch.where(mask.bool(), 1000, int(config["pad_id"])),
        "attention_mask": mask,
        "token_type_ids": torch.zeros((2, 8), dtype=torch.long),
    }
    device = next(hf_model.parameters()).device
    args = tuple(examples[n].to(device) for n in names)
    wrapper = _hidden_states_module(hf_model, names)
    target = str(folder / MODEL_FILE)
    was_training = model.training
    model.eval()
    try:
        # The exporters warn and print progress; neither belongs on our stdout.
        with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore")
            if config["exporter"] == "torchscript":
                axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
                torch.onnx.export(
                    wrapper,
                    args,
                    target,
                    dynamo=False,
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes=axes,
                    opset_version=17,
                )
            else:
                batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
                program = torch.onnx.export(
                    wrapper,
                    args,
                    dynamo=True,
                    input_names=names,
                    output_names=["last_hidden_state"],
                    opset_version=18,
                    verbose=False,
                    dynamic_shapes=(tuple({0: batch, 1: seq} for _ in names),),  # *inputs
                    external_data=False,
                )
                if program is None:
                    raise RuntimeError("the dynamo exporter returned no program")
                program.save(target, external_data=False)
    finally:
        model.train(was_training)
    config["torch_version"] = torch.__version__
    _write_json(folder / CONFIG_FILE, config)


def _hidden_states_module(hf_model: Any, names: list[str]) -> Any:
    """Wrap the Hugging Face model: positional inputs in, last hidden state out."""
    import torch

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hf_model = hf_model

        def forward(self, *inputs: Any) -> Any:
            kwargs = dict(zip(names, inputs, strict=True))
            return self.hf_model(**kwargs, return_dict=True).last_hidden_state

    return HiddenStates().eval()


def _check_parity(model: Any, folder: Path) -> None:
    """Raise if the export in `folder` disagrees with `model.encode` on the probe texts."""
    long_text = " ".join(["policy"] * (2 * int(model.max_seq_length)))
    probes = [*_PROBES, long_text]
    expected = model.encode(
        probes, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    got = OnnxQueryEncoder(folder, model_id="parity-check").encode(probes)
    cosines = (np.asarray(expected, dtype=np.float32) * got).sum(axis=1)
    if float(cosines.min()) < _MIN_COSINE:
        raise ValueError(
            f"ONNX output differs from sentence-transformers (cosine {cosines.min():.6f})"
        )


def _swap_in(tmp: Path, out_dir: Path) -> None:
    """Replace `out_dir` with `tmp` by renames: readers see the old export, none, or the new one."""
    aside: Path | None = None
    if out_dir.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-old-", dir=out_dir.parent))
        os.replace(out_dir, aside / out_dir.name)
    try:
        os.replace(tmp, out_dir)
    except OSError:
        if aside is not None and not out_dir.exists():
            os.replace(aside / out_dir.name, out_dir)
        raise
    finally:
        _remove(aside)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path / CONFIG_FILE} is not valid JSON: {exc}") from exc
    if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path / CONFIG_FILE} is not a format {FORMAT_VERSION} export")
    required = ("dimension", "max_seq_length", "pooling", "input_names", "pad_id", "pad_token")
    if missing := [key for key in required if key not in config]:
        raise ValueError(f"{path / CONFIG_FILE} lacks {missing}")
    if config["pooling"] not in ("mean", "cls"):
        raise ValueError(f"{path / CONFIG_FILE}: unknown pooling {config['pooling']!r}")
    if not set(config["input_names"]) <= set(_SUPPORTED_INPUTS):
        raise ValueError(f"{path / CONFIG_FILE}: unknown inputs {config['input_names']!r}")
    return config


def _load_tokenizer(file: Path, config: dict[str, Any]) -> Any:
    from tokenizers import Tokenizer

    text = file.read_text(encoding="utf-8")
    try:
        tokenizer = Tokenizer.from_str(text)
    # tokenizers reports every parse failure as a bare Exception.
    except Exception as exc:
        raise ValueError(f"{file} is not a valid tokenizer: {exc}") from exc
    tokenizer.no_padding()
    # Same cut as sentence-transformers: max_seq_length tokens, special tokens included.
    tokenizer.enable_truncation(max_length=int(config["max_seq_length"]), strategy="longest_first")
    tokenizer.enable_padding(
        direction="right",
        pad_id=int(config["pad_id"]),
        pad_type_id=int(config.get("pad_type_id", 0)),
        pad_token=str(config["pad_token"]),
    )
    return tokenizer


def _ort_error_types(ort_state: Any) -> tuple[type[Exception], ...]:
    """onnxruntime's own exception classes; they derive from Exception and nothing narrower."""
    return tuple(
        cls
        for cls in vars(ort_state).values()
        if isinstance(cls, type)
        and issubclass(cls, Exception)
        and cls.__module__ == ort_state.__name__
    )


def _default_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    # Beyond a few threads a single short query gains nothing and other processes lose.
    return max(1, min(cores, 4))
