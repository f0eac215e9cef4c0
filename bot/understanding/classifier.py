"""A multinomial logistic regression over the sample questions, trained at start-up.

BM25 asks "which sample question looks most like this one?"; the classifier asks "which words
tell this label apart from the others?", so it learns that "dicuri" points to a lost passport
and that "ktp" points away from immigration, from all samples at once. Its probabilities are
fused with the BM25 scores (see engine.py). Features are TF-IDF weights of index tokens and of
adjacent token pairs; training is full-batch Adam on numpy arrays (no sparse-matrix library),
deterministic, a few seconds for a few thousand samples, so the weights are kept on disk.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.understanding.cache import write_cache

Floats = npt.NDArray[np.float64]


def features(tokens: Sequence[str]) -> list[str]:
    """A sample's words and its adjacent word pairs."""
    return [*tokens, *(f"{a} {b}" for a, b in pairwise(tokens))]


CACHE_FILE = "classifier.npz"
# Training settings, calibrated on the dev split with the fusion weight (benchmarks/tune.py):
# few Adam steps from zero weights act as the regulariser.
L2 = 1e-5
STEPS = 60
LEARNING_RATE = 0.2
_FORMAT = "1"  # bump when the features or the training change


class Classifier:
    def __init__(
        self,
        samples: Sequence[Sequence[str]],
        labels: Sequence[str],
        cache: Path | None = None,
    ) -> None:
        """`samples`: index tokens per sample (none empty). Training takes seconds, so the
        weights are kept in `cache` between starts, keyed by a hash of everything they depend
        on; a missing, stale or unreadable file is retrained and rewritten (best effort)."""
        self.labels = sorted(set(labels))
        label_index = {label: i for i, label in enumerate(self.labels)}
        counted = [Counter(features(tokens)) for tokens in samples]
        df: Counter[str] = Counter()
        for counts in counted:
            df.update(counts.keys())
        n = len(samples)
        vocab = sorted(df)
        self._vocab = {f: i for i, f in enumerate(vocab)}
        self._idf = np.array([math.log((1 + n) / (1 + df[f])) + 1 for f in vocab])
        key_text = json.dumps([_FORMAT, L2, STEPS, LEARNING_RATE, list(samples), list(labels)])
        key = hashlib.sha256(key_text.encode()).hexdigest()
        shape = (len(self._vocab) + 1, len(self.labels))
        cached = _read(cache, key, shape)
        if cached is not None:
            self.weights = cached
            return
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for r, counts in enumerate(counted):
            c, v = self._vector(counts)
            rows += [r] * len(c)
            cols += c.tolist()
            vals += v.tolist()
        self.weights = _train(
            np.array(rows, dtype=np.intp),
            np.array(cols, dtype=np.intp),
            np.array(vals),
            np.array([label_index[label] for label in labels], dtype=np.intp),
            (n, len(self._vocab), len(self.labels)),
        )
        _write(cache, key, self.weights)

    def _vector(self, counts: Counter[str]) -> tuple[npt.NDArray[np.intp], Floats]:
        """Known features' column numbers and L2-normalised sublinear TF-IDF weights."""
        known = [(self._vocab[f], c) for f, c in counts.items() if f in self._vocab]
        cols = np.array([i for i, _ in known], dtype=np.intp)
        vals = np.array([(1 + math.log(c)) for _, c in known]) * self._idf[cols]
        norm = float(np.sqrt((vals**2).sum())) or 1.0
        return cols, vals / norm

    def probabilities(self, tokens: Sequence[str]) -> dict[str, float]:
        """P(label | tokens); the bias alone when no token is known."""
        cols, vals = self._vector(Counter(features(tokens)))
        logits = self.weights[-1] + vals @ self.weights[cols]
        exp = np.exp(logits - logits.max())
        probs = exp / exp.sum()
        return dict(zip(self.labels, probs.tolist(), strict=True))


def _train(
    rows: npt.NDArray[np.intp],
    cols: npt.NDArray[np.intp],
    vals: Floats,
    targets: npt.NDArray[np.intp],
    shape: tuple[int, int, int],
) -> Floats:
    """Weights (features + 1 bias row) x labels minimising mean cross-entropy + L2/2 |W|^2."""
    n, n_features, n_labels = shape
    row_starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    by_col = np.argsort(cols, kind="stable")
    col_starts = np.flatnonzero(np.r_[True, cols[by_col][1:] != cols[by_col][:-1]])
    col_ids = cols[by_col][col_starts]
    # Labels x samples / labels x features, so that each reduction runs along memory.
    onehot = np.zeros((n_labels, n))
    onehot[targets, np.arange(n)] = 1.0
    w = np.zeros((n_labels, n_features + 1))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    col_vals = vals[by_col]
    col_rows = rows[by_col]
    for step in range(1, STEPS + 1):
        logits = np.add.reduceat(w[:, cols] * vals, row_starts, axis=1) + w[:, -1:]
        logits -= logits.max(axis=0, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=0, keepdims=True)
        error = (probs - onehot) / n
        grad = L2 * w
        grad[:, -1] = error.sum(axis=1)  # the bias is not penalised
        grad[:, col_ids] += np.add.reduceat(error[:, col_rows] * col_vals, col_starts, axis=1)
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**step)
        v_hat = v / (1 - beta2**step)
        w -= LEARNING_RATE * m_hat / (np.sqrt(v_hat) + eps)
    return np.ascontiguousarray(w.T)


def _read(path: Path | None, key: str, shape: tuple[int, int]) -> Floats | None:
    """The cached weights, or None when the file is missing, stale or unreadable in any way
    (empty, truncated, not an .npz, non-finite numbers): the caller then retrains."""
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            weights = np.asarray(data["weights"], dtype=np.float64)
    except Exception:  # any unreadable cache (even a .npy, which `with` rejects) is rebuilt
        return None
    return weights if weights.shape == shape and np.isfinite(weights).all() else None


def _write(path: Path | None, key: str, weights: Floats) -> None:
    if path is not None:
        write_cache(path, lambda f: np.savez(f, key=np.array(key), weights=weights))
