"""A multinomial logistic regression over the sample questions, trained at start-up.

BM25 asks "which sample question looks most like this one?"; the classifier asks "which words
tell this label apart from the others?", so it learns that "dicuri" points to a lost passport,
that "ktp" points away from immigration and that "alarm" or "lagu" mean a general request that
no topic answers (the background class, trained on general-assistant requests). Its
probabilities are fused with the BM25 scores (see engine.py). Features are TF-IDF weights of
index tokens and of adjacent token pairs; scikit-learn's SAGA solver fits them in about a second
(L-BFGS took 20 s on this many weights). The weights learned from the shipped content ship in
the package (data/classifier.npz, python -m benchmarks.stems), so a start with that content
neither imports scikit-learn (seconds of its own) nor trains; any other content is trained
afresh. Prediction is one small product over the learned weights in numpy.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


def features(tokens: Sequence[str]) -> list[str]:
    """A sample's words and its adjacent word pairs."""
    return [*tokens, *(f"{a} {b}" for a, b in pairwise(tokens))]


# Inverse L2 strength and passes over the data, calibrated on the dev split with the fusion
# weight (benchmarks/tune.py): a loose fit stops one sample question from owning a word.
C = 20.0
MAX_ITER = 15
SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "data" / "classifier.npz"


class Classifier:
    def __init__(
        self,
        samples: Sequence[Sequence[str]],
        labels: Sequence[str],
        weights: Sequence[float] | None = None,
    ) -> None:
        """`samples`: index tokens per sample (none empty), `labels` and optional `weights`
        (how much each sample counts in the loss; default 1) one per sample."""
        self.labels = sorted(set(labels))
        counted = [Counter(features(tokens)) for tokens in samples]
        df: Counter[str] = Counter()
        for counts in counted:
            df.update(counts.keys())
        n = len(samples)
        vocab = sorted(df)
        self._vocab = {f: i for i, f in enumerate(vocab)}
        self._idf = np.array([math.log((1 + n) / (1 + df[f])) + 1 for f in vocab])
        used = list(labels), list(weights) if weights is not None else None
        key = json.dumps([[list(t) for t in samples], *used, C, MAX_ITER])
        self.key = hashlib.sha256(key.encode()).hexdigest()
        shipped = _read_weights(SHIPPED_WEIGHTS, self.key)
        # Features x labels, with the bias as the last row.
        self.weights: Floats = shipped if shipped is not None else self._train(counted, *used)
        self.trained = shipped is None

    def _train(
        self, counted: list[Counter[str]], labels: list[str], weights: list[float] | None
    ) -> Floats:
        # Imported here: scikit-learn and SciPy take seconds to import, needed only to train.
        from scipy.sparse import csr_matrix
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        indptr = [0]
        cols: list[int] = []
        vals: list[float] = []
        for counts in counted:
            c, v = self._vector(counts)
            cols += c.tolist()
            vals += v.tolist()
            indptr.append(len(cols))
        matrix = csr_matrix((vals, cols, indptr), shape=(len(counted), len(self._vocab)))
        model = LogisticRegression(C=C, solver="saga", max_iter=MAX_ITER, random_state=0)
        with warnings.catch_warnings():  # stopping early is the regulariser, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(matrix, labels, sample_weight=weights)
        assert list(model.classes_) == self.labels
        return np.ascontiguousarray(np.vstack([model.coef_.T, model.intercept_[None, :]]))

    def save(self, path: Path) -> None:
        """Keep the learned weights with the key of what they were learned from."""
        # Single precision: half the size, the same answers.
        np.savez_compressed(path, key=np.array(self.key), weights=self.weights.astype(np.float32))

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


def _read_weights(path: Path, key: str) -> Floats | None:
    """The weights saved in `path` when they were learned from what `key` names, else None."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["key"]) != key:
                return None
            weights: Floats = saved["weights"].astype(np.float64)
            return weights
    except (OSError, KeyError, ValueError):
        return None
