"""What learners do with their words: save, change status, delete, mark a page known.

Each use case is one transaction. Saving is idempotent: the unique constraint
(user, language, lower(lemma)) decides, so two concurrent saves of one word
leave one row and both callers get it.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from adventures.models import Entry, Sentence, Token
from langlearn import languages
from langlearn.errors import ConflictError, InvalidInput, NotFound

from . import scheduling, selectors
from .models import Card, Placement, Review, Word
from .placement import items as placement_items
from .placement import scoring as placement_scoring
from .rules import is_word

if TYPE_CHECKING:
    from accounts.models import User


class Saved(NamedTuple):
    word: Word
    created: bool  # False: the learner already had this word (it is left as it was)


def _check_lemma(lemma: str) -> str:
    lemma = lemma.strip()
    if not is_word(lemma=lemma):
        raise InvalidInput({"lemma": ["A lemma is a word: it needs at least one letter."]})
    return lemma


@transaction.atomic
def word_save(
    *,
    user: User,
    language: str,
    lemma: str,
    sentence: str = "",
    translation: str = "",
    entry: Entry | None = None,
) -> Saved:
    """Save ``lemma`` as a word the learner is ``learning``.

    A word the learner already has (in any case, in any status) is returned
    unchanged, except that where it was met is filled in if it was unknown.
    """
    if problem := languages.target_language_problem(language):
        raise InvalidInput({"language": [problem]})
    lemma = _check_lemma(lemma)
    existing = selectors.words_matching(user=user, language=language, lemma=lemma).first()
    if existing is None:
        try:
            with transaction.atomic():
                word = Word.objects.create(
                    user=user,
                    language=language,
                    lemma=lemma,
                    sentence=sentence,
                    translation=translation,
                    entry=entry,
                )
                Card.objects.create(word=word, due=timezone.now())
            return Saved(word, created=True)
        except IntegrityError:  # saved by a concurrent request a moment ago
            existing = selectors.words_matching(user=user, language=language, lemma=lemma).get()
    if not existing.sentence and sentence:
        existing.sentence, existing.translation, existing.entry = sentence, translation, entry
        existing.save(update_fields=["sentence", "translation", "entry", "updated_at"])
    return Saved(existing, created=False)


@transaction.atomic
def word_save_from_token(*, user: User, token_id: int) -> Saved:
    """Save the lemma of a token of one of the learner's entries, with the
    sentence it is in and that sentence's translation."""
    try:
        token = Token.objects.select_related("entry__adventure").get(
            id=token_id, entry__adventure__user=user, entry__position__isnull=False
        )
    except Token.DoesNotExist:
        raise NotFound("Token not found.") from None
    if not is_word(lemma=token.lemma, pos=token.pos):
        raise InvalidInput(
            {"token_id": ["This token is not a word (punctuation, a number or a symbol)."]}
        )
    sentence = Sentence.objects.filter(entry=token.entry, index=token.sentence).first()
    return word_save(
        user=user,
        language=token.entry.adventure.target_language,
        lemma=token.lemma,
        sentence=sentence.text if sentence else "",
        translation=sentence.translation if sentence else "",
        entry=token.entry,
    )


@transaction.atomic
def word_set_status(*, user: User, word_id: UUID, status: str) -> Word:
    word = selectors.word_get(user=user, word_id=word_id)
    if word.status != status:
        word.status = status
        word.save(update_fields=["status", "updated_at"])
        if status == Word.Status.LEARNING:
            # A card it had (learnt before, then known) resumes its schedule.
            Card.objects.get_or_create(word=word, defaults={"due": timezone.now()})
    return word


@transaction.atomic
def word_delete(*, user: User, word_id: UUID) -> None:
    """The lemma becomes ``new`` again for the learner."""
    selectors.word_get(user=user, word_id=word_id).delete()


class PageKnown(NamedTuple):
    words: int  # distinct words (lemmas) in the passage
    marked_known: int  # of them, new until now and known from now on
    already_saved: int  # the learner had them already (learning, known or ignored): unchanged


