"""The POS tagger: a spaCy ``morphologizer`` over a small CNN, trained with the
best epoch on the held-out sentences kept."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from .treebank import Sentence, merged

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
) -> tuple[float, int]:
    """Train ``nlp`` on ``sentences``, checking it on ``held`` after each epoch;
    stop after ``patience`` epochs without progress. ``nlp`` is left with the
    best epoch's weights; returns its held-out POS accuracy and the epochs run."""
    from spacy.tokens import Doc
    from spacy.training import Example
    from spacy.util import compounding, minibatch

    def example(words: list[str], tags: list[str]) -> Example:
        return Example(Doc(nlp.vocab, words=words), Doc(nlp.vocab, words=words, pos=tags))

    plain = [example([w.form for w in s.words], [w.upos for w in s.words]) for s in sentences]
    whole = {}
    for index, sentence in enumerate(sentences):
        found = merged(sentence)
        if found:
            whole[index] = example(*found)
    checks = [example([w.form for w in s.words], [w.upos for w in s.words]) for s in held]
    optimizer = nlp.initialize(lambda: plain[:2000])
    best, best_bytes, since_best, ran = -1.0, b"", 0, 0
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
            accuracy = nlp.evaluate(checks)["pos_acc"]
        ran = epoch
        log(
            f"epoch {epoch}: loss {losses.get('morphologizer', 0):.0f}, "
            f"held-out POS {accuracy:.4f} ({time.perf_counter() - tick:.0f} s)"
        )
        if accuracy > best:
            best, since_best = accuracy, 0
            with nlp.use_params(optimizer.averages):
                best_bytes = nlp.to_bytes()
        else:
            since_best += 1
            if since_best >= patience:
                break
    nlp.from_bytes(best_bytes)
    return best, ran
