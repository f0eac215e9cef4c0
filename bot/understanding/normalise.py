"""Turn an informal Indonesian or English message into index tokens.

Order: lowercase → phrase rewrites → words → repeated letters → domain slang → English glossary
→ stopwords → stem (cached). Typo correction against the index vocabulary happens in the engine,
which knows the vocabulary.
"""

from __future__ import annotations

import re
from functools import lru_cache

from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary
from Sastrawi.Stemmer.Stemmer import Stemmer
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

from bot.content.models import Lexicon

_WORD = re.compile(r"[a-z0-9]+")
_REPEAT = re.compile(r"(.)\1{2,}")
STEM_CACHE_SIZE = 20_000
WORDS_CACHE_SIZE = 256  # the engine splits the same message several times


class Normaliser:
    """Callable text → tokens, with a bounded stem cache."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        # One pass over the text for every phrase; the longest phrase at a position wins.
        alternatives = sorted(lexicon.phrases, key=len, reverse=True)
        self._phrases = re.compile(rf"\b(?:{'|'.join(map(re.escape, alternatives))})\b")
        self._words = lru_cache(maxsize=WORDS_CACHE_SIZE)(self._split)
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
        words = StemmerFactory().get_words() + sorted(w for v in domain_words for w in v.split())
        stemmer = Stemmer(ArrayDictionary(words))
        self._stem = lru_cache(maxsize=STEM_CACHE_SIZE)(stemmer.stem)

    def words(self, text: str) -> list[str]:
        """Lowercased words after phrase rewrites and repeated-letter collapse, before slang."""
        return list(self._words(text))

    def _split(self, text: str) -> tuple[str, ...]:
        text = text.lower().replace("’", "'")
        text = self._phrases.sub(lambda m: self.lexicon.phrases[m.group(0)], text)
        return tuple(_REPEAT.sub(r"\1", word) for word in _WORD.findall(text))

    def canonical(self, word: str) -> list[str]:
        """Slang, then the English glossary, for one word (slang may chain: bkin→bikin→buat)."""
        for _ in range(2):
            mapped = self.lexicon.slang.get(word)
            if mapped is None or mapped == word:
                break
            word = mapped
        word = self.lexicon.english.get(word, word)
        return word.split()

    def tokens(self, text: str) -> list[str]:
        """Index tokens: canonical, without stopwords, stemmed."""
        out: list[str] = []
        for raw in self.words(text):
            for word in self.canonical(raw):
                if word in self._stopwords or raw in self._stopwords:
                    continue
                out.append(self.stem(word))
        return out

    def stem(self, word: str) -> str:
        if len(word) <= 3 or word.isdigit():
            return word
        return str(self._stem(word))

    def english_share(self, text: str) -> float:
        """Share of words that read as English (0..1)."""
        words = self.words(text)
        if not words:
            return 0.0
        return sum(1 for w in words if w in self._english_markers) / len(words)
