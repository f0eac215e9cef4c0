"""Rank topics, routes and neighbouring services for a message, then decide what to do.

Scoring: BM25 over small documents (a topic's title, keywords and each sample question), the
best document per label, normalised by the question's IDF mass so that it reads "how much of
the question is explained"; fused with character n-gram TF-IDF cosine per label. A question
that names a document type (passport vs stay permit) down-weights the other type's topics.
A logistic-regression classifier trained on the same samples (classifier.py) adds its
probability per label: it weighs the words that tell labels apart. It also knows general
requests (timers, music, banking…) as a background class; that probability and the nearest
general request lower every score unless the message names this office or an immigration
document.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.content import Content
from bot.content.models import Lexicon
from bot.core import LANGS, Lang
from bot.understanding.cache import write_cache
from bot.understanding.classifier import MAX_ITER, C, Classifier
from bot.understanding.normalise import STEM_CACHE_FILE, Normaliser

Route = Literal["topic", "clarify", "queue", "announcements", "human", "smalltalk", "unknown"]

_TICKET = re.compile(r"\b([a-z])\s*[-.]?\s*0*(\d{1,3})\b")
_QUEUE_WORDS = frozenset(
    (
        "antrian", "antri", "antre", "antrean", "nomor", "nomer", "no", "nmr", "dipanggil",
        "giliran", "panggil", "queue", "number", "turn", "called", "ahead", "depan",
    )
)  # fmt: skip


# Typo correction of unknown words against the index vocabulary: strict, because a wrong
# correction ("write" → "white") invents meaning the person never typed.
MIN_TYPO_LENGTH = 5
TYPO_CUTOFF = 85
# A question with one known word is answered only by a label with that word in this many
# of its titles, keywords and sample questions.
MIN_SUPPORT = 3
# A neighbouring service's own word is in this many times the share of its questions as in any
# topic's or route's.
OWN_WORD_RATIO = 3.0
# A message at least this long that names this office only by a place word (kantor, mpp…) and
# asks nothing is a statement about some office, not a question for this one.
STATEMENT_WORDS = 5
# A message of small-talk words only, in any order ("makasih banyak ya kak"), up to this long.
SMALLTALK_MAX_WORDS = 8
# A message this long is also scored by its last question (the last sentence ending with "?",
# of at least QUESTION_WORDS words), else by its last sentences, at least TAIL_WORDS words.
LONG_MESSAGE_WORDS = 25
TAIL_WORDS = 10
QUESTION_WORDS = 3
_SENTENCE_END = re.compile(r"([.!?\n]+)")
# Where a short message may hold two questions: "...? ...", "... dan ...", "... and ...".
_QUESTION_SPLIT = re.compile(r"\?|[.!\n]|\b(?:dan|and|terus|trus|serta|sama|also)\b")
GENERAL_DATA = Path(__file__).resolve().parent / "data"
# The index computed from the shipped content ships too (python -m benchmarks.stems), so that a
# start neither tokenises the samples nor trains; for other content it is kept in the data
# folder. Raise INDEX_FORMAT when the way the index is computed changes.
INDEX_FILE = "index.npz"
SHIPPED_INDEX = GENERAL_DATA / INDEX_FILE
INDEX_FORMAT = 1
# How much one general request counts in training against one sample question: people who
# write to this bot mostly ask about immigration, so "buka jam 8?" is about the office although
# general requests ask about opening hours too; "set an alarm" stays general.
GENERAL_SAMPLE_WEIGHT = 0.2
# A declined message this sure to be a general request gets no topics offered as buttons.
GENERAL_DECLINE = 0.5


@dataclass(frozen=True)
class Thresholds:
    """Calibrated on the dev split of benchmarks/questions*.tsv (benchmarks/tune.py,
    BENCHMARKS.md)."""

    # The best topic is answered when the calibrated confidence that it is right (`confidence`)
    # reaches `answer`, offered among buttons when it reaches `sure_enough`; any other best
    # label (a neighbouring service, a route) needs a fused score of `clarify`.
    answer: float = 0.5
    sure_enough: float = 0.4
    clarify: float = 0.1
    suggest: float = 0.1  # a declined question still offers topics scoring at least this
    clarify_band: float = 0.15  # topics within this of the best are offered as buttons
    # A best topic ahead of the second by less than this share of its score is a close call,
    # offered as buttons however sure the confidence is: on phrasing the engine never saw (held-out
    # sample questions, a fresh dev file) such near ties are wrong about as often as right.
    close_call: float = 0.05
    doc_type_gate: float = 0.3
    ngram_weight: float = 0.3
    label_weight: float = 0.7  # share of the word score from the whole-label document
    cosine_weight: float = 0.0  # share of a sample question's score from cosine (rest: coverage)
    exact_bonus: float = 0.1  # added when the words are exactly one label's sample question
    unknown_token_weight: float = 1.5  # times the mean IDF: words the index does not know
    classifier_weight: float = 0.3  # share of the learned probability in the fused score
    general_weight: float = 1.5  # times P(general request): how much it lowers every score
    nearest_weight: float = 2.0  # times how much closer the nearest general request is
    tail_weight: float = 0.4  # share of a long message's score from its last sentences


# Logistic regression on `confidence_features`, fitted on the dev split only (in-scope, out of
# scope and general-request lines, 5-fold cross-validated): python -m benchmarks.calibrate.
CONFIDENCE_BIAS = -6.7661
CONFIDENCE_WEIGHTS = (
    3.5565, 4.1278, 4.4723, -2.3888, 2.1176, 0.0160, 3.5219, 0.7153, -4.4305, -1.3452,
)  # fmt: skip


def confidence_features(scores: dict[str, float], words: int) -> list[float]:
    """What says whether the best topic is right: its fused score (and its square: confidence
    rises faster than the score), its lead over the second and third topics, over the best
    other label and the best neighbouring service's score on its own, the route "elsewhere",
    how sure the engine is of a general request and whether it looked at all (a message naming
    immigration or this office is never taken for one), and the message's length in words."""
    topics: list[float] = []
    neighbour = route = 0.0  # scores are never negative
    for label, value in scores.items():
        kind = label[0]
        if kind == "t":
            topics.append(value)
        elif kind == "n":
            neighbour = max(neighbour, value)
        elif kind == "r":
            route = max(route, value)
    best, second, third = [*heapq.nlargest(3, topics), 0.0, 0.0, 0.0][:3]
    general = scores.get(GENERAL, 0.0)
    return [
        best,
        best - second,
        best - max(neighbour, route),
        general,
        math.log1p(words),
        best * best,
        best - third,
        scores.get("r:elsewhere", 0.0),
        neighbour,
        float(general > 0),
    ]


