"""The verb forms a passage uses, and the CEFR level at which each is taught.

Each language has a table of constructions (``TABLES``), read from the grammar
inventories of the institutes that publish one per level:

- es: Instituto Cervantes (2006), *Plan curricular del Instituto Cervantes.
  Niveles de referencia para el español*, "Gramática";
- fr: Beacco et al. (2004-2011), *Niveau A1/A2/B1/B2 pour le français. Un
  référentiel* (Didier / Conseil de l'Europe);
- de: Glaboniat, Müller, Rusch, Schmitz & Wertenschlag (2005), *Profile
  deutsch* (Langenscheidt), and the Goethe-Institut's specifications of the
  Goethe-Zertifikat A1-B1;
- it: Spinelli & Parizzi (2010), *Profilo della lingua italiana* (La Nuova
  Italia);
- pt: Camões, I.P. (2017), *Referencial Camões PLE*, and the QuaREPE (2011).

A construction's level is where the inventory places its first productive
use (where they disagree, or a form is taught as a fixed phrase first, as
"je voudrais", "möchte", "vorrei", the later level for the form in general
and the earlier one for those verbs). The forms are recognised from the
annotator's morphology (Universal Dependencies features: ``Mood``, ``Tense``,
``VerbForm``), the lemma, and the auxiliary before a participle (compound
tenses, the passive); German's Konjunktiv II is also known by its forms.
A verb that matches nothing is the present indicative, A1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from langlearn import levels

VERB_POS = frozenset({"VERB", "AUX"})
# How far back (in words) the auxiliary of a compound form may stand: German
# puts the participle or infinitive at the end of the clause.
AUXILIARY_REACH = {"de": 12}
AUXILIARY_REACH_DEFAULT = 4


@dataclass(frozen=True)
class Construction:
    name: str
    level: int  # 1 (A1) .. 6 (C2)
    features: frozenset[str] = frozenset()  # UD features the verb must all have
    lemmas: frozenset[str] = frozenset()  # only these verbs (empty: any)
    forms: frozenset[str] = frozenset()  # or any of these word forms, lower-cased
    endings: tuple[str, ...] = ()  # or a verb whose form ends so
    auxiliary: frozenset[str] = frozenset()  # a participle after one of these verbs
    auxiliary_features: frozenset[str] = frozenset()  # ... that has these features

    def matches(self, word: levels.Word, features: frozenset[str], aux: Auxiliary | None) -> bool:
        if self.forms and word.text.lower() in self.forms:
            return True
        if self.endings and word.pos in VERB_POS and word.text.lower().endswith(self.endings):
            return True
        if self.lemmas and word.lemma.lower() not in self.lemmas:
            return False
        if self.auxiliary:
            if aux is None or aux.lemma not in self.auxiliary:
                return False
            if not self.auxiliary_features <= aux.features:
                return False
        return bool(self.features or self.auxiliary) and self.features <= features


@dataclass(frozen=True)
class Auxiliary:
    lemma: str
    features: frozenset[str]


def _c(name: str, level: int, features: str = "", **kw: str) -> Construction:
    split = lambda text: frozenset(text.split()) if text else frozenset()  # noqa: E731
    return Construction(
        name,
        level,
        features=split(features),
        lemmas=split(kw.get("lemmas", "")),
        forms=split(kw.get("forms", "")),
        auxiliary=split(kw.get("auxiliary", "")),
        auxiliary_features=split(kw.get("auxiliary_features", "")),
        endings=tuple(split(kw.get("endings", ""))),
    )


PART = "VerbForm=Part"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# German's subjunctive is read from its forms alone: the tagger gives
# ``Mood=Sub`` to forms that are as often indicative ("ich habe", "ich werde",
# "wir wollten": in the graded German we measure, "habe" more often than any
# real Konjunktiv), so a verb keeps its ``Mood=Sub`` only in a form that is
# nothing but subjunctive (``_mood``).
GERMAN_KONJUNKTIV_II = _words(
    "würde würdest würden würdet hätte hättest hätten hättet wäre wärst wären wärt "
    "könnte könntest könnten könntet müsste müsstest müssten müsstet dürfte dürftest "
    "dürften dürftet käme kämest kämen gäbe gäben ginge gingen wüsste wüssten bräuchte "
    "bräuchten bliebe blieben läge lägen stünde stünden fände fänden hieße ließe täte"
)
GERMAN_KONJUNKTIV_I = _words("sei seiest seien seiet könne müsse solle wolle dürfe möge wisse")
SUBJUNCTIVE_ONLY = {
    "de": GERMAN_KONJUNKTIV_II | GERMAN_KONJUNKTIV_I | _words("möchte möchtest möchten möchtet")
}
# Most specific first: a verb takes the level of the first construction it
# matches in its language's table.
TABLES: dict[str, tuple[Construction, ...]] = {
    "es": (
        _c("pluperfect subjunctive", 4, PART, auxiliary="haber", auxiliary_features="Mood=Sub"),
        _c("conditional perfect", 4, PART, auxiliary="haber", auxiliary_features="Mood=Cnd"),
        _c("future perfect", 4, PART, auxiliary="haber", auxiliary_features="Tense=Fut"),
        _c("pluperfect", 3, PART, auxiliary="haber", auxiliary_features="Tense=Imp"),
        _c("present perfect", 2, PART, auxiliary="haber"),
        _c(
            "imperfect subjunctive",
            4,
            "Mood=Sub Tense=Imp",
            endings="ara aras áramos aran iera ieras iéramos ieran ase ases ásemos asen iese "
            "ieses iésemos iesen",
        ),
        _c(
            "present subjunctive",
            3,
            "Mood=Sub",
            # The tagger seldom sees it (Mood=Sub recall 0.23 on GSD): the forms
            # of the most frequent verbs that are nothing but subjunctive.
            forms="sea seas seamos sean esté estés estemos estén haya hayas hayamos hayan "
            "vaya vayas vayamos vayan tenga tengas tengamos tengan venga vengas vengamos "
            "vengan haga hagas hagamos hagan pueda puedas podamos puedan quiera quieras "
            "queramos quieran diga digas digamos digan sepa sepas sepamos sepan ponga "
            "pongas pongamos pongan salga salgas salgamos salgan veas veamos vean",
        ),
        _c("conditional of courtesy", 2, "Mood=Cnd", lemmas="gustar querer poder deber"),
        _c("conditional", 3, "Mood=Cnd"),
        _c("future", 2, "Mood=Ind Tense=Fut"),
        _c("preterite", 2, "Mood=Ind Tense=Past"),
        _c("imperfect", 2, "Mood=Ind Tense=Imp"),
        _c("imperative", 2, "Mood=Imp"),
        _c("gerund", 2, "VerbForm=Ger"),
    ),
    "fr": (
        _c("pluperfect", 3, PART, auxiliary="avoir être", auxiliary_features="Tense=Imp"),
        _c("past conditional", 4, PART, auxiliary="avoir être", auxiliary_features="Mood=Cnd"),
        _c("passé composé", 2, PART, auxiliary="avoir être"),
        _c("imperfect subjunctive", 5, "Mood=Sub Tense=Imp"),
        _c(
            "subjunctive",
            3,
            "Mood=Sub",
            # The forms of the most frequent verbs that are nothing but subjunctive.
            forms="sois soit soyons soyez soient aie aies ait ayons ayez aient aille ailles "
            "aillent fasse fasses fassions fassiez fassent puisse puisses puissions puissiez "
            "puissent sache saches sachions sachiez sachent veuille veuilles veuillent vienne "
            "viennes viennent voie voies prenne prennes prennent doive doives",
        ),
        _c("conditional of courtesy", 2, "Mood=Cnd", lemmas="vouloir aimer pouvoir"),
        _c("conditional", 3, "Mood=Cnd"),
        _c("passé simple", 4, "Mood=Ind Tense=Past VerbForm=Fin"),
        _c("future", 2, "Mood=Ind Tense=Fut"),
        _c("imperfect", 2, "Mood=Ind Tense=Imp"),
        _c("imperative", 2, "Mood=Imp"),
        _c("present participle", 3, "VerbForm=Part Tense=Pres"),
    ),
    "de": (
        _c("pluperfect", 3, PART, auxiliary="haben sein", auxiliary_features="Tense=Past"),
        _c("passive", 3, PART, auxiliary="werden"),
        _c("perfect", 2, PART, auxiliary="haben sein"),
        _c("möchte", 1, "Mood=Sub", lemmas="mögen", forms="möchte möchtest möchten möchtet"),
        _c("Konjunktiv II", 3, "Mood=Sub Tense=Past", forms=" ".join(GERMAN_KONJUNKTIV_II)),
        _c("Konjunktiv I", 4, "Mood=Sub"),
        _c("Konjunktiv II", 3, "VerbForm=Inf", auxiliary="werden", auxiliary_features="Mood=Sub"),
        _c("future", 3, "VerbForm=Inf", auxiliary="werden"),
        _c(
            "simple past of sein, haben and the modals",
            2,
            "Mood=Ind Tense=Past",
            lemmas="sein haben können müssen wollen dürfen sollen mögen",
        ),
        _c("simple past", 3, "Mood=Ind Tense=Past"),
        _c("imperative", 2, "Mood=Imp"),
        _c("present participle", 4, "VerbForm=Part Tense=Pres"),
    ),
    "it": (
        _c("pluperfect", 3, PART, auxiliary="avere essere", auxiliary_features="Tense=Imp"),
        _c("past conditional", 4, PART, auxiliary="avere essere", auxiliary_features="Mood=Cnd"),
        _c("passato prossimo", 2, PART, auxiliary="avere essere"),
        _c("passive", 4, PART, auxiliary="venire"),
        _c("imperfect subjunctive", 4, "Mood=Sub Tense=Imp"),
        _c("subjunctive", 3, "Mood=Sub"),
        _c("conditional of courtesy", 2, "Mood=Cnd", lemmas="volere potere piacere"),
        _c("conditional", 3, "Mood=Cnd"),
        _c("passato remoto", 4, "Mood=Ind Tense=Past VerbForm=Fin"),
        _c("future", 2, "Mood=Ind Tense=Fut"),
        _c("imperfect", 2, "Mood=Ind Tense=Imp"),
        _c("imperative", 2, "Mood=Imp"),
        _c("gerund", 2, "VerbForm=Ger"),
    ),
    "pt": (
        _c("pluperfect", 3, PART, auxiliary="ter haver", auxiliary_features="Tense=Imp"),
        _c("compound perfect", 3, PART, auxiliary="ter haver"),
        _c("future subjunctive", 4, "Mood=Sub Tense=Fut"),
        _c("imperfect subjunctive", 4, "Mood=Sub Tense=Imp"),
        _c("present subjunctive", 3, "Mood=Sub"),
        _c("conditional of courtesy", 2, "Mood=Cnd", lemmas="gostar querer poder"),
        _c("conditional", 3, "Mood=Cnd"),
        _c("simple pluperfect", 5, "Tense=Pqp"),
        _c("future", 3, "Mood=Ind Tense=Fut"),
        _c("preterite", 2, "Mood=Ind Tense=Past"),
        _c("imperfect", 2, "Mood=Ind Tense=Imp"),
        _c("imperative", 2, "Mood=Imp"),
        _c("gerund", 2, "VerbForm=Ger"),
    ),
}


@dataclass(frozen=True)
class Use:
    """A verb of the passage and the construction it is (None: the present)."""

    word: str
    construction: Construction | None

    @property
    def level(self) -> int:
        return self.construction.level if self.construction else 1


def features(morph: str) -> frozenset[str]:
    return frozenset(part for part in morph.split("|") if "=" in part)


def verb_uses(words: list[levels.Word], language: str) -> list[Use]:
    """Each verb of the passage, with the construction it is. An auxiliary
    counts through the participle or infinitive it builds (``había visto``:
    one pluperfect), a verb on its own as itself (``era``: an imperfect). A
    word the tagger missed as a verb counts when its form is in the table."""
    table = TABLES.get(language, ())
    forms = _forms(language)
    reach = AUXILIARY_REACH.get(language, AUXILIARY_REACH_DEFAULT)
    uses: list[Use] = []
    aux: tuple[int, Auxiliary] | None = None
    for index, word in enumerate(words):
        if word.pos not in VERB_POS and word.text.lower() not in forms:
            continue
        if aux is not None and (words[aux[0]].sentence != word.sentence or index - aux[0] > reach):
            aux = None
        feats = _mood(features(word.morph), word.text.lower(), language)
        if word.pos == "AUX" and _builds(words, index, reach):
            aux = (index, Auxiliary(word.lemma.lower(), feats))
            continue
        found = next((c for c in table if c.matches(word, feats, aux and aux[1])), None)
        uses.append(Use(word.text, found))
        aux = None
    return uses


def _mood(feats: frozenset[str], form: str, language: str) -> frozenset[str]:
    """The verb's features, its ``Mood=Sub`` dropped in a language whose
    subjunctive is read from its forms alone when the form is not one of them."""
    only = SUBJUNCTIVE_ONLY.get(language)
    if only is None or "Mood=Sub" not in feats or form in only:
        return feats
    return (feats - {"Mood=Sub"}) | {"Mood=Ind"}


def warm(language: str) -> None:
    _forms(language)


@cache
def _forms(language: str) -> frozenset[str]:
    return frozenset(form for c in TABLES.get(language, ()) for form in c.forms)


def _builds(words: list[levels.Word], index: int, reach: int) -> bool:
    """Whether the next verb after the auxiliary at ``index``, in its clause
    and within reach, is a full verb (the participle or infinitive it builds)."""
    sentence = words[index].sentence
    for word in words[index + 1 : index + 1 + reach]:
        if word.sentence != sentence or word.text in CLAUSE_ENDS:
            return False
        if word.pos in VERB_POS:
            return word.pos == "VERB"
    return False


CLAUSE_ENDS = frozenset({",", ";", ":", "\u2014", "\u2013"})  # and em and en dashes


# Relative pronouns, a relative clause's mark where it follows a comma (the
# tagger gives them as PRON or DET; no parser tells a relative "que" from the
# conjunction elsewhere).
RELATIVES = {
    "es": frozenset(
        {"que", "quien", "quienes", "cual", "cuales", "cuyo", "cuya", "cuyos", "cuyas", "donde"}
    ),
    "fr": frozenset(
        {"qui", "que", "qu'", "dont", "où", "lequel", "laquelle", "lesquels", "lesquelles"}
    ),
    "de": frozenset(
        {
            "der",
            "die",
            "das",
            "dem",
            "den",
            "deren",
            "dessen",
            "denen",
            "welcher",
            "welche",
            "welches",
            "welchem",
            "welchen",
            "wo",
        }
    ),
    "it": frozenset({"che", "cui", "quale", "quali", "dove"}),
    "pt": frozenset({"que", "quem", "qual", "quais", "cujo", "cuja", "cujos", "cujas", "onde"}),
}


def subordinate_clauses(words: list[levels.Word], language: str) -> int:
    """Subordinate clauses: subordinating conjunctions (``SCONJ``), and
    relative pronouns right after a comma (``, que``; ``, der``)."""
    relatives = RELATIVES.get(language, frozenset())
    return sum(
        1
        for index, word in enumerate(words)
        if word.pos == "SCONJ"
        or (
            index > 0
            and words[index - 1].text == ","
            and word.pos in {"PRON", "DET", "ADV"}
            and word.text.lower() in relatives
        )
    )
