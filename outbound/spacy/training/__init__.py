"""Training of the annotator's models: ``python -m outbound.spacy.training
LANG --train FILE ... --dev FILE`` writes ``outbound/spacy/models/LANG/``
(or ``--out``) from Universal Dependencies train/dev splits.

A model is two things the annotator (``outbound/spacy/client.py``) loads together:

- a small spaCy pipeline, a CNN over hashed word features and a
  ``morphologizer`` that predicts the Universal POS tag of each word and, of
  verbs and auxiliaries only, the features Mood, Tense, VerbForm and Voice (no
  others: a small label set; ``tagger.py``, ``treebank.verb_features``);
- ``lemmas.json``: the treebanks' lemma per (lower-cased word, POS) where it is
  not what ``simplemma`` gives, and the contractions (``del``, ``du``,
  ``della``, ``do``, ``im``) with the lemma and POS a learner should see when
  the tokeniser leaves them whole (``table.py``).

The tagger and the table learn from every ``--train`` file and the ``--dev``
file except its last sentences (``--hold-out``), on which the tagger is checked
after each epoch (the best epoch is kept) and the whole is measured at the end;
the suite's slices (``bench/data/ud/``) come from those held-out sentences.
Deterministic for a given ``--seed`` and input (on one thread).

Nothing here runs in the web or worker processes; it needs no Django.
"""
