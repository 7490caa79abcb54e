"""Exporting a sentence-transformers model to ONNX (needs torch; runs at ingest only).

The export is checked against the model before it is kept, so `OnnxQueryEncoder` gives the
same vectors as sentence-transformers, or there is no export and queries fall back to it.
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
from typing import Any, Literal

import numpy as np

from qa.encoders.onnx import (
    CONFIG_FILE,
    FORMAT_VERSION,
    MODEL_FILE,
    SUPPORTED_INPUTS,
    TOKENIZER_FILE,
    OnnxQueryEncoder,
)

logger = logging.getLogger(__name__)

Exporter = Literal["torchscript", "dynamo"]

_MIN_COSINE = 0.9999
_PROBES = (
    "What is the notice period?",
    "Ünïcødé façade — naïve café; 日本語のテキスト, ¿qué?",
    "a, b; c!!! (d) [e] {f} ... -- '' \"\"",
)


class UnsupportedModelError(ValueError):
    """The model has a part the ONNX encoder cannot reproduce exactly."""


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
    if unknown := [n for n in names if n not in SUPPORTED_INPUTS]:
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
        "input_names": [n for n in SUPPORTED_INPUTS if n in names],
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
