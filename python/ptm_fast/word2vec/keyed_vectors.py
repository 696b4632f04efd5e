"""Word vectors looked up by word: similarity queries, evaluations, the word2vec file formats.

:class:`KeyedVectors` is what ``Word2Vec(...).wv`` holds, and what
:meth:`KeyedVectors.load_word2vec_format` returns for a file written by this
library, by gensim or by the original word2vec tool.

>>> kv = KeyedVectors.load_word2vec_format("vectors.txt")  # doctest: +SKIP
>>> kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

import numpy as np

from ptm_fast._io import atomic_file

__all__ = ["KeyedVectors"]


class KeyedVectors:
    """A float32 matrix with one row per word, and the word <-> row maps.

    ``index_to_key[i]`` is the word of row ``i`` of ``vectors``;
    ``key_to_index`` maps back. ``counts`` (if known) are corpus counts, one
    per row. Rows are usually sorted by descending frequency, which is what
    ``restrict_vocab`` arguments rely on.
    """

    def __init__(
        self,
        vector_size: int,
        keys: Sequence[str] = (),
        vectors: np.ndarray | None = None,
        counts: np.ndarray | None = None,
    ):
        """Vectors of width ``vector_size`` for ``keys`` (rows of ``vectors``, zeros if None)."""
        self.vector_size = int(vector_size)
        self.index_to_key: list[str] = list(keys)
        self.key_to_index: dict[str, int] = {k: i for i, k in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("keys must be distinct")
        if vectors is None:
            vectors = np.zeros((len(self.index_to_key), self.vector_size), dtype=np.float32)
        if vectors.shape != (len(self.index_to_key), self.vector_size):
            raise ValueError(
                f"vectors have shape {vectors.shape}, expected "
                f"({len(self.index_to_key)}, {self.vector_size})"
            )
        self.vectors: np.ndarray = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self._norms: np.ndarray | None = None

    # -- lookups -------------------------------------------------------------

    def __len__(self) -> int:
        """Number of words."""
        return len(self.index_to_key)

    def __contains__(self, key: str) -> bool:
        """Whether ``key`` has a vector."""
        return key in self.key_to_index

    def get_index(self, key: str) -> int:
        """Row of ``key``; a ``KeyError`` naming the word if it has none."""
        try:
            return self.key_to_index[key]
        except (KeyError, TypeError):
            raise KeyError(f"word {key!r} not in vocabulary") from None

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        """The vector of ``key`` (unit length when ``norm``)."""
        index = self.get_index(key)
        if norm:
            return self.get_normed_vectors()[index]
        return self.vectors[index]

    def __getitem__(self, keys: str | Sequence[str]) -> np.ndarray:
        """The vector of a word, or a 2-D array of vectors for a list of words."""
        if isinstance(keys, str):
            return self.get_vector(keys)
        return np.vstack([self.get_vector(k) for k in keys])

    def fill_norms(self, force: bool = False) -> None:
        """Compute (and cache) the length of every vector."""
        if self._norms is None or force or len(self._norms) != len(self.vectors):
            self._norms = np.linalg.norm(self.vectors, axis=1)

    def get_normed_vectors(self) -> np.ndarray:
        """All vectors scaled to unit length (zero vectors stay zero)."""
        self.fill_norms()
        norms = np.where(self._norms > 0, self._norms, 1.0).astype(np.float32)
        return self.vectors / norms[:, None]

    def _unit(self, key_or_vector) -> np.ndarray:
        if isinstance(key_or_vector, str):
            vector = self.get_vector(key_or_vector).astype(np.float64)
        else:
            vector = np.asarray(key_or_vector, dtype=np.float64)
        norm = np.linalg.norm(vector)
        return vector / norm if norm > 0 else vector

    # -- similarity queries ----------------------------------------------------

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        return float(np.dot(self._unit(w1), self._unit(w2)))

    def most_similar(
        self,
        positive: str | Iterable = (),
        negative: str | Iterable = (),
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ):
        """The ``topn`` words closest (cosine) to the mean of ``positive`` minus ``negative``.

        Words and vectors may be mixed; the query words themselves are left
        out of the result. Returns ``[(word, similarity), ...]``, best first,
        or, with ``topn=None``, the similarity to every word as an array.
        ``restrict_vocab`` limits candidates to the first rows (the most
        frequent words). An unknown word raises ``KeyError`` naming it.
        """
        if isinstance(positive, str) or (isinstance(positive, np.ndarray) and positive.ndim == 1):
            positive = [positive]
        if isinstance(negative, str) or (isinstance(negative, np.ndarray) and negative.ndim == 1):
            negative = [negative]
        terms = [(p, 1.0) for p in positive or ()] + [(n, -1.0) for n in negative or ()]
        if not terms:
            raise ValueError("most_similar needs at least one positive or negative word")
        query = np.zeros(self.vector_size, dtype=np.float64)
        exclude = set()
        for item, weight in terms:
            if isinstance(item, str):
                exclude.add(self.get_index(item))
            query += weight * self._unit(item)
        query = self._unit(query / len(terms)).astype(np.float32)
        limit = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))
        sims = self.get_normed_vectors()[:limit] @ query
        if topn is None:
            return sims
        count = min(int(topn) + len(exclude), limit)
        best = np.argpartition(-sims, count - 1)[:count] if count < limit else np.arange(limit)
        best = best[np.argsort(-sims[best], kind="stable")]
        out = [(self.index_to_key[i], float(sims[i])) for i in best if i not in exclude]
        return out[: int(topn)]

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word of ``words`` furthest from their mean (unknown words are ignored)."""
        known = [w for w in words if w in self.key_to_index]
        if not known:
            raise ValueError("none of the words is in the vocabulary")
        units = np.vstack([self._unit(w) for w in known])
        mean = self._unit(units.mean(axis=0))
        return known[int(np.argmin(units @ mean))]

    # -- evaluations -----------------------------------------------------------

    def evaluate_word_analogies(
        self,
        analogies: str | os.PathLike,
        restrict_vocab: int = 30000,
        case_insensitive: bool = True,
    ) -> tuple[float, list[dict]]:
        """Accuracy on analogy questions "a b c d" (a is to b as c is to d), 3CosAdd.

        The file is in the questions-words format (``: section`` lines start
        a section). Only the ``restrict_vocab`` most frequent words are used,
        as candidates and as question words: a question with a word outside
        them is skipped. The answer is the closest word to ``b - a + c``
        (unit vectors) other than a, b and c. Returns ``(accuracy, sections)``,
        each section a dict with ``section``, ``correct`` and ``incorrect``
        lists of questions, the last one the "Total accuracy".
        """
        limit = min(int(restrict_vocab), len(self))
        ok: dict[str, int] = {}
        for i in range(limit - 1, -1, -1):  # the most frequent spelling wins
            key = self.index_to_key[i]
            ok[key.upper() if case_insensitive else key] = i
        sections: list[dict] = []
        questions: list[tuple[int, tuple[str, ...], tuple[int, int, int, int]]] = []
        with open(analogies, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                if line.startswith(":"):
                    sections.append({"section": line[1:].strip(), "correct": [], "incorrect": []})
                    continue
                words = line.split()
                if not words:
                    continue
                if len(words) != 4 or not sections:
                    raise ValueError(
                        f"{analogies}, line {line_no}: expected ': section' or 4 words"
                    )
                if case_insensitive:
                    words = [w.upper() for w in words]
                if all(w in ok for w in words):
                    ids = tuple(ok[w] for w in words)
                    questions.append((len(sections) - 1, tuple(words), ids))
        if questions:
            normed = self.get_normed_vectors()[:limit]
            ids = np.array([q[2] for q in questions])
            for start in range(0, len(ids), 512):
                chunk = ids[start : start + 512]
                query = normed[chunk[:, 1]] - normed[chunk[:, 0]] + normed[chunk[:, 2]]
                query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
                sims = query @ normed.T
                rows = np.arange(len(chunk))
                for column in range(3):
                    sims[rows, chunk[:, column]] = -np.inf
                predicted = sims.argmax(axis=1)
                for k, guess in enumerate(predicted):
                    section, words, _ = questions[start + k]
                    right = guess == chunk[k, 3]
                    sections[section]["correct" if right else "incorrect"].append(words)
        sections = [s for s in sections if s["correct"] or s["incorrect"]]
        total = {
            "section": "Total accuracy",
            "correct": [q for s in sections for q in s["correct"]],
            "incorrect": [q for s in sections for q in s["incorrect"]],
        }
        answered = len(total["correct"]) + len(total["incorrect"])
        score = len(total["correct"]) / answered if answered else 0.0
        return score, [*sections, total]

    def evaluate_word_pairs(
        self,
        pairs: str | os.PathLike,
        delimiter: str = "\t",
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
    ) -> tuple[tuple[float, float], tuple[float, float], float]:
        """Correlation of cosine similarity with human scores (WordSim-353 format).

        Lines are ``word1<delimiter>word2<delimiter>score``; ``#`` lines are
        comments. Pairs with a word outside the ``restrict_vocab`` most
        frequent are skipped and counted as out of vocabulary. Returns
        ``((pearson, p_value), (spearman, p_value), oov_percent)``.
        """
        limit = min(int(restrict_vocab), len(self))
        ok: dict[str, int] = {}
        for i in range(limit - 1, -1, -1):
            key = self.index_to_key[i]
            ok[key.upper() if case_insensitive else key] = i
        gold, model, oov = [], [], 0
        normed = self.get_normed_vectors()
        with open(pairs, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                if line.startswith("#") or not line.strip():
                    continue
                parts = line.rstrip("\n").split(delimiter)
                if len(parts) < 3:
                    raise ValueError(f"{pairs}, line {line_no}: expected word, word, score")
                a, b = parts[0], parts[1]
                if case_insensitive:
                    a, b = a.upper(), b.upper()
                if a not in ok or b not in ok:
                    oov += 1
                    continue
                gold.append(float(parts[2]))
                model.append(float(normed[ok[a]] @ normed[ok[b]]))
        if len(gold) < 2:
            raise ValueError(f"{pairs}: fewer than 2 pairs with both words in the vocabulary")
        pearson = _correlation(np.array(gold), np.array(model))
        spearman = _correlation(_ranks(np.array(gold)), _ranks(np.array(model)))
        oov_ratio = 100.0 * oov / (len(gold) + oov)
        return pearson, spearman, oov_ratio

    # -- the word2vec file formats --------------------------------------------

    def save_word2vec_format(self, path: str | os.PathLike, binary: bool = False) -> None:
        """Write the vectors in the original word2vec tool's text or binary format.

        A header line ``<words> <size>``, then one word per line with its
        values (text, 9 significant digits: float32 values round-trip
        exactly) or its little-endian float32 bytes (binary). The file is
        written to a temporary name and renamed, so it is never half-written.
        """
        vectors = np.ascontiguousarray(self.vectors, dtype="<f4")
        for key in self.index_to_key:
            if not key or any(c.isspace() for c in key):
                raise ValueError(f"word {key!r} is empty or holds whitespace: not storable")
        with atomic_file(path) as f:
            f.write(f"{len(self)} {self.vector_size}\n".encode())
            if binary:
                for key, row in zip(self.index_to_key, vectors, strict=True):
                    f.write(key.encode("utf-8") + b" " + row.tobytes() + b"\n")
            else:
                line = " ".join(["%.9g"] * self.vector_size)
                for key, row in zip(self.index_to_key, vectors.tolist(), strict=True):
                    f.write(f"{key} {line % tuple(row)}\n".encode())

    @classmethod
    def load_word2vec_format(cls, path: str | os.PathLike, binary: bool = False) -> KeyedVectors:
        """Read vectors in the word2vec text or binary format (ours, gensim's, the original's).

        A malformed or truncated file raises ``ValueError`` naming the line.
        """
        with open(path, "rb") as f:
            header = f.readline()
            try:
                count, size = (int(x) for x in header.split())
            except ValueError:
                raise ValueError(
                    f"{path}, line 1: expected a header '<words> <size>', got {header[:80]!r}"
                ) from None
            _check_header(path, count, size, binary, os.fstat(f.fileno()).st_size)
            keys: list[str] = []
            vectors = np.zeros((count, size), dtype=np.float32)
            if binary:
                _read_binary(f, path, count, size, keys, vectors)
            else:
                _read_text(f, path, count, size, keys, vectors)
        return cls(size, keys, vectors)


def _check_header(path, count: int, size: int, binary: bool, file_size: int) -> None:
    """Refuse a header the file cannot hold before allocating what it claims."""
    if count < 0 or size < 1:
        raise ValueError(f"{path}, line 1: the header claims {count} words of size {size}")
    # Each vector takes at least 4 bytes a value in binary, 2 ("0 ") in text.
    least = count * (4 * size + 2 if binary else 2 * size + 1)
    if least > file_size:
        raise ValueError(
            f"{path}, line 1: the header claims {count} vectors of size {size}, "
            f"which need at least {least} bytes, but the file has {file_size}"
        )


def _utf8(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{where}: byte {e.start} is not valid UTF-8 ({raw[e.start : e.start + 1]!r})"
        ) from None


def _read_text(f, path, count: int, size: int, keys: list[str], vectors: np.ndarray) -> None:
    for i in range(count):
        line_no = i + 2
        raw = f.readline()
        if not raw:
            raise ValueError(
                f"{path}, line {line_no}: the file ends after {i} of the {count} vectors "
                "its header promises (truncated?)"
            )
        parts = _utf8(raw, f"{path}, line {line_no}").rstrip("\r\n").split(" ")
        parts = [p for p in parts if p]
        if len(parts) != size + 1:
            raise ValueError(
                f"{path}, line {line_no}: expected a word and {size} values, "
                f"got {len(parts) - 1} values (truncated?)"
            )
        try:
            vectors[i] = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            raise ValueError(f"{path}, line {line_no}: a value is not a number") from None
        keys.append(parts[0])


def _read_binary(f, path, count: int, size: int, keys: list[str], vectors: np.ndarray) -> None:
    width = 4 * size
    for i in range(count):
        where = f"{path}, line {i + 2} (vector {i + 1} of {count})"
        word = bytearray()
        while True:
            byte = f.read(1)
            if not byte:
                raise ValueError(f"{where}: the file ends inside a word (truncated?)")
            if byte == b" ":
                break
            if byte == b"\n" and not word:  # the newline after the previous vector
                continue
            word += byte
        data = f.read(width)
        if len(data) != width:
            raise ValueError(
                f"{where}: the file ends inside the vector of {word.decode(errors='replace')!r} "
                f"({len(data)} of {width} bytes; truncated?)"
            )
        keys.append(_utf8(bytes(word), where))
        vectors[i] = np.frombuffer(data, dtype="<f4")


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _correlation(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Pearson's r and its two-sided p-value (t distribution; scipy if present)."""
    x, y = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(x @ x) * float(y @ y))
    r = float(x @ y) / denominator if denominator > 0 else 0.0
    r = max(-1.0, min(1.0, r))
    n = len(x)
    try:
        from scipy import stats
    except ImportError:
        return r, float("nan")
    if abs(r) >= 1.0:
        return r, 0.0
    t = r * math.sqrt((n - 2) / (1 - r * r))
    return r, float(2 * stats.t.sf(abs(t), n - 2))