@transaction.atomic
def entry_mark_known(*, user: User, adventure_id: UUID, entry_id: UUID) -> PageKnown:
    """LingQ's "page to known": every word of the passage the learner has no
    word for yet becomes ``known``; words already saved (``learning``,
    ``ignored``, ``known``) are left as they are. Idempotent: a second call
    marks nothing. Three queries whatever the passage's length."""
    try:
        entry = Entry.objects.select_related("adventure").get(
            id=entry_id, adventure_id=adventure_id, adventure__user=user, position__isnull=False
        )
    except Entry.DoesNotExist:
        raise NotFound("Entry not found.") from None
    if entry.status != Entry.Status.COMPLETE:
        raise ConflictError(
            f"This entry is {entry.status}; its words can be marked once it is complete.",
            code="entry_not_complete",
        )
    language = entry.adventure.target_language
    lemmas: dict[str, str] = {}  # lower(lemma) -> the lemma as the first token has it
    tokens = (
        Token.objects.filter(entry=entry)
        .annotate(key=Lower("lemma"))
        .order_by("index")
        .values_list("key", "lemma", "pos")
    )
    for key, lemma, pos in tokens:
        if is_word(lemma=lemma, pos=pos):
            lemmas.setdefault(key, lemma)
    saved = set(
        Word.objects.filter(user=user, language=language)
        .annotate(key=Lower("lemma"))
        .filter(key__in=list(lemmas))
        .values_list("key", flat=True)
    )
    new = [
        Word(user=user, language=language, lemma=lemma, status=Word.Status.KNOWN, entry=entry)
        for key, lemma in lemmas.items()
        if key not in saved
    ]
    # A word saved concurrently since the read above wins (ON CONFLICT DO NOTHING).
    Word.objects.bulk_create(new, ignore_conflicts=True)
    return PageKnown(words=len(lemmas), marked_known=len(new), already_saved=len(saved))


class Reviewed(NamedTuple):
    review: Review
    created: bool  # False: this review_id was sent before; its first result, nothing applied


def review_submit(*, user: User, word_id: UUID, rating: str, review_id: UUID) -> Reviewed:
    """Rate a word being learnt: FSRS schedules its card's next review, and the
    review is logged.

    Idempotent on ``review_id``: a review the learner sent before is answered
    with its first result and not applied again. The card's row is locked for
    the review, so two concurrent sends of one review apply it once (the
    unique constraint (user, review_id) settles the rest).
    """
    try:
        return _review_apply(user=user, word_id=word_id, rating=rating, review_id=review_id)
    except IntegrityError:  # the same review_id, sent concurrently for another word
        earlier = Review.objects.filter(user=user, review_id=review_id).first()
        if earlier is None:  # a card without a row yet, created concurrently: once more
            return _review_apply(user=user, word_id=word_id, rating=rating, review_id=review_id)
        return _earlier(earlier, word_id=word_id, rating=rating)


@transaction.atomic
def _review_apply(*, user: User, word_id: UUID, rating: str, review_id: UUID) -> Reviewed:
    earlier = Review.objects.filter(user=user, review_id=review_id).first()
    if earlier is not None:
        return _earlier(earlier, word_id=word_id, rating=rating)
    word = selectors.word_get(user=user, word_id=word_id)
    if word.status != Word.Status.LEARNING:
        raise ConflictError(
            f"This word is {word.status}; only words you are learning are reviewed.",
            code="word_not_learning",
        )
    card, _ = Card.objects.select_for_update().get_or_create(
        word=word, defaults={"due": timezone.now()}
    )
    earlier = Review.objects.filter(user=user, review_id=review_id).first()
    if earlier is not None:  # applied by a concurrent send while we waited for the lock
        return _earlier(earlier, word_id=word_id, rating=rating)
    before = scheduling.to_fsrs(card)
    reviewed_at = timezone.now()
    after, log = scheduling.scheduler().review_card(
        before, scheduling.RATINGS[rating], review_datetime=reviewed_at
    )
    card.save(update_fields=scheduling.apply(card, after))
    review = Review.objects.create(
        user=user,
        word=word,
        card=card,
        review_id=review_id,
        rating=int(log.rating),
        reviewed_at=log.review_datetime,
        card_before=before.to_dict(),
        card_after=after.to_dict(),
        due=after.due,
    )
    return Reviewed(review, created=True)


