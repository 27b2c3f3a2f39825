"""How the placement items are made: ``manage.py placement_items`` runs this
and writes ``data/<language>.json``; the API only reads those files.

**Real words.** The language's lemmas ranked by frequency
(``langlearn.difficulty.vocabulary.rank``: wordfreq's word forms summed by
their simplemma lemma), in bands of ``BAND_WIDTH`` ranks up to
``BANDS * BAND_WIDTH``. A lemma is a candidate when it is letters only, at
least ``MIN_LETTERS`` long, no function word (spaCy's stop words), in
simplemma's dictionary as its own lemma, common in its own form (not an
artefact of the lemmatiser: its own Zipf within ``OWN_FORM_ZIPF`` of its
family's), and not as common in English or in two other European languages
(names, brands, loanwords: a yes there says nothing about the target
language), and not in ``EXCLUDED`` (names the filters let through, found by
reading the lists). ``POOL_PER_BAND`` candidates a band are drawn with a
fixed seed.

**Pseudo-words.** Strings of letters a character-trigram model of the
language's frequent lemmas emits (a fixed seed), so that they look and sound
like words of the language, kept only when they are no word: wordfreq has no
frequency for them in the language or in English, simplemma does not know
them (nor a lemma it would read them as), and no frequent word form (Zipf 3
and up) is one letter away (a misreading of a real word is not a guess). In
German, nouns are capitalised: a share of the pseudo-words is too, as many as
of the real words, so that case gives nothing away.

Deterministic: the same library versions give the same files. They are
shipped rather than made at start-up because a learner's answers name items
by id, and the items must not change under them when wordfreq, simplemma or
spaCy is upgraded; regenerating is a decision, reviewed as a diff.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from functools import cache
from typing import Any

BAND_WIDTH = 1000
BANDS = 10
POOL_PER_BAND = 24
PSEUDO_POOL = 60
MIN_LETTERS = 3
OWN_FORM_ZIPF = 1.0
# Languages a word must not be about as common in (a name, a brand, a loanword).
OTHER_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl")
# Pseudo-words: as long as real words, no more than 3 consonants in a row.
PSEUDO_LETTERS = (5, 10)
MAX_CONSONANTS = 3
FREQUENT_FORM_ZIPF = 3.0


def _words(text: str) -> list[str]:
    return text.split()


# Words the filters let through that a learner could not fairly be asked:
# names, abbreviations, lemmatiser artefacts.
EXCLUDED: dict[str, frozenset[str]] = {
    "es": frozenset(
        _words("puta puto culo pendejada pendejo mierda coño joder regala caí apolo iguala")
    ),
    "fr": frozenset(_words("pisser putain merde con connard bite vomi")),
    "de": frozenset(
        _words("kacken scheisse scheiße arsch ficken poppen tüv lanz joa achja heiko aachener")
    ),
    "it": frozenset(
        _words("fottere scopare cazzo merda culo stronzo minuscola iscritta confindustria")
    ),
    "pt": frozenset(
        _words(
            "merda sacanagem chupar porra caralho pênis recife setúbal moçambique angra troque "
            "guiné veiga tupi"
        )
    ),
}


# Reflexive infinitives (``considerarse``): the plain verb is the lemma.
REFLEXIVE = {"es": ("arse", "erse", "irse"), "it": ("arsi", "ersi", "irsi")}
VOWELS = frozenset("aeiouyàáâãäåèéêëìíîïòóôõöùúûüœæ")


def build(language: str) -> dict[str, Any]:
    """The placement items of ``language``, as ``data/<language>.json`` holds them."""
    bands = real_words(language)
    real = {word.lower() for band in bands for word, _rank in band}
    nouns = sum(word[:1].isupper() for band in bands for word, _rank in band)
    capital_share = nouns / sum(len(band) for band in bands)
    return {
        "language": language,
        "made_by": f"python manage.py placement_items --language {language}",
        "band_width": BAND_WIDTH,
        "bands": [[{"word": word, "rank": rank} for word, rank in band] for band in bands],
        "pseudowords": pseudo_words(language, avoid=real, capital_share=capital_share),
    }


def real_words(language: str) -> list[list[tuple[str, int]]]:
    """``POOL_PER_BAND`` (word, rank) of each band, by rank."""
    from langlearn import levels
    from langlearn.difficulty.vocabulary import rank

    families = levels._lemma_frequencies(language)
    by_band: dict[int, list[tuple[str, int]]] = defaultdict(list)
    limit = BANDS * BAND_WIDTH
    for lemma in sorted(families, key=lambda lemma: (-families[lemma], lemma))[: limit + 2000]:
        lemma_rank = rank(lemma, language)
        if lemma_rank > limit:
            continue
        word = candidate(lemma, language)
        if word is not None:
            by_band[(lemma_rank - 1) // BAND_WIDTH].append((word, lemma_rank))
    bands = []
    for band in range(BANDS):
        candidates = sorted(by_band[band], key=lambda item: (item[1], item[0]))
        if len(candidates) < POOL_PER_BAND:
            raise ValueError(f"{language}: band {band + 1} has {len(candidates)} candidates")
        drawn = random.Random(f"placement:{language}:band:{band}").sample(candidates, POOL_PER_BAND)
        bands.append(sorted(drawn, key=lambda item: (item[1], item[0])))
    return bands


def candidate(lemma: str, language: str) -> str | None:
    """The word to show for ``lemma`` (German nouns capitalised), or None
    when it is not fit to ask (see the module docstring)."""
    from wordfreq import zipf_frequency

    from langlearn import levels

    if not lemma.isalpha() or len(lemma) < MIN_LETTERS:
        return None
    if lemma in levels._stop_words(language) or lemma in EXCLUDED[language]:
        return None
    if lemma.endswith(REFLEXIVE.get(language, ())):
        return None
    word = _dictionary_form(lemma, language)
    if word is None:
        return None
    own = zipf_frequency(lemma, language)
    if own < levels.zipf(lemma, language) - OWN_FORM_ZIPF:
        return None
    elsewhere = [zipf_frequency(lemma, other) for other in OTHER_LANGUAGES if other != language]
    if elsewhere[0] >= own - 1.0 or sum(zipf >= own - 1.5 for zipf in elsewhere) >= 2:
        return None
    return word


def _dictionary_form(lemma: str, language: str) -> str | None:
    import simplemma

    if language == "de":
        return _german_form(lemma)
    forms = [lemma, lemma.capitalize()] if language == "de" else [lemma]
    for form in forms:
        if (
            simplemma.is_known(form, lang=language)
            and simplemma.lemmatize(form, lang=language) == form
        ):
            return form
    return None


def _german_form(lemma: str) -> str | None:
    """German nouns are capitalised, and wordfreq lower-cases everything: the
    form HanTa (the German morphology the annotator uses) reads as a lemma of
    its own, not a name (``NE``) nor a participle."""
    own, tag = _hanta().analyze(lemma, taglevel=1)
    if own not in (lemma, lemma.capitalize()) or tag == "NE" or tag.startswith("VV(PP"):
        return None
    return str(own)


@cache
def _hanta() -> Any:
    from HanTa import HanoverTagger

    return HanoverTagger.HanoverTagger("morphmodel_ger.pgz")


def pseudo_words(language: str, *, avoid: set[str], capital_share: float) -> list[str]:
    """``PSEUDO_POOL`` pseudo-words of ``language``, sorted; the trigram model
    learns from the frequent lemmas that pass as items (no names, no English)."""
    from langlearn import levels

    families = levels._lemma_frequencies(language)
    source = [
        lemma
        for lemma in sorted(families, key=lambda lemma: (-families[lemma], lemma))[:4000]
        if len(lemma) >= 4 and candidate(lemma, language) is not None
    ]
    model = _trigrams(source)
    frequent = _frequent_forms(language)
    rng = random.Random(f"placement:{language}:pseudo")
    found: set[str] = set()
    for word in _emit(model, rng):
        if word in found or word in avoid or not _pronounceable(word):
            continue
        if _is_a_word(word, language, frequent):
            continue
        found.add(word)
        if len(found) == PSEUDO_POOL:
            break
    chosen = sorted(found)
    capitals = round(capital_share * len(chosen))
    if capitals:
        for index in random.Random(f"placement:{language}:capitals").sample(
            range(len(chosen)), capitals
        ):
            chosen[index] = chosen[index].capitalize()
    return sorted(chosen, key=str.lower)


START, END = "^", "$"


def _trigrams(words: list[str]) -> dict[str, Counter[str]]:
    model: dict[str, Counter[str]] = defaultdict(Counter)
    for word in words:
        padded = START * 2 + word + END
        for index in range(len(padded) - 2):
            model[padded[index : index + 2]][padded[index + 2]] += 1
    return model


def _emit(model: dict[str, Counter[str]], rng: random.Random) -> Iterator[str]:
    shortest, longest = PSEUDO_LETTERS
    for _attempt in range(200_000):
        word, context = "", START * 2
        while len(word) <= longest:
            following = model[context]
            letter = rng.choices(sorted(following), [following[k] for k in sorted(following)])[0]
            if letter == END:
                break
            word += letter
            context = context[1] + letter
        else:
            continue
        if shortest <= len(word) <= longest:
            yield word


def _pronounceable(word: str) -> bool:
    run = 0
    for letter in word:
        run = 0 if letter in VOWELS else run + 1
        if run > MAX_CONSONANTS:
            return False
    return sum(letter in VOWELS for letter in word) * 4 >= len(word)


def _frequent_forms(language: str) -> frozenset[str]:
    from wordfreq import get_frequency_dict

    floor = 10 ** (FREQUENT_FORM_ZIPF - 9)
    return frozenset(
        form
        for form, frequency in get_frequency_dict(language, "best").items()
        if frequency >= floor and form.isalpha()
    )


def _is_a_word(word: str, language: str, frequent: frozenset[str]) -> bool:
    import simplemma
    from wordfreq import zipf_frequency

    if zipf_frequency(word, language) > 0 or zipf_frequency(word, "en") > 0:
        return True
    for form in (word, word.capitalize()):
        if simplemma.is_known(form, lang=language):
            return True
        lemma = simplemma.lemmatize(form, lang=language)
        if lemma.lower() != word and simplemma.is_known(lemma, lang=language):
            return True  # read as a form of a real word
    return any(neighbour in frequent for neighbour in _one_edit(word))


def _one_edit(word: str) -> Iterator[str]:
    letters = sorted(set(word) | set("abcdefghijklmnopqrstuvwxyz"))
    for index in range(len(word) + 1):
        head, tail = word[:index], word[index:]
        if tail:
            yield head + tail[1:]
        if len(tail) > 1:
            yield head + tail[1] + tail[0] + tail[2:]
        for letter in letters:
            yield head + letter + tail
            if tail:
                yield head + letter + tail[1:]
