"""Turn an informal Indonesian or English message into index tokens.

Order: lowercase → phrase rewrites → words → repeated letters → domain slang → English glossary
→ stopwords → stem (cached). Typo correction against the index vocabulary happens in the engine,
which knows the vocabulary.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import cache, cached_property, lru_cache
from importlib.metadata import version
from pathlib import Path

from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary
from Sastrawi.Stemmer.Stemmer import Stemmer
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

from bot.content.models import Lexicon
from bot.understanding.cache import write_cache

_WORD = re.compile(r"[a-z0-9]+")
_REPEAT = re.compile(r"(.)\1{2,}")
# Reduplication written with a 2: "anak2" = "anak-anak", "berkas2nya" = "berkas-berkasnya".
_TWO = re.compile(r"^([a-z]{3,})2(nya)?$")
STEM_CACHE_SIZE = 20_000
STEM_CACHE_FILE = "stems.json"
# The stems of the shipped content's words, so that a first start need not stem them (most of
# its time); used while its key matches. Regenerate after a lexicon change: python -m
# benchmarks.stems (tests/test_understanding.py says when it is stale).
SHIPPED_STEMS = Path(__file__).resolve().parent / "data" / STEM_CACHE_FILE
WORDS_CACHE_SIZE = 256  # the engine splits the same message several times
DATA = Path(__file__).resolve().parent / "data"
# A word this much more frequent (Zipf, log10 scale) in one language than in the other reads as
# that language: "timer" (en 3.7, id 3.4) is neither, "spend" (en 5.0, id 0) is English.
LANGUAGE_MARGIN = 1.0
# Possessive suffixes, longest first: Javanese krama -nipun/-ipun, ngoko -ne/-e (Indonesian -nya),
# and -nya/-ku/-mu, which the stemmer strips only from Indonesian roots ("tuwoku", "bojomu").
POSSESSIVE_SUFFIXES = ("nipun", "ipun", "nya", "ne", "ku", "mu", "e")
MIN_POSSESSIVE_ROOT = 4  # "kode" is no "kod" + -e, and short roots are too often a coincidence
# Colloquial verb affixes, read the same way: Javanese krama passive dipun- ("dipuntunda":
# ditunda), the causative -aken/-ake/-ke/-no of krama and ngoko ("dimundurno",
# "dipunparingaken": -kan) and the -in of Jakarta slang ("dilaporin", "bantuin": -kan/-i).
VERB_PREFIXES = ("dipun", "di", "")
VERB_SUFFIXES = ("aken", "ake", "ke", "no", "in", "")
# An amount of money ("350rb", "950 ribu", "rp 650.000", "1,5 jt", "1 million rupiah") reads as
# the word "uang": a number the index cannot know, a word it does (not "biaya": "they asked for
# 15 juta" is about a broker, not a fee).
_MONEY = re.compile(
    r"\b(?:(?:rp|idr)\.?\s*\d[\d.,]*|\d[\d.,]*\s*(?:rb|ribu|rebu|k|jt|juta|jeti|million|rupiah))\b"
)


@cache
def word_frequencies(lang: str) -> dict[str, float]:
    """Zipf frequency of the common words of English or Indonesian (data/README.md)."""
    fields = (DATA / f"words_{lang}.txt").read_text(encoding="utf-8").split()
    return dict(zip(fields[::2], map(float, fields[1::2]), strict=True))


@lru_cache(maxsize=STEM_CACHE_SIZE)
def _clean(word: str) -> str:
    """Repeated letters collapsed ("pasporrrr"), a reduplication's 2 dropped ("anak2")."""
    return _TWO.sub(r"\1\2", _REPEAT.sub(r"\1", word))


