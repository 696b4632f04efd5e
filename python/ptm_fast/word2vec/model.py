"""Word2Vec: skip-gram and CBOW with negative sampling, trained by the Rust core.

The API follows the one gensim users know::

    from ptm_fast import Word2Vec
    model = Word2Vec(sentences, vector_size=100, window=5, min_count=5, sg=1)
    model.wv.most_similar("king")
    model.save("w2v.model"); Word2Vec.load("w2v.model")

``sentences`` is a restartable iterable of lists of words; ``corpus_file`` a
UTF-8 text file with one sentence per line, words separated by whitespace,
streamed (never loaded whole). ``backend="rust"`` (the default) trains on all
CPU cores without the GIL; ``backend="torch"`` trains an ``nn.Module`` on the
same batches the Rust pipeline makes, on a GPU when there is one.
"""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from collections.abc import Iterable

import numpy as np

from ptm_fast import _checks, _core
from ptm_fast._arrays import to_numpy
from ptm_fast._io import atomic_file
from ptm_fast._progress import Progress
from ptm_fast.word2vec.keyed_vectors import KeyedVectors

__all__ = ["Word2Vec"]

_CHUNK_SENTENCES = 8192
_FORMAT = "ptm_fast.word2vec/1"
_BACKENDS = ("rust", "torch")


def _chunks(sentences: Iterable, size: int = _CHUNK_SENTENCES):
    chunk = []
    for sentence in sentences:
        if isinstance(sentence, str):
            raise TypeError(
                "each sentence must be a list of words, got a str "
                "(split it first, e.g. line.split())"
            )
        chunk.append(sentence if isinstance(sentence, list) else list(sentence))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_restartable(sentences) -> None:
    if iter(sentences) is sentences:
        raise TypeError(
            "sentences must be a restartable iterable (a list, or an object whose __iter__ "
            "starts over), not an iterator or generator: training reads it more than once"
        )


# Limits of the Rust trainer (window: its longest sentence; negative: its
# fixed buffer), read from it; epochs and vector size are kept where counts
# cannot overflow.
MAX_WINDOW = _core.WORD2VEC_MAX_WINDOW
MAX_NEGATIVE = _core.WORD2VEC_MAX_NEGATIVE
MAX_EPOCHS = 1_000_000
MAX_VECTOR_SIZE = 1 << 16


