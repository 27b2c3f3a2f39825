"""The placement check: a short yes/no vocabulary test per target language
that estimates how many lemmas a learner knows and suggests a CEFR level.

``items`` holds the test (the shipped item pools, each learner's draw),
``scoring`` the estimate, ``build`` how the pools were made. The use case is
``vocabulary.services.placement_submit``, the reads in ``vocabulary.selectors``.
"""
