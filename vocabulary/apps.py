from django.apps import AppConfig


class VocabularyConfig(AppConfig):
    name = "vocabulary"
    verbose_name = "Vocabulary"

    def ready(self) -> None:
        # The pipeline (adventures) asks for the learner's words to weave into
        # the next passage through this hook, without importing vocabulary.
        from adventures import weaving

        from . import selectors

        weaving.register_review_words(selectors.words_to_weave)
