"""The stub providers produce output a learner could use."""

from __future__ import annotations

import io
import wave

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured

from langlearn import languages
from langlearn.provider_settings import Fault, parse_faults, parse_latencies
from outbound.anthropic.stub import StubDigestWriter, StubGenerator
from outbound.deepl.stub import StubTranslator
from outbound.errors import ProviderError
from outbound.gemini.stub import StubVoice
from outbound.roles import DigestRequest, DigestSourceItem, GenerationRequest, digest_problem
from outbound.stubs import corpus as stub_corpus

STEPS = ("generate", "translate", "annotate", "voice")


def generate(**fields):
    request = GenerationRequest(
        **{"target_language": "es", "level": "A2", "theme": "", "position": 1, "is_final": False}
        | fields
    )
    return async_to_sync(StubGenerator().generate)(request)


def test_the_first_passage_has_a_title_and_two_to_four_choices():
    passage = generate()
    assert passage.title == "El faro del acantilado"
    assert 2 <= len(passage.choices) <= 4
    assert passage.sentences[-1] == "¿Por qué te ha elegido a ti?"
    assert passage.output_tokens > 0


def test_a_later_passage_follows_from_the_choice_and_the_last_concludes():
    second = generate(position=2, chosen_index=0)
    assert second.sentences[0].startswith("Caminas por la playa")
    assert second.title is None
    last = generate(position=9, is_final=True, chosen_index=1)
    assert last.choices == []
    assert "farero" in last.text


def test_the_stub_generator_refuses_a_language_it_cannot_write():
    with pytest.raises(ProviderError) as caught:
        generate(target_language="ja")
    assert caught.value.transient is False


def test_every_corpus_row_is_complete_and_the_translator_uses_it():
    for row in stub_corpus.INDEX["en"].values():
        assert len(row) == len(stub_corpus.LANGUAGES)
        assert all(text.strip() for text in row)
    translate = async_to_sync(StubTranslator().translate)
    result = translate(
        ["Oyes pasos encima de ti.", "Leer la carta.", "Not in the corpus."],
        source_language="es",
        target_language="fr",
    )
    assert result.texts == [
        "Tu entends des pas au-dessus de toi.",
        "Lire la lettre.",
        "[fr] Not in the corpus.",
    ]
    assert result.billed_characters == sum(
        map(len, ["Oyes pasos encima de ti.", "Leer la carta.", "Not in the corpus."])
    )


def test_the_voice_is_a_valid_wav_whose_length_tracks_the_text():
    voice = async_to_sync(StubVoice().synthesize)
    short, long = voice("Hola.", language="es"), voice("Hola. " * 60, language="es")
    for speech in (short, long):
        with wave.open(io.BytesIO(speech.audio)) as wav:
            assert wav.getnchannels() == 1
            ms = wav.getnframes() * 1000 / wav.getframerate()
        assert ms == pytest.approx(speech.duration_ms, abs=1)
    assert long.duration_ms > 10 * short.duration_ms / 2


def test_latencies_parse_and_reject_nonsense():
    assert parse_latencies("generate=800, voice=900", STEPS) == {
        "generate": 800,
        "translate": 0,
        "annotate": 0,
        "voice": 900,
    }
    assert parse_latencies("", STEPS) == dict.fromkeys(STEPS, 0)
    for bad in ("generate", "speak=3", "voice=fast", "voice=-1"):
        with pytest.raises(ImproperlyConfigured, match="STUB_LATENCY_MS"):
            parse_latencies(bad, STEPS)


def test_stub_faults_take_a_count_or_a_share_of_calls():
    assert parse_faults("translate=2, voice=30%:permanent") == {
        "translate": Fault(transient=True, count=2),
        "voice": Fault(transient=False, probability=0.3),
    }
    for bad in ("translate=lots", "translate=130%", "voice=30%:sometimes", "sing=1"):
        with pytest.raises(ImproperlyConfigured, match="STUB_FAULTS"):
            parse_faults(bad)


@pytest.mark.parametrize("language", [lang.code for lang in languages.target_languages()])
def test_the_stub_digest_writer_writes_in_every_language_we_teach(language):
    request = DigestRequest(
        target_language=language,
        level="A2",
        date="2025-01-06",
        items=[DigestSourceItem(n, f"Titular {n}", "", "es") for n in range(1, 6)],
    )
    written = async_to_sync(StubDigestWriter().write_digest)(request)
    assert digest_problem(written.sentences, written.cited, items=5) is None
    assert written.cited == [1, 2, 3]
    assert "2025-01-06" in written.sentences[0]
    assert written.sentences[1].endswith("Titular 1.")
    assert written == async_to_sync(StubDigestWriter().write_digest)(request)  # deterministic
