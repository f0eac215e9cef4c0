"""A multinomial logistic regression over the sample questions.

BM25 asks "which sample question looks most like this one?"; the classifier asks "which words
tell this label apart from the others?", so it learns that "dicuri" points to a lost passport,
that "ktp" points away from immigration and that "alarm" or "lagu" mean a general request that
no topic answers (the background class, trained on general-assistant requests). Its
probabilities are fused with the BM25 scores (see engine.py). Features are TF-IDF weights of
index tokens and of adjacent token pairs; scikit-learn's SAGA solver fits them in about a second
(L-BFGS took 20 s on this many weights). The learned weights are kept with the rest of the index
(engine.py: shipped for the shipped content), so a start with known content neither imports
scikit-learn (seconds of its own) nor trains. Prediction is one small product over the learned
weights in numpy.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

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


class Classifier:
    def __init__(self, labels: list[str], vocab: list[str], idf: Floats, weights: Floats) -> None:
        """`weights`: features x labels, with the bias as the last row."""
        self.labels = labels
        self.vocab = vocab
        self._columns = {f: i for i, f in enumerate(vocab)}
        self.idf = idf
        self.weights = weights

    @classmethod
    def train(
        cls,
        samples: Sequence[Sequence[str]],
        labels: Sequence[str],
        weights: Sequence[float] | None = None,
    ) -> Classifier:
        """Fit on `samples` (index tokens, none empty), `labels` and optional `weights` (how
        much each sample counts in the loss; default 1), one per sample."""
        # Imported here: scikit-learn and SciPy take seconds to import, needed only to train.
        from scipy.sparse import csr_matrix
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        counted = [Counter(features(tokens)) for tokens in samples]
        df: Counter[str] = Counter()
        for counts in counted:
            df.update(counts.keys())
        n = len(samples)
        vocab = sorted(df)
        idf = np.array([math.log((1 + n) / (1 + df[f])) + 1 for f in vocab])
        classifier = cls(sorted(set(labels)), vocab, idf, np.zeros((len(vocab) + 1, 0)))
        indptr = [0]
        cols: list[int] = []
        vals: list[float] = []
        for counts in counted:
            c, v = classifier._vector(counts)
            cols += c.tolist()
            vals += v.tolist()
            indptr.append(len(cols))
        matrix = csr_matrix((vals, cols, indptr), shape=(n, len(vocab)))
        model = LogisticRegression(C=C, solver="saga", max_iter=MAX_ITER, random_state=0)
        with warnings.catch_warnings():  # stopping early is the regulariser, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(matrix, list(labels), sample_weight=weights)
        assert list(model.classes_) == classifier.labels
        learned = np.vstack([model.coef_.T, model.intercept_[None, :]])
        # Rounded to single precision, as the index file keeps them: half the size, the same
        # answers whether trained now or loaded.
        classifier.weights = learned.astype(np.float32).astype(np.float64)
        return classifier

    def _vector(self, counts: Counter[str]) -> tuple[npt.NDArray[np.intp], Floats]:
        """Known features' column numbers and L2-normalised sublinear TF-IDF weights."""
        known = [(self._columns[f], c) for f, c in counts.items() if f in self._columns]
        cols = np.array([i for i, _ in known], dtype=np.intp)
        vals = np.array([(1 + math.log(c)) for _, c in known]) * self.idf[cols]
        norm = float(np.sqrt((vals**2).sum())) or 1.0
        return cols, vals / norm

    def probabilities(self, tokens: Sequence[str]) -> Floats:
        """P(label | tokens) in `labels` order; the bias alone when no token is known."""
        cols, vals = self._vector(Counter(features(tokens)))
        logits = self.weights[-1] + vals @ self.weights[cols]
        exp = np.exp(logits - logits.max())
        probs: Floats = exp / exp.sum()
        return probs