class Normaliser:
    """Text → tokens, with a bounded stem cache that can be kept on disk between starts
    (stemming the ~2,000 words of the sample questions is most of a cold start)."""

    def __init__(self, lexicon: Lexicon, stem_cache: Path | None = None) -> None:
        self.lexicon = lexicon
        # One pass over the text for every phrase; the longest phrase at a position wins.
        alternatives = sorted(lexicon.phrases, key=len, reverse=True)
        self._phrases = re.compile(rf"\b(?:{'|'.join(map(re.escape, alternatives))})\b")
        self._words = lru_cache(maxsize=WORDS_CACHE_SIZE)(self._split)
        # Every message is read several ways (index tokens, chat words, n-grams): one lookup
        # per word each time.
        self.canonical = lru_cache(maxsize=STEM_CACHE_SIZE)(self._canonical)
        self._stopwords = frozenset(lexicon.stopwords)
        self._english_markers = frozenset(lexicon.english_markers) | frozenset(
            k for k, v in lexicon.english.items() if k != v
        )
        # Domain words join Sastrawi's dictionary so that "kitasnya" stems to "itas", not "kitas".
        domain_words = (
            set(lexicon.slang.values())
            | set(lexicon.english.values())
            | set(lexicon.phrases.values())
        )
        roots = StemmerFactory().get_words()
        self._dictionary = roots + sorted(w for v in domain_words for w in v.split())
        self._english = word_frequencies("en")
        self._indonesian = word_frequencies("id")
        # Real words are never "corrected" into a domain word ("timer" is not a typo of "time").
        self._real_words = frozenset(roots) | self._english.keys() | self._indonesian.keys()
        # Names of permits, of offices and of places read the same in both languages ("kitap fee
        # 2025", "where is kanim malang"): they count for neither.
        named = set(lexicon.neutral_words)
        self._neutral = frozenset(named | {k for k, v in lexicon.slang.items() if v in named})
        self._indonesian_markers = frozenset(lexicon.slang) - self._english_markers - self._neutral
        # The stems depend on Sastrawi and on the domain words added to its dictionary.
        key_text = "\n".join([version("PySastrawi"), *sorted(domain_words)])
        self._cache_key = hashlib.sha256(key_text.encode()).hexdigest()
        self._cache_path = stem_cache
        self._stems: dict[str, str] = self._read_stems()
        self._stems_loaded = len(self._stems)

    def words(self, text: str) -> list[str]:
        """Lowercased words after phrase rewrites and repeated-letter collapse, before slang."""
        return list(self._words(text))

    def typed_words(self, text: str) -> list[str]:
        """Lowercased words as typed, before any rewrite ("jam berapa" keeps its "berapa")."""
        return _WORD.findall(text.lower().replace("’", "'"))

    def _split(self, text: str) -> tuple[str, ...]:
        text = _MONEY.sub(" uang ", text.lower().replace("’", "'"))
        text = self._phrases.sub(lambda m: self.lexicon.phrases[m.group(0)], text)
        return tuple(map(_clean, _WORD.findall(text)))

    def _canonical(self, word: str, english: bool = True) -> tuple[str, ...]:
        """Slang, then the English glossary unless `english` is false, for one word (slang
        may chain: bkin→bikin→buat)."""
        word = self._affixed_root(word)
        for _ in range(2):
            mapped = self.lexicon.slang.get(word)
            if mapped is None or mapped == word:
                break
            word = mapped
        if english:
            word = self.lexicon.english.get(word, word)
        return tuple(word.split())

    def _affixed_root(self, word: str) -> str:
        """The root of a word carrying a possessive suffix ("kuotane", "billinge", "syaratipun",
        "tuwoku") or a colloquial verb affix ("dipuntunda", "dimundurno", "dilaporin"), when the
        word itself is no known word and its root is a real or lexicon word: the stemmer knows
        neither these affixes nor Javanese roots, so such words stayed unknown."""
        if self._known(word):
            return word
        for suffix in POSSESSIVE_SUFFIXES:
            root = word[: -len(suffix)]
            if word.endswith(suffix) and len(root) >= MIN_POSSESSIVE_ROOT and self._known(root):
                return root
        for prefix in VERB_PREFIXES:
            for suffix in VERB_SUFFIXES:
                if not (prefix or suffix) or not (
                    word.startswith(prefix) and word.endswith(suffix)
                ):
                    continue
                root = word[len(prefix) : len(word) - len(suffix)]
                if len(root) >= MIN_POSSESSIVE_ROOT and self._known(root):
                    return root
        return word

    def _known(self, word: str) -> bool:
        return word in self.lexicon.slang or self.is_word(word)

    def tokens(self, text: str, correct: Callable[[str], str] | None = None) -> list[str]:
        """Index tokens: canonical, without stopwords, stemmed. `correct` fixes the stem of a
        word that is neither a domain word nor a real English or Indonesian word (a typo)."""
        out: list[str] = []
        for raw in self.words(text):
            for word in self.canonical(raw):
                if word in self._stopwords or raw in self._stopwords:
                    continue
                token = self.stem(word)
                if correct is not None and not self.is_word(raw) and not self.is_word(word):
                    token = correct(token)
                out.append(token)
        return out

    def is_word(self, word: str) -> bool:
        """A real English or Indonesian word (or a number): not a typo."""
        return word in self._real_words or word.isdigit()

    def stem(self, word: str) -> str:
        if len(word) <= 3 or word.isdigit():
            return word
        found = self._stems.get(word)
        if found is None:
            found = str(self._stemmer.stem(word))
            if len(self._stems) < STEM_CACHE_SIZE:
                self._stems[word] = found
        return found

    @cached_property
    def _stemmer(self) -> Stemmer:
        """Built when a word is first missing from the stem cache: with the shipped stems, a
        start with the shipped content needs none."""
        return Stemmer(ArrayDictionary(self._dictionary))

    def _read_stems(self) -> dict[str, str]:
        """The shipped stems, then those kept in the data folder, each if its key matches."""
        stems: dict[str, str] = {}
        for path in (SHIPPED_STEMS, self._cache_path):
            if path is not None:
                stems |= self.read_stem_file(path)
        return stems

    def read_stem_file(self, path: Path) -> dict[str, str]:
        """The stems in `path`, or none when it is missing, unreadable or for another Sastrawi
        or lexicon."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("key") != self._cache_key:
            return {}
        stems = data.get("stems")
        return {str(k): str(v) for k, v in stems.items()} if isinstance(stems, dict) else {}

    def save_stems(self) -> None:
        """Keep the stem cache for the next start when it grew; best effort, atomic."""
        if self._cache_path is None or len(self._stems) == self._stems_loaded:
            return
        data = json.dumps({"key": self._cache_key, "stems": self._stems}).encode()
        write_cache(self._cache_path, lambda f: f.write(data))

    def language(self, text: str) -> str | None:
        """English ("en") or Indonesian ("id"), whichever more of the words read as; None on a
        tie ("itas"). Read before phrase rewrites: "opening hours" is English although it
        becomes "jam buka"."""
        english = indonesian = 0
        for word in self.typed_words(text):
            if word in self._neutral:
                continue
            en = self._english.get(word, 0.0)
            id_ = self._indonesian.get(word, 0.0)
            if word in self._english_markers or en >= id_ + LANGUAGE_MARGIN:
                english += 1
            elif word in self._indonesian_markers or id_ >= en + LANGUAGE_MARGIN:
                indonesian += 1
        if english == indonesian:
            return None
        return "en" if english > indonesian else "id"