def confidence(scores: dict[str, float], words: int) -> float:
    """The calibrated probability that the best topic is the right answer."""
    z = CONFIDENCE_BIAS + sum(
        w * f for w, f in zip(CONFIDENCE_WEIGHTS, confidence_features(scores, words), strict=True)
    )
    return 1 / (1 + math.exp(-z))


@dataclass(frozen=True)
class Analysis:
    """What a message is about, and what the assistant should do with it."""

    route: Route
    lang: Lang
    topic_id: str | None = None
    candidates: tuple[str, ...] = ()
    neighbour_id: str | None = None
    ticket: str | None = None
    smalltalk: str | None = None
    # On a decline: topics that were near enough to offer as "perhaps one of these?" buttons.
    suggestions: tuple[str, ...] = ()
    # A clarify that names only a document type: show that category's topics.
    category: str | None = None
    # A second question in the same message ("syarat perpanjang paspor apa aja dan biaya
    # paspor berapa"): the answer is about the first, this topic is offered as a button.
    also: str | None = None
    normalised: str = ""
    scores: dict[str, float] = field(default_factory=dict, compare=False, repr=False)


Arrays = dict[str, npt.NDArray[Any]]
BM25_K1 = 1.2
NGRAM_CACHE_SIZE = 20_000  # words whose known grams are kept


class _BM25:
    """BM25 with each term's per-document weights computed once (they do not depend on the
    question), kept as one sparse row per term: scoring is a few numpy additions per question
    word."""

    def __init__(self, terms: list[str], arrays: Arrays, k1: float) -> None:
        """`arrays` (from `build` or the index file): idf per term; each term's documents and
        weights as rows of a sparse matrix (ptr, docs, weights); each document's norm."""
        self.k1 = k1
        self.terms = terms
        self.arrays = arrays
        self._rows = {t: i for i, t in enumerate(terms)}
        self.idf = dict(zip(terms, arrays["idf"].tolist(), strict=True))
        self.mean_idf = sum(self.idf.values()) / max(len(self.idf), 1)
        self.size = len(arrays["norms"])
        self._ptr = arrays["ptr"].tolist()
        self._docs = arrays["docs"]
        self._weights = arrays["weights"]
        self.norms = arrays["norms"]

    @classmethod
    def build(cls, docs: list[list[str]], k1: float = BM25_K1, b: float = 0.3) -> _BM25:
        lengths = [len(d) for d in docs]
        avgdl = sum(lengths) / max(len(docs), 1)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                postings[term].append((i, tf))
        size = len(docs)
        terms = list(postings)
        idf = {t: math.log(1 + (size - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}
        weights = [
            idf[t] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[d] / avgdl))
            for t in terms
            for d, tf in postings[t]
        ]
        norms = [math.sqrt(sum(idf[t] ** 2 for t in set(doc))) or 1.0 for doc in docs]
        arrays: Arrays = {
            "idf": np.array([idf[t] for t in terms]),
            "ptr": np.cumsum([0, *(len(postings[t]) for t in terms)]),
            "docs": np.array([d for t in terms for d, _ in postings[t]], dtype=np.intp),
            "weights": np.array(weights),
            "norms": np.array(norms),
        }
        return cls(terms, arrays, k1)

    def _postings(self, term: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]] | None:
        row = self._rows.get(term)
        if row is None:
            return None
        start, end = self._ptr[row], self._ptr[row + 1]
        return self._docs[start:end], self._weights[start:end]

    def scores(self, terms: Iterable[str]) -> npt.NDArray[np.float64]:
        """BM25 of every document (0 where no term matched)."""
        out = np.zeros(self.size)
        for term in terms:
            found = self._postings(term)
            if found is not None:
                out[found[0]] += found[1]
        return out

    def cosine(self, terms: list[str], unknown_weight: float) -> npt.NDArray[np.float64]:
        """IDF-weighted cosine of the question's words with each document's words: unlike
        BM25 coverage it also counts what the document says that the question did not ask
        ("syarat paspor baru" vs a sample question about a new passport *after a loss*)."""
        query_norm = math.sqrt(sum(self.idf.get(t, unknown_weight) ** 2 for t in terms)) or 1.0
        dots = np.zeros(self.size)
        for term in terms:
            found = self._postings(term)
            if found is not None:
                dots[found[0]] += self.idf[term] ** 2
        return dots / (query_norm * self.norms)


def _word_grams(word: str) -> list[str]:
    padded = f" {word} "
    return [padded[i : i + n] for n in (3, 4) for i in range(len(padded) - n + 1)]


def _ngrams(words: Iterable[str]) -> Counter[str]:
    return Counter(gram for word in words for gram in _word_grams(word))


