"""A learner's data as a whole: leaving (the account and everything it owns
deleted, ``deletion``) and taking it with you (``export``).

It lives at the top of the layers because a learner's data spans every app
(accounts, adventures, vocabulary). Each function finds what the learner owns
the same way: every model with a foreign key to the user, directly or through
a model that has one (``owned_models``), so a model added later is covered or
named on purpose; the suite checks both lists against the models.
"""
