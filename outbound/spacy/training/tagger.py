"""The tagger: a spaCy ``morphologizer`` over a small CNN that predicts each
word's POS and, for verbs and auxiliaries, their mood, tense, verb form and
voice (``treebank.verb_features``), trained with the best epoch on the held-out
sentences kept."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from .treebank import VERBAL, Sentence, Word, feature_accuracy, merged

# How often a sentence holding a contraction is shown with it merged into one
# word (the tokeniser does not split them) instead of as its parts.
MERGED_SHARE = 0.3


def blank(language: str, *, width: int, depth: int, rows: int) -> Any:
    """An untrained pipeline: the language's tokeniser and a morphologizer."""
    import spacy

    nlp = spacy.blank(language)
    nlp.add_pipe(
        "morphologizer",
        config={
            "model": {
                "@architectures": "spacy.Tagger.v2",
                "nO": None,
                "normalize": False,
                "tok2vec": {
                    "@architectures": "spacy.HashEmbedCNN.v2",
                    "pretrained_vectors": None,
                    "width": width,
                    "depth": depth,
                    "embed_size": rows,
                    "window_size": 1,
                    "maxout_pieces": 3,
                    "subword_features": True,
                },
            }
        },
    )
    return nlp


def train(
    nlp: Any,
    sentences: list[Sentence],
    held: list[Sentence],
    *,
    epochs: int,
    patience: int,
    rng: random.Random,
    log: Callable[[str], None],
) -> tuple[dict[str, float], int]:
    """Train ``nlp`` on ``sentences``, checking it on ``held`` after each epoch;
    stop after ``patience`` epochs without progress. ``nlp`` is left with the
    best epoch's weights, the one with the best sum of held-out POS and
    morphology accuracy (spaCy's ``pos_acc`` and ``morph_acc``); returns those
    two (``pos``, ``morph``) and the epochs run."""
    from spacy.tokens import Doc
    from spacy.training import Example
    from spacy.util import compounding, minibatch

    def example(words: list[Word]) -> Example:
        forms = [w.form for w in words]
        gold = Doc(
            nlp.vocab, words=forms, pos=[w.upos for w in words], morphs=[w.feats for w in words]
        )
        return Example(Doc(nlp.vocab, words=forms), gold)

    plain = [example(s.words) for s in sentences]
    whole = {}
    for index, sentence in enumerate(sentences):
        words = merged(sentence)
        if words:
            whole[index] = example(words)
    checks = [example(s.words) for s in held]
    # every label (POS and features) the examples hold, not only the first ones'
    optimizer = nlp.initialize(lambda: [*plain, *whole.values()])
    best: dict[str, float] = {}
    best_bytes, since_best, ran = b"", 0, 0
    for epoch in range(1, epochs + 1):
        tick = time.perf_counter()
        order = list(range(len(plain)))
        rng.shuffle(order)
        shown = [
            whole[i] if i in whole and rng.random() < MERGED_SHARE else plain[i] for i in order
        ]
        losses: dict[str, float] = {}
        for batch in minibatch(shown, size=compounding(8.0, 64.0, 1.001)):
            nlp.update(batch, sgd=optimizer, drop=0.2, losses=losses)
        with nlp.use_params(optimizer.averages):
            scores = nlp.evaluate(checks)
        now = {"pos": scores["pos_acc"], "morph": scores["morph_acc"]}
        ran = epoch
        log(
            f"epoch {epoch}: loss {losses.get('morphologizer', 0):.0f}, "
            f"held-out POS {now['pos']:.4f}, morphology {now['morph']:.4f} "
            f"({time.perf_counter() - tick:.0f} s)"
        )
        if not best or sum(now.values()) > sum(best.values()):
            best, since_best = now, 0
            with nlp.use_params(optimizer.averages):
                best_bytes = nlp.to_bytes()
        else:
            since_best += 1
            if since_best >= patience:
                break
    nlp.from_bytes(best_bytes)
    return best, ran


def held_out_features(nlp: Any, held: list[Sentence]) -> dict[str, float | None]:
    """The tagger's verb features on the held-out sentences' verbs and
    auxiliaries, scored as ``python -m bench annotate`` does."""
    from spacy.tokens import Doc

    pairs = []
    for sentence in held:
        doc = nlp(Doc(nlp.vocab, words=[w.form for w in sentence.words]))
        for word, token in zip(sentence.words, doc, strict=True):
            if word.upos in VERBAL:
                pairs.append((word.feats, str(token.morph)))
    return feature_accuracy(pairs)
