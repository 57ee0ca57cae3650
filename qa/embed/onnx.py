"""Embed stage, int8 path: the e5 encoder exported to ONNX, fused and quantised to int8,
run by onnxruntime + tokenizers + numpy (no optimum, no torch at query time).

The default backend (``BULLETIN_QA_BACKEND``, or ``Embedder(backend=...)``; "torch" runs the
sentence-transformers model instead): :class:`qa.embed.model.Embedder` routes its encode calls here.
The recipe (measured before the work; the speed and agreement figures are in docs/figures.md):

1. load the converted sentence-transformers folder's BERT with *eager* attention (with SDPA
   the optimizer fuses no Attention node) and export it with ``torch.onnx.export(dynamo=False,
   opset 17)``, dynamic batch and sequence axes;
2. ``onnxruntime.transformers.optimizer.optimize_model(model_type="bert", num_heads=12,
   hidden_size=384)`` fuses EmbedLayerNorm, Attention, BiasGelu, SkipLayerNorm;
3. the fused Attention split into its QKV MatMul and a float MultiHeadAttention
   (qa/embed/rowquant.py);
4. ``quantize_dynamic`` of the MatMuls and the embedding table: QInt8 weights, per channel,
   reduced range, symmetric weights, MatMulConstBOnly, ``DefaultTensorType=1`` (FLOAT; without
   it the fused graph fails with "Unable to find data type for weight");
5. each activation quantised per token row instead of per tensor (qa/embed/rowquant.py), so a
   text's vector is the same alone and in any batch: a fresh build, an incremental one and
   the embedding cache give the same bytes.

The result is cached beside the converted model, in a folder keyed by the hash of the
converted weights and :data:`EXPORT_VERSION`, so it is built once per machine (≈1 min).
:class:`OnnxEncoder` mirrors the part of ``SentenceTransformer.encode`` that the project
uses (prompt, batch size, normalise, numpy out): mean pooling over the attention mask,
L2 normalisation, batches formed from length-sorted texts so little padding is computed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path


import numpy as np

log = logging.getLogger(__name__)

EXPORT_VERSION = "2"  # bump when the export/optimise/quantise recipe changes (2: per-row activation scales)
MAX_LENGTH = 512
SHORT_QUERY_TOKENS = 64  # a query up to this many tokens is embedded on one thread


def weights_hash(model_dir: Path, cache: Path) -> str:
    """sha256 of the converted model's weights file(s) (a single file's remembered in ``cache``)."""
    from qa.files import weights_sha256

    h = hashlib.sha256()
    files = sorted(Path(model_dir).glob("*.safetensors")) or sorted(Path(model_dir).glob("*.bin"))
    if not files:
        raise FileNotFoundError(f"no weights (*.safetensors / *.bin) in {model_dir}")
    if len(files) == 1:  # the sha256 of the one file (remembered by its stat)
        return weights_sha256(files[0], cache)
    for f in files:
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def int8_model_dir(model_dir: Path, cache: Path) -> Path:
    """Where the int8 export of ``model_dir`` is cached: a sibling folder keyed by its weights hash."""
    model_dir = Path(model_dir)
    return model_dir.parent / f"{model_dir.name}-onnx-int8-{weights_hash(model_dir, cache)[:16]}-x{EXPORT_VERSION}"


def export_int8(model_dir: Path, out_dir: Path | None = None, *, cache: Path) -> Path:
    """Export, fuse and quantise the BERT encoder of a sentence-transformers folder (once; two
    fresh processes: one exports, the other waits, as for the model conversion)."""
    from qa.files import made_once

    model_dir = Path(model_dir)
    out_dir = Path(out_dir) if out_dir else int8_model_dir(model_dir, cache)
    made_once(out_dir / "model.onnx", lambda folder: _export(model_dir, folder, cache))
    return out_dir


def _export(model_dir: Path, out_dir: Path, cache: Path) -> None:
    import torch
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig, AutoModel

    from qa.embed.rowquant import attention_to_matmul, quantize

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-export-", dir=out_dir.parent))
    try:
        log.info("exporting %s to int8 ONNX at %s (once)", model_dir, out_dir)
        config = AutoConfig.from_pretrained(model_dir)
        model = AutoModel.from_pretrained(model_dir, attn_implementation="eager", add_pooling_layer=False)
        model.eval()

        class Encoder(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.m(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

        ids = torch.ones((2, 16), dtype=torch.long)
        dyn = {0: "batch", 1: "sequence"}
        fp32 = tmp / "fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(Encoder(model), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32),
                              input_names=["input_ids", "attention_mask", "token_type_ids"],
                              output_names=["last_hidden_state"],
                              dynamic_axes={"input_ids": dyn, "attention_mask": dyn, "token_type_ids": dyn,
                                            "last_hidden_state": dyn},
                              opset_version=17, do_constant_folding=True, dynamo=False)
        fused = tmp / "fused.onnx"
        opt = optimize_model(str(fp32), model_type="bert", num_heads=config.num_attention_heads,
                             hidden_size=config.hidden_size)
        fusions = opt.get_fused_operator_statistics()
        attention_to_matmul(opt.model)
        opt.save_model_to_file(str(fused))
        quantize(fused, tmp / "model.onnx")
        for f in (fp32, fused):
            f.unlink()
        for extra in tmp.glob("*.data"):
            extra.unlink()
        shutil.copy(model_dir / "tokenizer.json", tmp / "tokenizer.json")
        (tmp / "export.json").write_text(json.dumps(
            {"source": str(model_dir), "weights_sha256": weights_hash(model_dir, cache), "export": EXPORT_VERSION,
             "fusions": fusions, "hidden_size": config.hidden_size,
             "recipe": "eager attention; torch.onnx.export dynamo=False opset 17; ORT bert optimizer; "
                       "Attention -> MatMul + MultiHeadAttention; quantize_dynamic QInt8 per-channel reduce_range "
                       "WeightSymmetric MatMulConstBOnly; activations per row, symmetric, zero point 128"},
            indent=1))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class OnnxEncoder:
    """Duck-types the slice of ``SentenceTransformer`` that :class:`qa.embed.model.Embedder` uses:
    ``encode(texts, prompt=, batch_size=, normalize_embeddings=, ...)`` and
    ``get_embedding_dimension()``."""

    def __init__(self, model_dir: Path, threads: int | None = None, device: str = "cpu", *, cache: Path):
        from tokenizers import Tokenizer

        if device not in ("cpu", None):
            log.warning("the onnx-int8 backend runs on the CPU only; ignoring device=%s", device)
        self.path = export_int8(model_dir, cache=cache)
        meta = json.loads((self.path / "export.json").read_text())
        self.dim = int(meta["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_LENGTH)
        self.tokenizer.no_padding()
        self.threads = threads or (os.cpu_count() or 1)
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()
        self.pad_id = self.tokenizer.token_to_id("<pad>") or 1

    def session(self, threads: int):
        """One ONNX Runtime session per thread count, made on first use: passages run on all
        cores, a short query on one (see SHORT_QUERY_TOKENS)."""
        s = self._sessions.get(threads)
        if s is None:
            import onnxruntime as ort

            with self._lock:
                s = self._sessions.get(threads)
                if s is None:
                    opts = ort.SessionOptions()
                    opts.intra_op_num_threads = threads
                    opts.inter_op_num_threads = 1
                    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                    # no busy-waiting between runs: spinning ORT threads starve the second model's
                    # (numpy) query encoding on the same 2 cores (measured: 8 ms -> 420 ms)
                    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                    # the CPU provider explicitly: onnxruntime may list AzureExecutionProvider first
                    s = self._sessions[threads] = ort.InferenceSession(
                        str(self.path / "model.onnx"), opts, providers=["CPUExecutionProvider"])
        return s

    def get_embedding_dimension(self) -> int:
        return self.dim

    get_sentence_embedding_dimension = get_embedding_dimension

    def _batch(self, encs, threads: int) -> np.ndarray:
        n, width = len(encs), max(len(e.ids) for e in encs)
        ids = np.full((n, width), self.pad_id, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        for r, e in enumerate(encs):
            ids[r, :len(e.ids)] = e.ids
            mask[r, :len(e.ids)] = 1
        hidden = self.session(threads).run(None, {"input_ids": ids, "attention_mask": mask,
                                                  "token_type_ids": np.zeros_like(ids)})[0]
        # each row pooled over its own tokens only: the same sums whatever the batch's width
        return np.stack([hidden[r, :len(e.ids)].sum(axis=0) / len(e.ids) for r, e in enumerate(encs)])

    def encode(self, texts, prompt: str | None = None, batch_size: int = 16, normalize_embeddings: bool = True,
               convert_to_numpy: bool = True, show_progress_bar: bool = False, short_on_one_thread: bool = False,
               **_ignored) -> np.ndarray:
        """``short_on_one_thread``: a batch of short texts (a query) runs on a one-thread session,
        which is faster than splitting ~20 tokens over two cores (4.8 against 5.5 ms per query
        here) and leaves the other core to another query."""
        if isinstance(texts, str):
            texts = [texts]
        texts = [(prompt or "") + t for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encs = self.tokenizer.encode_batch(texts)
        order = np.argsort([-len(e.ids) for e in encs], kind="stable")  # batch by length: little padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        short = short_on_one_thread and max(len(e.ids) for e in encs) <= SHORT_QUERY_TOKENS
        threads = 1 if short else self.threads
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            out[idx] = self._batch([encs[i] for i in idx], threads)
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out