def _earlier(review: Review, *, word_id: UUID, rating: str) -> Reviewed:
    if review.word_id != word_id or review.rating != int(scheduling.RATINGS[rating]):
        raise ConflictError(
            "This review_id was used for another review (another word or rating); "
            "a new review needs a new review_id.",
            code="review_id_reused",
        )
    return Reviewed(review, created=False)


# --- Placement ----------------------------------------------------------------------


class PlacementTest(NamedTuple):
    language: str
    items: list[placement_items.Item]
    result: Placement | None  # the learner's current result, if any


class Placed(NamedTuple):
    placement: Placement
    created: bool  # False: these were the stored answers already (nothing changed)


def placement_test(*, user: User, language: str) -> PlacementTest:
    """The learner's test in ``language`` (the same items, in the same order,
    every time) and their current result."""
    if problem := languages.target_language_problem(language):
        raise InvalidInput({"language": [problem]})
    return PlacementTest(
        language=language,
        items=placement_items.learner_items(user.pk, language),
        result=selectors.placement_get(user=user, language=language),
    )


def check_placement_answers(
    items: list[placement_items.Item], answers: list[tuple[str, bool]]
) -> dict[str, bool]:
    """``{item id: known}``, or a 400 naming what is wrong: an id answered
    twice, an id not in the learner's test, an item left out (every item must
    be answered: the estimate needs each band's hit rate and the false-alarm
    rate over all the pseudo-words, and a skipped item is neither a yes nor a
    no)."""
    counts = Counter(item_id for item_id, _known in answers)
    problems = []
    if twice := sorted(item_id for item_id, count in counts.items() if count > 1):
        problems.append(f"Answered more than once: {_ids(twice)}.")
    asked = {item.id for item in items}
    if unknown := sorted(set(counts) - asked):
        problems.append(
            f"Not items of your test: {_ids(unknown)} (GET /api/placement for your items)."
        )
    if missing := [item.id for item in items if item.id not in counts]:
        problems.append(
            f"Every item must be answered; {len(missing)} of {len(items)} are missing: "
            f"{_ids(missing)}."
        )
    if problems:
        raise InvalidInput({"answers": problems})
    return dict(answers)


def _ids(ids: list[str], shown: int = 5) -> str:
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


@transaction.atomic
def placement_submit(*, user: User, language: str, answers: list[tuple[str, bool]]) -> Placed:
    """Score the learner's answers and store the result as their placement in
    ``language``, replacing the one they had.

    Idempotent: the same answers again leave the stored result as it was
    (same row, same ``answered_at``) and return it with ``created`` False.
    The learner's row is locked while it is compared and written, so two
    submissions at once end with one row (the unique constraint backs it)."""
    test = placement_test(user=user, language=language)
    known = check_placement_answers(test.items, answers)
    asked = [
        {"id": item.id, "word": item.word, "band": item.band, "known": known[item.id]}
        for item in test.items
    ]
    # Serialises this learner's submissions (the placement row may not exist yet).
    list(type(user).objects.select_for_update().filter(pk=user.pk).values_list("pk"))
    current = Placement.objects.filter(user=user, language=language).first()
    if current is not None and current.answers == asked:
        return Placed(current, created=False)
    score = placement_scoring.score(
        test.items, known, band_width=placement_items.pool(language).band_width
    )
    placement, _ = Placement.objects.update_or_create(
        user=user,
        language=language,
        defaults={
            "vocabulary_size": score.vocabulary_size,
            "level": score.level,
            "hits": score.hits,
            "real_words": score.real_words,
            "false_alarms": score.false_alarms,
            "pseudo_words": score.pseudo_words,
            "bands": score.bands,
            "answers": asked,
            "answered_at": timezone.now(),
        },
    )
    return Placed(placement, created=True)