class _NgramIndex:
    """Character n-gram TF-IDF with one document per label; cosine similarity, as one product
    of the question's gram weights with a grams x labels matrix."""

    def __init__(self, labels: list[str], grams: list[str], arrays: Arrays) -> None:
        """`arrays`: idf per gram, and the matrix's non-zero cells (row, col, value), which
        is how the index file keeps it (the matrix is mostly zeros)."""
        self.labels = labels
        self.grams = grams
        self.arrays = arrays
        self.rows = {g: i for i, g in enumerate(grams)}
        self._word_rows = lru_cache(maxsize=NGRAM_CACHE_SIZE)(self._known_rows)
        self.idf = arrays["idf"]
        self.matrix = np.zeros((len(grams), len(labels)))
        self.matrix[arrays["row"], arrays["col"]] = arrays["value"]

    @classmethod
    def build(cls, docs: dict[str, list[str]]) -> _NgramIndex:
        counts = {label: _ngrams(words) for label, words in docs.items()}
        df: Counter[str] = Counter()
        for grams in counts.values():
            df.update(grams.keys())
        n = len(docs)
        rows = {g: i for i, g in enumerate(df)}
        idf = np.array([math.log((1 + n) / (1 + c)) + 1 for c in df.values()])
        cells: list[npt.NDArray[np.float64]] = []
        row_ids: list[npt.NDArray[np.intp]] = []
        for grams in counts.values():
            ids = np.array([rows[g] for g in grams], dtype=np.intp)
            vec = np.log(np.array(list(grams.values()), dtype=np.float64)) + 1
            vec *= idf[ids]
            cells.append(vec / (np.sqrt((vec**2).sum()) or 1.0))
            row_ids.append(ids)
        arrays: Arrays = {
            "idf": idf,
            "row": np.concatenate(row_ids) if row_ids else np.zeros(0, dtype=np.intp),
            "col": np.repeat(np.arange(len(cells)), [len(c) for c in cells]),
            "value": np.concatenate(cells) if cells else np.zeros(0),
        }
        return cls(list(docs), list(df), arrays)

    def _known_rows(self, word: str) -> list[int]:
        """The matrix rows of a word's grams that the index knows, in the order of `_ngrams`."""
        rows = self.rows
        return [rows[g] for g in _word_grams(word) if g in rows]

    def vector(self, words: Iterable[str]) -> npt.NDArray[np.float64]:
        """Cosine similarity with each label, in `labels` order."""
        counts: Counter[int] = Counter()
        for word in words:
            counts.update(self._word_rows(word))
        if not counts:
            return np.zeros(len(self.labels))
        rows = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        vec = (np.log(tf) + 1) * self.idf[rows]
        values: npt.NDArray[np.float64] = (vec / np.sqrt((vec**2).sum())) @ self.matrix[rows]
        return values


GENERAL = "g:general"  # the background class: general requests no topic answers


class _SmallTalk:
    """Greetings, thanks, goodbyes… as whole phrases or as words in any order: "terima kasih
    banyak ya kak" is thanks although no phrase says exactly that, as long as every word is a
    small-talk word and one of them names no route, topic or neighbouring service ("makasih"
    does, "help" does not)."""

    def __init__(self, content: Content, chat_words: Callable[[str], list[str]]) -> None:
        stopwords = frozenset(content.lexicon.stopwords)
        defining = [
            text
            for route in _ROUTES
            for lang in LANGS
            for text in getattr(content.routes, route).get(lang)
        ]
        for lang in LANGS:
            for topic in content.topics.values():
                defining += [topic.title.get(lang), *topic.keywords.get(lang)]
            defining += [neighbour.title.get(lang) for neighbour in content.neighbours]
        taken = {w for text in defining for w in chat_words(text)}
        self.phrases: dict[str, str] = {}
        self._words: dict[str, set[str]] = defaultdict(set)
        for kind, phrases in content.routes.smalltalk.items():
            for lang in LANGS:
                for phrase in phrases.get(lang):
                    words = chat_words(phrase)
                    self.phrases[" ".join(words)] = kind
                    self._words[kind].update(words)
        self._vocab = frozenset().union(*self._words.values())
        # At least one word of a small-talk message must be one of these ("makasih", "bye").
        self._only = self._vocab - taken - stopwords

    def after_greeting(self, words: list[str]) -> list[str]:
        """The words after a leading small-talk phrase, or `words` itself when there is none
        (or nothing after it)."""
        for n in range(min(len(words) - 1, SMALLTALK_MAX_WORDS), 0, -1):
            if " ".join(words[:n]) in self.phrases:
                return words[n:]
        return words

    def kind(self, words: list[str]) -> str | None:
        """The kind most of the words belong to, when all of them are small-talk words and one
        at least is nothing else (not "help", which also asks for an officer)."""
        if len(words) > SMALLTALK_MAX_WORDS or not self._only.intersection(words):
            return None
        if not self._vocab.issuperset(words):
            return None
        kinds = self._words
        return max(kinds, key=lambda kind: sum(w in kinds[kind] for w in words))


def _label_texts(content: Content) -> list[tuple[str, str]]:
    """(label, text) for every text a label is known by: a topic's titles, keywords and sample
    questions, a neighbouring service's title and questions, a route's phrases."""
    texts: list[tuple[str, str]] = []
    for topic in content.topics.values():
        for lang in LANGS:
            known = [topic.title.get(lang), *topic.keywords.get(lang), *topic.questions.get(lang)]
            texts += [(f"t:{topic.id}", text) for text in known]
    for neighbour in content.neighbours:
        for lang in LANGS:
            known = [neighbour.title.get(lang), *neighbour.questions.get(lang)]
            texts += [(f"n:{neighbour.id}", text) for text in known]
    for route in _ROUTES:
        for lang in LANGS:
            texts += [(f"r:{route}", text) for text in getattr(content.routes, route).get(lang)]
    return texts


def _index_key(texts: list[tuple[str, str]], general: Sequence[str], lexicon: Lexicon) -> str:
    """What the index is computed from; an index file with another key is not used."""
    inputs = [
        INDEX_FORMAT,
        version("PySastrawi"),
        lexicon.model_dump(mode="json"),
        texts,
        list(general),
        [GENERAL_SAMPLE_WEIGHT, C, MAX_ITER],
    ]
    return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()


