"""The lemma table (``lemmas.json``) and the measure of it on held-out sentences."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from .treebank import CONTENT, FUNCTION, UNSCORED, Sentence, head


def lemma_table(
    language: str, sentences: list[Sentence], preferred: list[Sentence]
) -> dict[str, Any]:
    """What the annotator cannot get from simplemma alone. Where a word is in
    ``preferred`` (the dev split: the treebank's current conventions), the
    other files' lemmas for it are not counted (an older release's ``melhor``
    -> ``bom``)."""
    import simplemma

    counts: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    whole: defaultdict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    as_word: Counter[str] = Counter()
    current = {(word.form.lower(), word.upos) for s in preferred for word in s.words}
    newer = {id(sentence) for sentence in preferred}
    for sentence in sentences:
        for word in sentence.words:
            key = (word.form.lower(), word.upos)
            if key not in current or id(sentence) in newer:
                counts[key][word.lemma] += 1
            as_word[word.form.lower()] += 1
        for first, last, surface in sentence.contractions:
            lexical = head(sentence.words[first : last + 1])
            # a learner looks up "del" or "della" as such, "dárselo" under "dar"
            form = surface.lower()
            entry = lexical.lemma if lexical.upos not in FUNCTION else form
            whole[form][(entry, lexical.upos)] += 1
    lemmas: dict[str, str] = {}
    for (form, upos), found in sorted(counts.items()):
        best = found.most_common(1)[0][0]
        if best != simplemma.lemmatize(form, lang=language) or upos == "PROPN":
            lemmas[f"{form}\t{upos}"] = best
    contractions: dict[str, list[str]] = {}
    for form, seen in sorted(whole.items()):
        # "nos" (em + os, or the pronoun): whole only where that is what it usually is
        if sum(seen.values()) > as_word[form]:
            (entry, upos), _ = seen.most_common(1)[0]
            contractions[form] = [entry, upos]
    return {"lemmas": lemmas, "contractions": contractions}


def held_out_lemmas(
    language: str, nlp: Any, data: dict[str, Any], held: list[Sentence]
) -> dict[str, float]:
    """The annotator's lemma accuracy on the held-out sentences (tagger and a
    table made without them), scored as ``python -m bench annotate`` does."""
    from spacy.tokens import Doc

    from outbound.spacy import lemmas

    table = lemmas.Table(lemmas=dict(data["lemmas"]), contractions={})
    scored = right = content = content_right = 0
    for sentence in held:
        doc = nlp(Doc(nlp.vocab, words=[w.form for w in sentence.words]))
        for index, (word, token) in enumerate(zip(sentence.words, doc, strict=True)):
            if word.upos in UNSCORED:
                continue
            found = lemmas.lemma(
                word.form,
                language=language,
                pos=token.pos_,
                sentence_start=index == 0 and word.form.isalpha(),
                table=table,
            )
            correct = found.casefold() == word.lemma.casefold()
            scored += 1
            right += correct
            if word.upos in CONTENT:
                content += 1
                content_right += correct
    return {"all": round(right / scored, 4), "content": round(content_right / content, 4)}