class Word2Vec:
    """Word vectors trained with skip-gram (``sg=1``) or CBOW (``sg=0``) and negative sampling.

    Training starts at once when ``sentences`` or ``corpus_file`` is given;
    otherwise call :meth:`build_vocab` then :meth:`train`. Parameters (the
    usual Word2Vec ones):

    - ``vector_size``: width of the vectors; ``window``: the largest distance
      between a word and its context (each word draws a window from 1 to it);
    - ``min_count``: words seen fewer times are dropped; ``max_vocab_size``:
      keep at most this many of the most frequent words (None: no limit);
    - ``negative``: noise words per positive pair, drawn with probability
      proportional to count ** ``ns_exponent``;
    - ``sample``: frequent words are dropped at random with the word2vec keep
      probability ``(sqrt(c / t) + 1) * t / c``, ``t = sample * total``
      (0 disables it);
    - ``alpha`` falls linearly to ``min_alpha`` over ``epochs`` passes;
    - ``workers``: training threads (None: every core), updating the shared
      weights without locks (Hogwild); on a toy vocabulary of a few dozen
      words their updates collide and one worker learns better; ``seed``:
      with one worker the same seed gives the same vectors;
    - ``backend``: ``"rust"`` (native, multi-threaded) or ``"torch"``;
      ``device`` and ``batch_size`` apply to the torch backend;
    - ``compute_loss``: keep the summed negative-sampling loss
      (:meth:`get_latest_training_loss`); ``progress``: draw a progress bar
      (None: when stderr is a terminal).
    """

    def __init__(
        self,
        sentences: Iterable[list[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        sg: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        sample: float = 1e-3,
        alpha: float = 0.025,
        min_alpha: float = 1e-4,
        epochs: int = 5,
        workers: int | None = None,
        seed: int = 1,
        backend: str = "rust",
        compute_loss: bool = False,
        progress: bool | None = None,
        device: str | None = None,
        batch_size: int = 4096,
    ):
        """Set the parameters and, when data is given, build the vocabulary and train."""
        self.vector_size = _checks.integer("vector_size", vector_size, 1, MAX_VECTOR_SIZE)
        self.window = _checks.integer("window", window, 1, MAX_WINDOW)
        self.min_count = _checks.integer("min_count", min_count, minimum=0)
        self.max_vocab_size = _checks.optional_int("max_vocab_size", max_vocab_size, minimum=1)
        self.sg = int(bool(sg))
        self.negative = _checks.integer("negative", negative, 1, MAX_NEGATIVE)
        self.ns_exponent = _checks.number("ns_exponent", ns_exponent)
        self.sample = _checks.number("sample", sample, low=0.0)
        self.alpha = _checks.number("alpha", alpha, low=0.0)
        if self.alpha == 0.0:
            raise ValueError("alpha must be above 0, got 0.0")
        self.min_alpha = _checks.number("min_alpha", min_alpha, low=0.0, high=self.alpha)
        self.epochs = _checks.integer("epochs", epochs, 1, MAX_EPOCHS)
        workers = _checks.num_threads(workers, "workers")
        self.workers = _checks.available_cores() if workers is None else workers
        self.seed = _checks.integer("seed", seed, 0, 2**64 - 1)
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
        self.backend = backend
        self.compute_loss = bool(compute_loss)
        self.progress = progress
        self.device = device
        self.batch_size = _checks.positive_int("batch_size", batch_size)
        self.wv = KeyedVectors(self.vector_size)
        self.syn1neg = np.zeros((0, self.vector_size), dtype=np.float32)
        self.corpus_total_words = 0
        self.corpus_count = 0
        self.running_training_loss = 0.0
        self.train_report: dict = {}
        self._vocab = None
        self._syn0 = None
        self._syn1 = None
        self._vocab_file: str | None = None
        if sentences is not None and corpus_file is not None:
            raise ValueError("give sentences or corpus_file, not both")
        if sentences is not None or corpus_file is not None:
            if sentences is not None:
                _check_restartable(sentences)
            self.build_vocab(sentences=sentences, corpus_file=corpus_file)
            self.train(sentences=sentences, corpus_file=corpus_file)

    # -- vocabulary -------------------------------------------------------------

    def build_vocab(
        self,
        sentences: Iterable[list[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
    ) -> None:
        """Count the words, keep those seen ``min_count`` times (at most ``max_vocab_size``),
        most frequent first, and start fresh vectors for them.

        An empty corpus, or one where no word reaches ``min_count``, raises
        ``ValueError`` saying so.
        """
        if (sentences is None) == (corpus_file is None):
            raise ValueError("build_vocab needs exactly one of sentences or corpus_file")
        min_count = max(1, self.min_count)
        if corpus_file is not None:
            vocab, total = _core.Word2VecVocab.from_file(
                os.fspath(corpus_file), min_count, self.max_vocab_size
            )
            self._vocab_file = os.path.abspath(corpus_file)
            sentence_count = None
        else:
            counter = _core.Word2VecCounter()
            sentence_count = 0
            for chunk in _chunks(sentences):
                counter.add(chunk)
                sentence_count += len(chunk)
            total = counter.total_words()
            vocab = counter.build(min_count, self.max_vocab_size)
            self._vocab_file = None
        self._set_vocab(vocab)
        self.corpus_total_words = int(total)
        self.corpus_count = sentence_count
        self._syn0 = _core.FloatMatrix(len(vocab), self.vector_size)
        self._syn0.init_random(self.seed)
        self._syn1 = _core.FloatMatrix(len(vocab), self.vector_size)
        self.wv.vectors = to_numpy(self._syn0)
        self.syn1neg = to_numpy(self._syn1)
        self.wv._norms = None

    def _set_vocab(self, vocab) -> None:
        self._vocab = vocab
        self._counts = vocab.counts()
        words = vocab.words()
        self.wv.index_to_key = words
        self.wv.key_to_index = {w: i for i, w in enumerate(words)}
        self.wv.counts = np.asarray(self._counts, dtype=np.int64)

    # -- training ---------------------------------------------------------------

    def _corpus(self, sentences, corpus_file, total_words):
        if (sentences is None) == (corpus_file is None):
            raise ValueError("train needs exactly one of sentences or corpus_file")
        if corpus_file is not None:
            path = os.path.abspath(corpus_file)
            words = total_words
            if words is None and path == self._vocab_file:
                words = int(sum(self._counts))
            return _core.Word2VecCorpus.from_file(path, self._vocab, words)
        builder = _core.Word2VecCorpusBuilder(self._vocab)
        for chunk in _chunks(sentences):
            builder.add(chunk)
        corpus = builder.finish()
        if corpus.words == 0:
            raise ValueError(
                "the training corpus is empty or has no word of the vocabulary "
                f"({corpus.raw_words} words read)"
            )
        return corpus

    def train(
        self,
        sentences: Iterable[list[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        total_words: int | None = None,
        epochs: int | None = None,
        start_alpha: float | None = None,
        end_alpha: float | None = None,
        compute_loss: bool | None = None,
        progress: bool | None = None,
        total_examples: int | None = None,
    ) -> tuple[int, int]:
        """Train on ``sentences`` or ``corpus_file`` for ``epochs`` passes.

        The vocabulary must exist (:meth:`build_vocab`); words outside it are
        skipped. ``total_words`` (in-vocabulary words per pass) sets the
        learning-rate schedule for a file other than the one the vocabulary
        came from. ``total_examples`` is accepted for gensim compatibility
        and not needed. Returns ``(effective_words, words)``: words trained on
        after subsampling, and words read.
        """
        del total_examples  # the Rust corpus counts its own words
        if self._vocab is None:
            raise RuntimeError("build the vocabulary first: model.build_vocab(...)")
        if sentences is not None:
            _check_restartable(sentences)
        corpus = self._corpus(sentences, corpus_file, total_words)
        epochs = self.epochs if epochs is None else _checks.integer("epochs", epochs, 1, MAX_EPOCHS)
        alpha = self.alpha if start_alpha is None else float(start_alpha)
        min_alpha = self.min_alpha if end_alpha is None else float(end_alpha)
        compute_loss = self.compute_loss if compute_loss is None else bool(compute_loss)
        show = self.progress if progress is None else progress
        if show is None:
            show = sys.stderr.isatty()
        label = f"word2vec {'sg' if self.sg else 'cbow'} ({self.backend})"
        bar = Progress(None, label, unit="words") if show else None
        try:
            if self.backend == "torch":
                from ptm_fast.word2vec.torch_backend import train_torch

                report = train_torch(
                    self,
                    corpus,
                    epochs=epochs,
                    alpha=alpha,
                    min_alpha=min_alpha,
                    compute_loss=compute_loss,
                    bar=bar,
                )
            else:
                report = self._train_rust(corpus, epochs, alpha, min_alpha, compute_loss, bar)
            if bar is not None:
                words = int(report["words"])
                loss = {"loss": float(report["loss"])} if compute_loss else {}
                bar.set(words, words, lr=min_alpha, **loss)
        finally:
            if bar is not None:
                bar.close()
        self.wv._norms = None
        self.running_training_loss = float(report["loss"])
        self.train_report = dict(report, epochs=epochs, backend=self.backend)
        return int(report["effective_words"] or 0), int(report["words"])

    def _train_rust(self, corpus, epochs, alpha, min_alpha, compute_loss, bar):
        def progress(done, total, lr, seconds):
            if bar is not None:
                bar.set(done, total, lr=lr)
            return True

        return _core.word2vec_train(
            corpus,
            self._counts,
            self._syn0,
            self._syn1,
            sg=bool(self.sg),
            window=self.window,
            negative=self.negative,
            alpha=alpha,
            min_alpha=min_alpha,
            epochs=epochs,
            threads=self.workers,
            seed=self.seed,
            sample=self.sample,
            ns_exponent=self.ns_exponent,
            compute_loss=compute_loss,
            progress=progress,
            report_seconds=0.5,
        )

    def get_latest_training_loss(self) -> float:
        """Summed negative-sampling loss of the last :meth:`train` (0 unless ``compute_loss``)."""
        return self.running_training_loss

    # -- persistence --------------------------------------------------------------

    _PARAMS = (
        "vector_size",
        "window",
        "min_count",
        "max_vocab_size",
        "sg",
        "negative",
        "ns_exponent",
        "sample",
        "alpha",
        "min_alpha",
        "epochs",
        "workers",
        "seed",
        "backend",
        "compute_loss",
        "progress",
        "device",
        "batch_size",
        "corpus_total_words",
        "corpus_count",
        "running_training_loss",
    )

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole model (parameters, vocabulary, both weight matrices) to one file.

        The file is a zip of a JSON header and ``.npy`` arrays, written to a
        temporary name and renamed; :meth:`load` restores the model exactly.
        """
        header = {
            "format": _FORMAT,
            "params": {name: getattr(self, name) for name in self._PARAMS},
            "words": self.wv.index_to_key,
            "vocab_file": self._vocab_file,
        }
        arrays = {
            "counts": np.asarray(self._counts if self._vocab is not None else [], dtype=np.int64),
            "vectors": np.ascontiguousarray(self.wv.vectors, dtype=np.float32),
            "syn1neg": np.ascontiguousarray(self.syn1neg, dtype=np.float32),
        }
        with atomic_file(path) as f, zipfile.ZipFile(f, "w") as z:
            z.writestr("header.json", json.dumps(header))
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.save(buffer, array, allow_pickle=False)
                z.writestr(f"{name}.npy", buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Word2Vec:
        """Read a model written by :meth:`save`; it can be queried and trained further."""
        try:
            with zipfile.ZipFile(path) as z:
                header = json.loads(z.read("header.json"))
                arrays = {
                    name: np.load(io.BytesIO(z.read(f"{name}.npy")), allow_pickle=False)
                    for name in ("counts", "vectors", "syn1neg")
                }
        except (zipfile.BadZipFile, KeyError) as err:
            raise ValueError(f"{path} is not a model saved by ptm_fast.Word2Vec: {err}") from None
        if header.get("format") != _FORMAT:
            raise ValueError(f"{path}: unknown format {header.get('format')!r}")
        model = cls.__new__(cls)
        params = header["params"]
        for name in cls._PARAMS:
            setattr(model, name, params[name])
        model.train_report = {}
        model._vocab_file = header.get("vocab_file")
        model.wv = KeyedVectors(model.vector_size)
        words = header["words"]
        if not words:
            model._vocab = model._syn0 = model._syn1 = None
            model.syn1neg = np.zeros((0, model.vector_size), dtype=np.float32)
            return model
        vocab = _core.Word2VecVocab(words, [int(c) for c in arrays["counts"]])
        model._set_vocab(vocab)
        shape = (len(words), model.vector_size)
        for name in ("vectors", "syn1neg"):
            if arrays[name].shape != shape:
                raise ValueError(f"{path}: {name} has shape {arrays[name].shape}, expected {shape}")
        model._syn0 = _core.FloatMatrix(*shape)
        model._syn1 = _core.FloatMatrix(*shape)
        model.wv.vectors = to_numpy(model._syn0)
        model.syn1neg = to_numpy(model._syn1)
        model.wv.vectors[...] = arrays["vectors"]
        model.syn1neg[...] = arrays["syn1neg"]
        return model

    def __repr__(self) -> str:
        """A one-line summary."""
        return (
            f"Word2Vec(vocab={len(self.wv)}, vector_size={self.vector_size}, "
            f"sg={self.sg}, window={self.window}, negative={self.negative}, "
            f"backend={self.backend!r})"
        )