class _Index:
    """Everything scored against: the labelled documents (a topic's title, keywords and sample
    questions; a neighbouring service's questions; a route's phrases), their BM25 and n-gram
    indexes, and the classifier, which also learns the general requests as a background class.
    Computing it takes a second or two (tokens, weights, training); a file keeps it (`save`):
    shipped for the shipped content, in the data folder for content edited here."""

    def __init__(
        self,
        key: str,
        docs: list[tuple[str, list[str]]],
        bm25: _BM25,
        general_bm25: _BM25,
        label_bm25: _BM25,
        ngrams: _NgramIndex,
        classifier: Classifier,
    ) -> None:
        """`docs`: (label, index tokens) per labelled text, label by label; `label_bm25` has
        one document per label, in that order."""
        self.key = key
        self.docs = docs
        self.bm25 = bm25
        self.general_bm25 = general_bm25
        self.label_bm25 = label_bm25
        self.ngrams = ngrams
        self.classifier = classifier
        self.loaded = False  # True when read from a file rather than computed
        labels = [label for label, _ in docs]
        self.label_names = list(dict.fromkeys(labels))
        # Where each label's documents start: one run per label, in `label_names` order.
        starts = [i for i in range(len(labels)) if i == 0 or labels[i] != labels[i - 1]]
        self.group_starts = np.array(starts, dtype=np.intp)
        # A question whose words are exactly those of one label's title, keyword or sample
        # question (and of no other label's) is strong evidence for that label.
        owners: dict[frozenset[str], set[str]] = defaultdict(set)
        # How many of a label's documents use each word: one word is evidence for a label only
        # when the label's samples use it again and again ("overstay", not "jelas").
        self.support: dict[str, Counter[str]] = defaultdict(Counter)
        for label, tokens in docs:
            owners[frozenset(tokens)].add(label)
            self.support[label].update(set(tokens))
        self.exact = {words: next(iter(ls)) for words, ls in owners.items() if len(ls) == 1}
        self.samples = frozenset(owners)
        # A neighbouring service's own words: those its questions use far more often than any
        # topic's or route's ("pajak", "ktp"; not "kantor" or "jam buka"). A question without
        # one is not about that service: "kantornya dimana" asks for this office.
        sizes = Counter(labels)
        share: dict[str, float] = defaultdict(float)  # a word's highest share among our labels
        for label, words in self.support.items():
            if label[0] != "n":
                for word, count in words.items():
                    share[word] = max(share[word], count / sizes[label])
        self.own = {
            label: frozenset(
                w for w, c in words.items() if c / sizes[label] >= OWN_WORD_RATIO * share[w]
            )
            for label, words in self.support.items()
            if label[0] == "n"
        }
        self.vocab = sorted(self.bm25.idf)

    @classmethod
    def open(
        cls,
        content: Content,
        normaliser: Normaliser,
        content_words: Callable[[str], list[str]],
        general: Sequence[str],
        folder: Path | None,
    ) -> _Index:
        """The shipped index or the one kept in `folder` when either was computed from this
        content, lexicon and general requests; else computed now (and kept in `folder`)."""
        texts = _label_texts(content)
        key = _index_key(texts, general, content.lexicon)
        kept = folder / INDEX_FILE if folder is not None else None
        for path in (SHIPPED_INDEX, kept):
            index = cls.read(path, key) if path is not None else None
            if index is not None:
                return index
        index = cls.build(key, texts, normaliser, content_words, general)
        if kept is not None:
            index.save(kept)
        return index

    @classmethod
    def build(
        cls,
        key: str,
        texts: list[tuple[str, str]],
        normaliser: Normaliser,
        content_words: Callable[[str], list[str]],
        general: Sequence[str],
    ) -> _Index:
        docs: list[tuple[str, list[str]]] = []
        ngram_docs: dict[str, list[str]] = defaultdict(list)
        label_docs: dict[str, list[str]] = defaultdict(list)
        for label, text in texts:
            tokens = normaliser.tokens(text)
            if tokens:
                docs.append((label, tokens))
                label_docs[label].extend(tokens)
                ngram_docs[label].extend(content_words(text))
        background = [tokens for tokens in map(normaliser.tokens, general) if tokens]
        samples = [tokens for _, tokens in docs]
        classifier = Classifier.train(
            [*samples, *background],
            [*(label for label, _ in docs), *[GENERAL] * len(background)],
            [1.0] * len(docs) + [GENERAL_SAMPLE_WEIGHT] * len(background),
        )
        return cls(
            key,
            docs,
            _BM25.build(samples),
            # The general requests as documents of their own: "remove the background from
            # this photo" is nearer to a general request than to any sample question.
            _BM25.build(background or [["-"]]),
            # One document per label as well: a topic whose many questions use the words
            # asked beats a topic where one sample question happens to mention them.
            _BM25.build(list(label_docs.values()), b=0.75),
            _NgramIndex.build(ngram_docs),
            classifier,
        )

    def save(self, path: Path) -> None:
        """Keep the index in one file (atomically, best effort), strings as one JSON text."""
        classifier = self.classifier
        strings = {
            "key": self.key,
            "docs": self.docs,
            "bm25": self.bm25.terms,
            "general": self.general_bm25.terms,
            "label": self.label_bm25.terms,
            "grams": self.ngrams.grams,
            "classifier": [classifier.labels, classifier.vocab],
        }
        arrays: Arrays = {"strings": np.frombuffer(json.dumps(strings).encode(), dtype=np.uint8)}
        for name, bm25 in (("bm25", self.bm25), ("general", self.general_bm25)):
            arrays |= {f"{name}.{k}": v for k, v in bm25.arrays.items()}
        arrays |= {f"label.{k}": v for k, v in self.label_bm25.arrays.items()}
        arrays |= {f"grams.{k}": v for k, v in self.ngrams.arrays.items()}
        arrays["classifier.idf"] = classifier.idf
        arrays["classifier.weights"] = classifier.weights.astype(np.float32)
        write_cache(path, lambda f: np.savez_compressed(f, allow_pickle=False, **arrays))

    @classmethod
    def read(cls, path: Path, key: str) -> _Index | None:
        """The index kept in `path` when it was computed from what `key` names, else None."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                strings = json.loads(saved["strings"].tobytes())
                if strings.get("key") != key:
                    return None
                arrays = {name: saved[name] for name in saved.files}
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None

        def part(prefix: str) -> Arrays:
            return {k.partition(".")[2]: v for k, v in arrays.items() if k.startswith(prefix)}

        docs = [(label, tokens) for label, tokens in strings["docs"]]
        names = list(dict.fromkeys(label for label, _ in docs))
        labels, vocab = strings["classifier"]
        weights = arrays["classifier.weights"].astype(np.float64)
        index = cls(
            key,
            docs,
            _BM25(strings["bm25"], part("bm25."), BM25_K1),
            _BM25(strings["general"], part("general."), BM25_K1),
            _BM25(strings["label"], part("label."), BM25_K1),
            _NgramIndex(names, strings["grams"], part("grams.")),
            Classifier(labels, vocab, arrays["classifier.idf"], weights),
        )
        index.loaded = True
        return index


def load_general(folder: Path = GENERAL_DATA) -> list[str]:
    """The general-assistant requests shipped in bot/understanding/data/ (both languages)."""
    lines: list[str] = []
    for path in sorted(folder.glob("general_*.txt")):
        text = path.read_text(encoding="utf-8")
        lines += [line.strip() for line in text.splitlines() if line.strip()]
    return lines


class Understanding:
    """Built once from the content; `analyse` is pure and fast."""

    def __init__(
        self,
        content: Content,
        thresholds: Thresholds | None = None,
        cache_dir: Path | None = None,
        general: Sequence[str] | None = None,
    ) -> None:
        """`cache_dir`: a folder to keep stems in between starts (the file is keyed by what it
        depends on, so a stale one is rebuilt). `general`: general-assistant requests for the
        background class (default: the ones shipped in bot/understanding/data/)."""
        self.content = content
        self.thresholds = thresholds or Thresholds()
        self.ticket_letters = content.queue.letters.lower()  # the services in content/queue.yaml
        self.normaliser = Normaliser(
            content.lexicon, cache_dir / STEM_CACHE_FILE if cache_dir else None
        )
        lexicon = content.lexicon
        self._stopwords = frozenset(lexicon.stopwords)
        self._vague = frozenset(lexicon.vague)
        self._anchors = frozenset(lexicon.anchors)
        self._place_anchors = frozenset(lexicon.place_anchors)
        self._someone_elses = frozenset(lexicon.someone_elses)
        self._office = frozenset(lexicon.office)
        self._question_words = frozenset(lexicon.question_words)
        self._office_context = frozenset(lexicon.office_context) | self._vague
        self._other_words = frozenset(lexicon.doc_types.get("other", []))
        self._index = _Index.open(
            content,
            self.normaliser,
            self._content_words,
            load_general() if general is None else general,
            cache_dir,
        )
        self._smalltalk = _SmallTalk(content, self._chat_words)
        # Document type per label; neighbours are "other", so a question naming a passport or a
        # stay permit is not sent to the KTP or SIM office because it says "perpanjang".
        self._label_type: dict[str, str] = {
            f"t:{t.id}": t.category for t in content.topics.values()
        }
        self._label_type |= {f"n:{n.id}": "other" for n in content.neighbours}
        self._topic_types = frozenset(lexicon.doc_types) & {
            t.category for t in content.topics.values()
        }
        self._doc_types = {w: kind for kind, words in lexicon.doc_types.items() for w in words}
        # The labels as arrays in the index's order, so that scoring a question is a few vector
        # operations, not a loop over every label.
        labels = self._labels = self._index.label_names
        types = [self._label_type.get(label) for label in labels]
        self._is_topic = np.array([label.startswith("t:") for label in labels])
        self._is_neighbour = np.array([kind == "other" for kind in types])
        self._of_type = {kind: np.array([t == kind for t in types]) for kind in self._topic_types}
        self._own_labels: dict[str, list[int]] = defaultdict(list)  # word -> neighbours owning it
        for i, label in enumerate(labels):
            for word in self._index.own.get(label, ()):
                self._own_labels[word].append(i)
        learned = {label: i for i, label in enumerate(self._index.classifier.labels)}
        self._learned_columns = np.array([learned[label] for label in labels], dtype=np.intp)
        self._general_column = learned.get(GENERAL)
        for word in self._index.vocab:  # pre-warm the stem cache with the index vocabulary
            self.normaliser.stem(word)
        # What a typo may be corrected to: the index's words, and the lexicon's words that stand
        # for one of them ("kitass" is a typo of "kitas", which the index knows as "itas").
        targets = {word: word for word in self._index.vocab}
        for word in (*lexicon.slang, *lexicon.english):
            canonical = self.normaliser.canonical(word)
            if len(canonical) == 1 and (token := self.normaliser.stem(canonical[0])) in targets:
                targets.setdefault(word, token)
        self._typo_targets = targets
        self._typo_candidates: dict[str, list[str]] = defaultdict(list)  # by first letter
        for word in targets:
            self._typo_candidates[word[0]].append(word)
        self.normaliser.save_stems()

    def _content_words(
        self, text: str, keep_stopwords: bool = False, english: bool = True
    ) -> list[str]:
        """Canonical words. `english=False` keeps English as typed, for small-talk matching:
        "fine" stays "fine" and does not become "denda" (an overstay fine)."""
        normaliser = self.normaliser
        words = [w for raw in normaliser.words(text) for w in normaliser.canonical(raw, english)]
        return words if keep_stopwords else [w for w in words if w not in self._stopwords]

    def _chat_words(self, text: str) -> list[str]:
        return self._content_words(text, keep_stopwords=True, english=False)

    def detect_language(self, text: str) -> Lang | None:
        """English or Indonesian, or None when the message gives no clue (e.g. "itas")."""
        lang = self.normaliser.language(text)
        return "en" if lang == "en" else "id" if lang == "id" else None

    def _correct(self, token: str) -> str:
        """A typo's nearest index word; called only for words that are no real word."""
        if token in self._index.bm25.idf or len(token) < MIN_TYPO_LENGTH:
            return token
        # Typos rarely hit the first letter; without this, "presiden" became "resident".
        same_start = self._typo_candidates.get(token[0], [])
        match = process.extractOne(token, same_start, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        return self._typo_targets[str(match[0])] if match else token

    def _ticket(self, text: str) -> str | None:
        for letter, number in _TICKET.findall(text.lower()):
            if letter in self.ticket_letters:
                return f"{letter.upper()}-{int(number):03d}"
        return None

    def analyse(self, text: str, default_lang: Lang = "id") -> Analysis:
        """Classify one message."""
        lang = self.detect_language(text) or default_lang
        words = self._content_words(text, keep_stopwords=True)
        normalised = " ".join(words)
        ticket = self._ticket(text)
        if ticket and (set(words) & _QUEUE_WORDS or len(words) <= 2):
            return Analysis("queue", lang, ticket=ticket, normalised=normalised)

        stop = self._stopwords
        chat = self._chat_words(text)
        phrases = self._smalltalk.phrases
        small = phrases.get(" ".join(w for w in chat if w not in stop)) or phrases.get(
            " ".join(chat)
        )
        if small is not None:
            return Analysis("smalltalk", lang, smalltalk=small, normalised=normalised)

        # A greeting or thanks before the question does not count: "selamat pagi kak, paspor
        # saya hilang" is scored as "paspor saya hilang", "makasih, paspor?" as "paspor".
        rest = self._smalltalk.after_greeting(chat)
        # …but an anchor in it still says who is asked: "min, hari jumat buka jam brp".
        greeting = [w for w in chat[: len(chat) - len(rest)] if w in self._anchors]
        scores = self.score(
            " ".join([*greeting, *rest]) if rest is not chat else text, asks=self._asks(text)
        )
        core = [w for raw in rest for w in self.normaliser.canonical(raw) if w not in stop]
        if len(core) == 1 and (category := core[0]) in self._topic_types:
            # Only the name of a category ("paspor", "wna"): show what there is to know about it.
            ranked = sorted(
                (t.id for t in self.content.topics_in(category)),
                key=lambda t: scores.get(f"t:{t}", 0.0),
                reverse=True,
            )
            return Analysis(
                "clarify",
                lang,
                candidates=tuple(ranked),
                category=category,
                normalised=normalised,
                scores=scores,
            )
        route, topic_id, neighbour_id, candidates = decide(
            scores, len(text.split()), self.thresholds
        )
        ours = route in ("topic", "clarify") or (route == "unknown" and neighbour_id is None)
        if core and ours and all(self._is_vague(w) for w in core):
            # "biaya?" alone: the fees of a passport, of a stay permit…? Ask, do not guess.
            ranked = sorted(
                (label for label in scores if label.startswith("t:")), key=scores.__getitem__
            )
            if ranked:
                route, topic_id = "clarify", None
                candidates = tuple(label[2:] for label in reversed(ranked[-3:]))
        if route == "unknown" and neighbour_id is None:
            # Nothing else fits and every word is a small-talk word, in any order:
            # "terima kasih banyak ya kak", "thank you very much, bye".
            small = self._smalltalk.kind(chat)
            if small is not None:
                return Analysis("smalltalk", lang, smalltalk=small, normalised=normalised)
        also = None
        if route in ("topic", "clarify") or (route == "unknown" and neighbour_id is None):
            # Each part must be answerable on its own; a topic the whole message answers and
            # neither part does says the parts are pieces of one question ("nama di akta beda
            # sama KTP, masih bisa bikin paspor?").
            first, second = self._two_questions(text)
            if first is not None and (route != "topic" or topic_id in (first, second)):
                route, topic_id, also = "topic", first, second
        suggestions: tuple[str, ...] = ()
        if route == "unknown" and scores.get(GENERAL, 0.0) >= GENERAL_DECLINE:
            candidates = ()  # a general request: no "perhaps one of these?" topics
        elif route == "unknown" and neighbour_id is None:
            floor = self.thresholds.suggest
            suggestions = tuple(t for t in candidates[:2] if scores[f"t:{t}"] >= floor)
        return Analysis(
            route,
            lang,
            topic_id=topic_id,
            candidates=candidates,
            neighbour_id=neighbour_id,
            suggestions=suggestions,
            also=also,
            normalised=normalised,
            scores=scores,
        )

    def _two_questions(self, text: str) -> tuple[str | None, str | None]:
        """The topics of the first two parts of a short message that each answer a different
        topic on their own, (None, None) when it does not hold two such questions."""
        if len(text.split()) >= LONG_MESSAGE_WORDS:
            return None, None
        pieces: list[tuple[str, bool]] = []  # (text, followed by a question mark)
        start = 0
        for match in _QUESTION_SPLIT.finditer(text):
            pieces.append((text[start : match.start()], match.group() == "?"))
            start = match.end()
        pieces.append((text[start:], False))
        # A part asks something when it ends with "?" or has a question word: "my wife is
        # Indonesian and never had a passport, how…" holds one question, not two.
        parts = [
            part
            for part, marked in pieces
            if len(part.split()) >= 2
            and (marked or not self._question_words.isdisjoint(self._chat_words(part)))
        ]
        if len(parts) < 2:
            return None, None
        found: list[str] = []
        for part in parts[:3]:
            scores = self.score(part, asks=True)  # each part asks something, as chosen above
            route, topic_id, _, _ = decide(scores, len(part.split()), self.thresholds)
            if route == "topic" and topic_id is not None and topic_id not in found:
                found.append(topic_id)
        return (found[0], found[1]) if len(found) >= 2 else (None, None)

    def is_sample(self, text: str) -> bool:
        """The message has the words of a title, keyword, sample question or route phrase (in
        any order): a benchmark line like this measures memory, not understanding."""
        return frozenset(self.normaliser.tokens(text)) in self._index.samples

    def _is_vague(self, word: str) -> bool:
        return word in self._vague or self.normaliser.stem(word) in self._vague

    def score(self, text: str, asks: bool | None = None) -> dict[str, float]:
        """Fused score per label (t:topic, n:neighbour, r:route), 0..1. A long message is
        scored as a whole and by its last sentences, where people put the question after the
        story; when the question names an immigration document and no other agency's, the
        story's other-agency words (the KTP or the Dukcapil visit that came first) are left
        out of the whole. `asks`: whether the message asks something (`_asks`), when `text` is
        a rewrite of it that lost its "?" or question words; None: read from `text`."""
        asks = self._asks(text) if asks is None else asks
        tail = _tail(text)
        share = self.thresholds.tail_weight
        if tail is None or not share:
            return self._score(text, asks)
        last = self._score(tail, asks)
        asked = self._doc_types_of(self._content_words(tail))
        ignore = self._other_words if asked - {"other"} and "other" not in asked else frozenset()
        scores = self._score(text, asks, ignore)
        return {
            label: (1 - share) * scores.get(label, 0.0) + share * last.get(label, 0.0)
            for label in scores.keys() | last.keys()
        }

    def _doc_types_of(self, words: Iterable[str]) -> set[str]:
        return {self._doc_types[w] for w in words if w in self._doc_types}

    def _anchored(self, text: str, said: set[str], asks: bool) -> bool:
        """The message names this office ("min", "kantor", "mpp"…): an anchor, unless every
        mention of it is someone else's place ("kantor polisi", "kantor gue", "loket bank").
        A message of STATEMENT_WORDS or more with only such place words that asks nothing is a
        statement, a review or a story ("lift di gedung kantor mati"), not a question for this
        office; a shorter one is a terse request ("alamat kantornya", "nomor wa kantor")."""
        found = self._anchors.intersection({*self.normaliser.words(text), *said})
        if not found & self._place_anchors:
            return bool(found)
        if not found - self._place_anchors and not asks and len(text.split()) >= STATEMENT_WORDS:
            return False
        words = self._content_words(text, keep_stopwords=True)
        theirs = self._someone_elses
        ours = {w for w, after in zip(words, [*words[1:], ""], strict=True) if after not in theirs}
        return any(w not in self._place_anchors or w in ours for w in found)

    def _asks(self, text: str) -> bool:
        """The message asks something: a "?" or a question word, read before the phrase
        rewrites ("jam berapa" becomes "jam")."""
        if "?" in text:
            return True
        canonical = self.normaliser.canonical
        words = {w for raw in self.normaliser.typed_words(text) for w in canonical(raw, False)}
        return not self._question_words.isdisjoint(words)

    def _questions(self, text: str, ignore: frozenset[str]) -> list[list[str]]:
        """The content words of each sentence of a message that ends with "?": "you open on
        saturday? I only free on weekend" asks the office in its first."""
        pieces = _SENTENCE_END.split(text) if "?" in text else []
        return [
            [w for w in self._content_words(sentence) if w not in ignore]
            for sentence, end in zip(pieces[::2], pieces[1::2], strict=False)
            if "?" in end
        ]

    def _asks_the_office(self, words: list[str]) -> bool:
        """Only words of a question about the office itself ("buka jam 8?", "are you open on
        saturday", "lantai brp"): it names no other place, so it is asked of this office. A word
        counts by its stem too: "bukanya", "lokasinya" are real words the slang map keeps."""
        office, context, stem = self._office, self._office_context, self.normaliser.stem
        roots = [stem(w) for w in words]
        return not office.isdisjoint([*words, *roots]) and all(
            w in office or w in context or r in office or r in context or w.isdigit()
            for w, r in zip(words, roots, strict=True)
        )

    def _score(
        self, text: str, asks: bool, ignore: frozenset[str] = frozenset()
    ) -> dict[str, float]:
        """`asks`: the message asks something; `ignore`: words left out, as words and as index
        tokens."""
        index = self._index
        tokens = [t for t in self.normaliser.tokens(text, self._correct) if t not in ignore]
        if not tokens:
            return {}
        unique = list(dict.fromkeys(tokens))
        th = self.thresholds
        unknown = th.unknown_token_weight * index.bm25.mean_idf
        mass = sum(index.bm25.idf.get(t, unknown) for t in unique)
        coverage = np.minimum(index.bm25.scores(unique) / mass, 1.0)
        if th.cosine_weight:
            cosine = index.bm25.cosine(unique, unknown)
            doc_scores = (1 - th.cosine_weight) * coverage + th.cosine_weight * cosine
        else:
            doc_scores = coverage
        # Every score below is an array over the labels in the index's order. Documents are
        # stored label by label: the best document of each label in one call.
        best = np.maximum.reduceat(doc_scores, index.group_starts)
        whole = self._whole_label(unique)
        words = [w for w in self._content_words(text) if w not in ignore]
        grams = index.ngrams.vector(words)
        # Stems too: "paspornya" names a passport as much as "paspor" does.
        said = {*words, *tokens}
        query_types = self._doc_types_of(said)
        ours = query_types - {"other"}  # immigration itself or one of its document types
        named = query_types & self._topic_types
        probabilities = index.classifier.probabilities(tokens)
        learned = probabilities[self._learned_columns]
        # A general request ("set an alarm", "lagu terbaru") lowers every score by how sure the
        # classifier is of it, unless the message names immigration, one of its documents or
        # this office ("min", "kantor", "mpp").
        anchored = (
            bool(ours)
            or self._anchored(text, said, asks)
            or any(map(self._asks_the_office, [words, *self._questions(text, ignore)]))
        )
        general = 0.0
        if not anchored:
            general_mass = sum(index.general_bm25.idf.get(t, unknown) for t in unique)
            nearest = float(index.general_bm25.scores(unique).max()) / general_mass
            closer = max(0.0, min(nearest, 1.0) - float(best.max(initial=0.0)))
            column = self._general_column
            sure = float(probabilities[column]) if column is not None else 0.0
            general = th.general_weight * sure + th.nearest_weight * closer
            general = min(1.0, general)
        # The classifier ignores words it never saw: trust it as far as it saw the question.
        known = [t for t in unique if t in index.bm25.idf]
        seen = sum(index.bm25.idf[t] for t in known) / mass
        word_score = (1 - th.label_weight) * best + th.label_weight * whole
        value = (1 - th.ngram_weight) * word_score + th.ngram_weight * grams
        share = th.classifier_weight
        value = (1 - share) * value + share * seen * learned
        gate = th.doc_type_gate
        value = np.where(self._gated(unique, ours, named, query_types), value * gate, value)
        if len(known) == 1:
            support = np.array([index.support[label][known[0]] for label in self._labels])
            value = np.where(support < MIN_SUPPORT, value * gate, value)
        value = value * (1 - general)
        labels = self._labels
        present = np.flatnonzero((best > 0) | (grams > 0)).tolist()
        fused = dict(zip([labels[i] for i in present], value[present].tolist(), strict=True))
        exact = index.exact.get(frozenset(unique))
        if exact is not None:
            fused[exact] = fused.get(exact, 0.0) + th.exact_bonus
        if general:
            fused[GENERAL] = general  # not a label to answer with: `decide` passes over it
        return fused

    def _gated(
        self, unique: list[str], ours: set[str], named: set[str], query_types: set[str]
    ) -> npt.NDArray[np.bool_]:
        """Which labels the message's document types rule out: a neighbouring service when the
        message names immigration or none of the service's own words; the topics of the other
        document type when it names one; every topic when it names only another agency's
        document."""
        if ours:
            gated = self._is_neighbour.copy()
        else:
            owned = np.zeros(len(self._labels), dtype=bool)
            for word in unique:
                owned[self._own_labels.get(word, [])] = True
            gated = self._is_neighbour & ~owned
        if named:
            for kind in self._topic_types - named:
                gated |= self._of_type[kind]
        elif "other" in query_types and not ours:
            gated |= self._is_topic
        return gated

    def _whole_label(self, unique: list[str]) -> npt.NDArray[np.float64]:
        """How much of the question each label's whole document explains, 0..1: each word
        counts with its IDF times how saturated the label is with it (tf / (tf + k1·norm)), so
        one passing mention in a long label explains a fraction of that word, not twice it;
        scaled by how this label's BM25 compares with the best label's (common words cover
        many labels fully)."""
        bm25 = self._index.label_bm25
        unknown = self.thresholds.unknown_token_weight * bm25.mean_idf
        mass = sum(bm25.idf.get(t, unknown) for t in unique)
        raw = bm25.scores(unique)
        top = float(raw.max(initial=0.0)) or 1.0
        explained: npt.NDArray[np.float64] = raw / (bm25.k1 + 1) / mass * raw / top
        return explained


def _tail(text: str) -> str | None:
    """The last sentences of a long message (the last words when it has no punctuation, as
    voice-to-text writes), or None for a message short enough to score whole."""
    words = text.split()
    if len(words) < LONG_MESSAGE_WORDS:
        return None
    pieces = _SENTENCE_END.split(text)  # sentence, its end, sentence, its end…
    for sentence, end in reversed(list(zip(pieces[::2], pieces[1::2], strict=False))):
        if "?" in end and len(sentence.split()) >= QUESTION_WORDS:
            return sentence.strip()
    sentences = [s for s in pieces[::2] if s.strip()]
    tail: list[str] = []
    for sentence in reversed(sentences):
        tail[:0] = sentence.split()
        if len(tail) >= TAIL_WORDS:
            break
    if len(tail) >= len(words):  # one long sentence
        tail = words[-TAIL_WORDS:]
    return " ".join(tail)


def decide(
    scores: dict[str, float], words: int, th: Thresholds
) -> tuple[Route, str | None, str | None, tuple[str, ...]]:
    """(route, topic id, neighbour id, candidate topics) from the fused scores of a message of
    `words` words.

    Answer when the best topic is likely enough to be right; offer the close topics as buttons
    when it is only fairly likely; otherwise decline (or redirect to a neighbouring service).
    """
    ranked = sorted(scores.items(), key=itemgetter(1), reverse=True)
    ranked = [item for item in ranked if item[0] != GENERAL]
    topics = [label[2:] for label, _ in ranked if label[0] == "t"]
    candidates = tuple(topics[:5])
    if not ranked:
        return "unknown", None, None, candidates
    best_label, best = ranked[0]
    kind, _, name = best_label.partition(":")
    if kind == "t":
        sure = confidence(scores, words)
        second = scores[f"t:{topics[1]}"] if len(topics) > 1 else 0.0
        if sure >= th.answer and best - second >= th.close_call * best:
            return "topic", name, None, candidates
        if sure < th.sure_enough:
            return "unknown", None, None, candidates
        close = tuple(t for t in topics[:3] if scores[f"t:{t}"] >= best - th.clarify_band)
        return "clarify", None, None, close
    if best < th.clarify:
        return "unknown", None, None, candidates
    if kind == "n":
        return "unknown", None, name, candidates
    # A route. Clearly nobody's business ("elsewhere" well ahead of every topic): suggest nothing.
    if name == "elsewhere" and (not topics or best - scores[f"t:{topics[0]}"] >= th.clarify_band):
        return "unknown", None, None, ()
    return _ROUTES[name], None, None, candidates


_ROUTES: dict[str, Route] = {
    "queue": "queue",
    "announcements": "announcements",
    "human": "human",
    "elsewhere": "unknown",  # declined like any question that is not ours, menu and all
}
