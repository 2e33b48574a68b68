"""Training data for the grammar tutor: natural English sentences with learner errors injected by rule.

A *pair* is ``(learner, correct, kinds)``: the text a learner types, the corrected text, and the kinds
of the errors injected (``("clean",)`` when there are none, and then ``learner == correct``). Both sides
are natural text: case kept, punctuation attached, apostrophes, numbers and names as written.

**The generator.** Sentences come from small hand-written *frames* -- clause templates with semantic
slots (a subject, a verb with the object or complement it takes, time expressions, places) -- filled
from a lexicon built from data: the most frequent English words (``wordfreq``), classed by part of
speech and inflected by ``lemminflect`` (third person ``-s``, past, participle, ``-ing``, plurals,
comparatives), filtered of names, abbreviations and non-alphabetic entries; ``a``/``an`` goes by sound.
A clause is present, past, present perfect, future, modal or continuous, affirmative, negative or a
question (yes/no, wh- with do-support, indirect); sentences join one to four clauses with *and*, *but*,
*because*, *when*, *if*, *so*, relative and *that*-clauses, so most have 10 to 25 words and some over 40.
Besides verbs with the complement they need (*wait for*, *listen to*), common verbs take any noun as
their object (*walk the dog*, *fix the printer*), and clauses carry everyday adjuncts that have no
article (*by bus*, *after work*, *go to school*) or a place made of any noun (*in a bank*), so that the
words around an error are as varied as a learner's and the model must copy them rather than predict
them. To make copying learnable, name slots get common first names and cities, names from data
(:func:`proper_names`) or names built from random syllables, number slots get numbers, prices, times
and years, and some noun and adjective slots get rare words; the correction keeps them exactly as
written.

**The errors** (ERRANT's categories; each is injected so that the correction is the original sentence):

- ``verb_sva`` -- subject-verb agreement: "She work here." -> "She works here."
- ``verb_tense`` -- tense: "I have seen him yesterday." -> "I saw him yesterday."
- ``verb_form`` -- form after a modal, *to* or *didn't*, after *have* or *be*, or a regularised past:
  "She can swims." -> "She can swim.", "He has went." -> "He has gone.", "I buyed it." -> "I bought it."
- ``do_support`` -- a question or negation without *do*, or *do* with an inflected verb:
  "Where she lives?" -> "Where does she live?"
- ``determiner`` -- an article missing, a/an swapped, or *the* added: "She is doctor." -> "She is a
  doctor.", "I drive to the work." -> "I drive to work."
- ``noun_number`` -- a noun after a number or quantifier, or after *a*, in the wrong number: "two cat" ->
  "two cats", "a books" -> "a book"
- ``uncountable`` -- an uncountable noun made plural: "some informations" -> "some information"
- ``preposition`` -- wrong, missing or extra: "We arrived to the station." -> "We arrived at the station."
- ``pronoun_case`` -- subject for object or object for subject: "Me and Tom went home." -> "Tom and I
  went home.", "Between you and I, ..." -> "Between you and me, ..."
- ``adjective_form`` -- comparison: "more better", "gooder", "the most tall"
- ``word_order`` -- adjective after its noun, adverb after the verb, direct order in an indirect question:
  "Can you tell me where is the station?" -> "Can you tell me where the station is?"
- ``spelling`` -- a character dropped, doubled, swapped or replaced (words of four letters or more), or a
  common misspelling: "becuase" -> "because"
- ``missing_word`` -- *to* before an infinitive, *be* before *-ing*, or *of* after *a lot* left out:
  "I want go home." -> "I want to go home."
- ``extra_word`` -- *to* after a modal, or *be* before a simple present: "I must to go." -> "I must go.",
  "I am live here." -> "I live here."
- ``capitalisation`` -- "i", "sunday", "london", "english", a lower-case sentence start
- ``punctuation`` -- final full stop or question mark missing, apostrophe missing: "dont" -> "don't"
- ``clean`` -- nothing to correct: the tutor must copy the sentence.

**Rates.** :data:`N_ERRORS_P` gives the share of pairs with 0, 1, 2 and 3 errors (25% clean, 50%, 20%,
5%). The errors of one pair are of distinct kinds, each drawn among the kinds the sentence allows with
weight ``KIND_WEIGHTS[kind]`` divided by the share of sentences the kind applies to, so that over many
pairs each kind's share follows :data:`KIND_WEIGHTS` (from about 3% of pairs for ``uncountable`` to 10%
for ``spelling``). Every word an error touches is marked, so a later error never edits it again.

**Splits.** :func:`make_splits` draws test pairs first, then training pairs whose learner sentence is
neither a test input nor one of the inputs of :func:`learner_corpus_pairs` -- the project's
hand-written pairs turned into natural text, a test set only, never mixed into training data.
"""

from __future__ import annotations

import functools
import random
import re

import numpy as np

from specdec import _checks

__all__ = [
    "KINDS",
    "KIND_WEIGHTS",
    "N_ERRORS_P",
    "Pair",
    "generate_pairs",
    "learner_corpus_pairs",
    "lexicon",
    "make_splits",
    "naturalise",
    "proper_names",
]

Pair = tuple[str, str, tuple[str, ...]]

KINDS = (
    "verb_sva",
    "verb_tense",
    "verb_form",
    "do_support",
    "determiner",
    "noun_number",
    "uncountable",
    "preposition",
    "pronoun_case",
    "adjective_form",
    "word_order",
    "spelling",
    "missing_word",
    "extra_word",
    "capitalisation",
    "punctuation",
    "clean",
)
"""The error categories (ERRANT-style names) and ``clean``."""
KIND_WEIGHTS = {
    "verb_sva": 1.2,
    "verb_tense": 1.1,
    "verb_form": 1.0,
    "do_support": 1.0,
    "determiner": 1.2,
    "noun_number": 1.0,
    "uncountable": 0.6,
    "preposition": 1.1,
    "pronoun_case": 0.8,
    "adjective_form": 0.7,
    "word_order": 0.9,
    "spelling": 1.2,
    "missing_word": 0.8,
    "extra_word": 0.7,
    "capitalisation": 1.0,
    "punctuation": 1.0,
}
"""Relative weight of each error kind, used among the kinds a sentence allows."""
N_ERRORS_P = (0.25, 0.50, 0.20, 0.05)
"""Share of pairs with 0 (clean), 1, 2 and 3 injected errors."""

# --- the hand-written frames' word classes ------------------------------------------------------------
# A token is (word, tag, data). Tags: S subject pronoun (data: person), O object pronoun, N noun (lemma,
# number, countable), D article, V main verb (lemma, form, person), DO/BE/HAVE auxiliaries (person, neg),
# M modal, TO infinitive marker, P preposition (wrong choices, droppable), A adjective, CMP comparative
# (lemma, kind), ADV frequency adverb, NAME/NUM copied items, CAP a capitalised common word, Q wh-word,
# PUNCT, W any other word, X a word already edited.
PRONOUNS = {"1s": "I", "2": "you", "3s": "she", "1p": "we", "3p": "they"}
OBJECT_OF = {"I": "me", "you": "you", "he": "him", "she": "her", "we": "us", "they": "them", "it": "it"}
SUBJECT_OF = {v: k for k, v in OBJECT_OF.items() if k != "you"}
# object pronouns that would refer back to a subject pronoun ("I call us")
SELF = {
    "I": {"me", "us"},
    "we": {"me", "us"},
    "you": {"you"},
    "he": {"him"},
    "she": {"her"},
    "they": {"them"},
}
KIN = ("sister", "brother", "mother", "father", "cousin", "friend", "neighbour", "boss", "aunt", "uncle")
PEOPLE = (
    "teacher", "doctor", "driver", "waiter", "manager", "student", "nurse", "engineer", "artist", "cook",
    "architect", "lawyer", "farmer", "pilot", "singer", "actor",
)  # fmt: skip
EVERYDAY = {
    "tv": ("TV", "a film", "the news", "a match"), "sport": ("football", "tennis", "chess", "the piano"),
    "up": ("up early", "up late"), "letter": ("a letter", "an email", "a story", "a song"),
    "car": ("a car", "a bus", "a taxi", "my car"), "keys": ("the keys", "my phone", "his umbrella"),
    "meal": ("dinner", "lunch", "breakfast"),
}  # fmt: skip
FIRST_NAMES = (
    "Anna", "Tom", "Maria", "David", "Sarah", "James", "Laura", "Peter", "Emma", "Carlos", "Yuki", "Ahmed",
    "Olga", "Ben", "Sofia", "Li", "Fatima", "Marco", "Chloe", "Ivan", "Priya", "Jack", "Lucy", "Omar",
)  # fmt: skip
CITIES = (
    "London", "Paris", "Madrid", "Berlin", "Tokyo", "Rome", "Cairo", "Lisbon", "Dublin", "Seoul", "Mumbai",
    "Chicago", "Sydney", "Toronto", "Warsaw", "Vienna", "Istanbul", "Lima", "Oslo", "Prague",
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
LANGUAGES = ("English", "French", "Spanish", "German", "Italian", "Chinese", "Japanese", "Arabic")
PLACES = ("the station", "the park", "the office", "the library", "the beach", "the market", "the hospital",
          "the airport", "the museum", "the cinema", "the supermarket", "the bank", "the gym")  # fmt: skip
FOOD = ("pizza", "rice", "bread", "soup", "pasta", "fish", "chicken", "salad", "cake", "eggs", "vegetables")
DRINKS = ("coffee", "tea", "water", "milk", "juice", "lemonade")
UNCOUNTABLE = (
    "information", "advice", "furniture", "equipment", "luggage", "homework", "news",
    "knowledge", "research", "traffic", "evidence", "software", "music", "money", "weather",
)  # fmt: skip
ADVERBS = ("always", "usually", "often", "sometimes", "never", "rarely")
PAST_TIMES = (
    "yesterday", "last week", "last night", "last year", "two days ago", "last month", "last summer",
    "on Monday", "on Saturday", "three weeks ago",
)  # fmt: skip
PRESENT_TIMES = ("every day", "every morning", "on weekdays", "in the evening", "at the weekend")
FUTURE_TIMES = ("tomorrow", "next week", "next year", "soon", "later")
IRREGULAR_ADJ = {"good": ("better", "best"), "bad": ("worse", "worst"), "far": ("further", "furthest")}
MISSPELLINGS = {
    "because": "becuase", "receive": "recieve", "friend": "freind", "which": "wich", "believe": "beleive",
    "until": "untill", "tomorrow": "tommorow", "definitely": "definately", "government": "goverment",
    "beginning": "begining", "writing": "writting", "different": "diffrent", "really": "realy",
    "whether": "wether", "address": "adress", "environment": "enviroment", "separate": "seperate",
    "necessary": "neccessary", "business": "buisness", "restaurant": "restaurent", "people": "peple",
    "beautiful": "beatiful", "interesting": "intresting", "weather": "wheather", "library": "libary",
}  # fmt: skip
CONTRACTIONS = ("don't", "doesn't", "didn't", "can't", "won't", "isn't", "aren't", "haven't", "hasn't")
NOT_NOUNS = frozenset(
    "everyone someone anyone whoever nobody everything something nothing anything dozen hundred thousand "
    "million billion percent today tonight yesterday tomorrow none your each both those these tom wright "
    "moron mamma tit hers theirs ours mine yours his other another whatever thou sir khan jay babe dude "
    "mama semi pro vice sake par earl duke pope god lot".split()
)
FUNCTION_WORDS = frozenset(
    "i you he she it we they me him her us them my your his its our their mine yours ours theirs this that "
    "these those who whom whose which what where when why how all any some each every both either neither "
    "no none one few many much more most less such own same there here then than".split()
)
NOT_ADJECTIVES = frozenset(
    "few many much more most less least other such own same next last only several former latter main "
    "certain due able sure likely mid fewer else whole like said top total entire various specific "
    "particular overall further else okay alright matt".split()
)
NOT_GRADABLE = frozenset(
    "previous various numerous unable impossible incredible unbelievable possible religious respective "
    "collective relative exclusive extensive massive explosive offensive defensive".split()
)
STATIVE = frozenset(
    "like need see want hope know believe think decide have agree love hate own prefer remember".split()
)
OFFENSIVE = frozenset(
    "sex sexy porn fuck shit damn hell bitch dick gay nude naked kill rape drug drugs suicidal suicide "
    "perverse idiot stupid dumb retarded racist terrorist slave whore slut condom abortion genocide nazi "
    "cocaine heroin erection penis vagina breast breasts orgasm masturbation prostitute".split()
)
# syllables for made-up names: 23 onsets (one empty), 5 vowels, 5 codas: a 2- or 3-syllable name rarely recurs
SYLLABLES = tuple(
    onset + vowel + coda
    for onset in ["", *"b d f g k l m n p r s t v z sh ch br tr kr st j h".split()]
    for vowel in "aeiou"
    for coda in ("", "", "", "n", "r")
)  # fmt: skip

# verbs that take any thing as their object ("walk the dog", "ride a bike", "fix the printer")
OPEN_VERBS = (
    "walk", "ride", "carry", "clean", "open", "close", "sell", "wash", "fix", "paint", "build", "pay",
    "share", "send", "love", "hate", "enjoy", "keep", "miss", "take", "make", "want", "choose", "hold",
    "move", "change", "follow", "feed", "catch", "draw", "borrow", "rent", "repair", "teach", "plan",
    "own", "prefer", "remember", "show", "finish", "start", "book", "pack", "print", "try",
)  # fmt: skip
# nouns that go without an article after a preposition: "go to school", "drive to work", "go to bed"
BARE_PLACES = ("school", "work", "bed", "church", "college", "university", "class")
# everyday adjuncts with no article to add or drop: "by bus", "after work", "at home"
ADJUNCTS = (
    "at home", "at work", "at school", "at night", "by bus", "by train", "by car", "by bike", "on foot",
    "after work", "after school", "after lunch", "after dinner", "before work", "before school",
    "before breakfast", "before bed", "in bed", "in town", "for breakfast", "for lunch", "for dinner",
    "on holiday", "online", "together", "alone", "at lunchtime", "on the phone", "on the bus",
    "with friends", "with my family", "in the garden", "in the kitchen", "near the station",
)  # fmt: skip
# verbs with the complement they take: (lemma, complement, preposition, wrong prepositions, extra preposition)
VERB_FRAMES = (
    ("see", "thing", "", (), ""), ("need", "thing", "", (), ""), ("find", "thing", "", (), ""),
    ("lose", "thing", "", (), ""), ("buy", "thing", "", (), ""), ("bring", "thing", "", (), ""),
    ("like", "thing", "", (), ""), ("use", "thing", "", (), ""), ("check", "thing", "", (), ""),
    ("discuss", "thing", "", (), "about"), ("describe", "thing", "", (), "about"),
    ("eat", "food", "", (), ""), ("cook", "food", "", (), ""), ("order", "food", "", (), ""),
    ("drink", "drink", "", (), ""),
    ("visit", "person", "", (), "to"), ("call", "person", "", (), "to"), ("meet", "person", "", (), "with"),
    ("help", "person", "", (), "to"), ("marry", "person", "", (), "with"),
    ("wait", "person", "for", ("to", "on"), ""), ("talk", "person", "to", ("with", "at"), ""),
    ("talk", "topic", "about", ("of", "on"), ""), ("think", "topic", "about", ("on", "in"), ""),
    ("read", "topic", "about", ("of", "on"), ""), ("complain", "topic", "about", ("of", "for"), ""),
    ("go", "place", "to", ("in", "at"), ""), ("travel", "place", "to", ("in", "at"), ""),
    ("walk", "place", "to", ("in", "at"), ""), ("arrive", "place", "at", ("to", "in"), ""),
    ("listen", "music", "to", ("at", "on"), ""), ("enter", "place", "", (), "into"),
    ("speak", "language", "", (), ""), ("learn", "language", "", (), ""), ("study", "language", "", (), ""),
    ("have", "thing", "", (), ""), ("have", "meal", "", (), ""), ("watch", "tv", "", (), ""),
    ("play", "sport", "", (), ""), ("get", "up", "", (), ""), ("write", "letter", "", (), ""),
    ("drive", "car", "", (), ""), ("forget", "keys", "", (), ""), ("cook", "meal", "", (), ""),
    ("agree", "person", "with", ("to",), ""),
    ("work", "none", "", (), ""), ("sleep", "none", "", (), ""), ("swim", "none", "", (), ""),
    ("want", "inf", "", (), ""), ("decide", "inf", "", (), ""), ("hope", "inf", "", (), ""),
    ("try", "inf", "", (), ""),
    ("go", "bare", "to", ("in", "at"), ""), ("walk", "bare", "to", ("in", "at"), ""),
    ("drive", "bare", "to", ("in", "at"), ""), ("come", "bare", "to", ("in", "at"), ""),
) + tuple((v, "thing", "", (), "") for v in OPEN_VERBS)  # fmt: skip
INF_FRAMES = tuple(f for f in VERB_FRAMES if f[1] != "inf")
THAT_VERBS = ("think", "say", "know", "believe", "hope")
# adjectives with their preposition, its wrong choices and the object they take
ADJ_PREPS = (
    ("good", "at", ("in", "on"), "skill"), ("bad", "at", ("in", "on"), "skill"),
    ("interested", "in", ("on", "for"), "topic"), ("afraid", "of", ("from",), "thing"),
    ("different", "from", ("than", "of"), "person"), ("married", "to", ("with",), "person"),
    ("angry", "with", ("on", "to"), "person"), ("proud", "of", ("on", "for"), "person"),
)  # fmt: skip
SKILLS = ("football", "chess", "maths", "cooking", "swimming", "singing", "drawing", "tennis")
GROUPS = ("the class", "the team", "the office", "the family", "the world", "the school")


# --- the lexicon -------------------------------------------------------------------------------------
def _plain(word: str) -> bool:
    """Whether ``word`` may enter the lexicon: alphabetic, three letters or more, with a vowel, and
    neither a function word nor offensive."""
    return (
        word.isascii()
        and word.isalpha()
        and len(word) >= 3
        and word not in OFFENSIVE
        and word not in FUNCTION_WORDS
        and any(c in "aeiouy" for c in word)
    )


def _gradable(adj: str, zipf) -> bool:
    """Whether ``adj`` is compared: a short one whose -er form is in use (bigger, happier), or a long one
    with a gradable ending (expensive, famous, beautiful, comfortable)."""
    if _short(adj):
        return zipf(inflect(adj, "JJR"), "en") >= 2.0
    if adj in NOT_GRADABLE or adj.endswith(("ative", "otive", "utive")):
        return False
    return adj.endswith(("ful", "ous", "ive", "able", "ible"))


@functools.lru_cache(maxsize=1)
def lexicon() -> dict[str, tuple[str, ...]]:
    """The data-driven lexicon: ``nouns`` (countable, singular) and ``adjectives`` among the 6,000 most
    frequent English words, ``rare_nouns`` and ``rare_adjectives`` among the next 19,000, ``gradable``
    adjectives (compared in the comparison frames), and ``words``
    (all 25,000, so that a misspelling is never a real word).

    Built from :func:`wordfreq.top_n_list` and :func:`lemminflect.getAllLemmas`: a noun is a word whose
    only lemma is itself as a noun and whose plural is in use (:func:`wordfreq.zipf_frequency` at least
    1.5), an adjective one whose only lemma is itself as an adjective. Names and abbreviations have no
    lemma, so they drop out; so do words shorter than three letters, non-alphabetic entries, a few
    function words and offensive words. Cached: about two seconds, mostly loading the two libraries.
    """
    from lemminflect import getAllLemmas, getInflection
    from wordfreq import top_n_list, zipf_frequency

    nouns, adjs, rare_nouns, rare_adjs, gradable = [], [], [], [], []
    words = top_n_list("en", 25000)
    for rank, w in enumerate(words):
        if not _plain(w):
            continue
        lemmas = getAllLemmas(w)
        if lemmas == {"NOUN": (w,)} and w not in UNCOUNTABLE and w not in NOT_NOUNS and not w.endswith("s"):
            plural = getInflection(w, "NNS")
            if plural and plural[0] != w and zipf_frequency(plural[0], "en") >= 1.5:
                (nouns if rank < 6000 else rare_nouns).append(w)
        elif lemmas == {"ADJ": (w,)} and w not in NOT_ADJECTIVES:
            (adjs if rank < 6000 else rare_adjs).append(w)
            if rank < 8000 and _gradable(w, zipf_frequency):
                gradable.append(w)
    return {
        "nouns": tuple(nouns),
        "rare_nouns": tuple(rare_nouns),
        "adjectives": tuple(adjs),
        "rare_adjectives": tuple(rare_adjs),
        "gradable": tuple(gradable),
        "words": frozenset(words),
    }


@functools.lru_cache(maxsize=8192)
def inflect(lemma: str, tag: str) -> str:
    """``lemma`` inflected by :func:`lemminflect.getInflection` (``VBZ``, ``VBD``, ``NNS``, ``JJR``...)."""
    from lemminflect import getInflection

    if tag == "JJR" and lemma in IRREGULAR_ADJ:
        return IRREGULAR_ADJ[lemma][0]
    if tag == "JJS" and lemma in IRREGULAR_ADJ:
        return IRREGULAR_ADJ[lemma][1]
    forms = getInflection(lemma, tag)
    return forms[0] if forms else lemma


def article(word: str) -> str:
    """``a`` or ``an`` by the sound of ``word`` (an hour, a university, a one-way street)."""
    w = word.lower()
    if w.startswith(("hour", "honest", "honour", "heir")):
        return "an"
    if w.startswith(("uni", "use", "usu", "uti", "eu", "one", "once", "ur")) or w[0] not in "aeiou":
        return "a"
    return "an"


def _syllables(word: str) -> int:
    return max(1, len(re.findall(r"[aeiouy]+", word.removesuffix("e"))))


def _short(adj: str) -> bool:
    """Whether ``adj`` compares with -er/-est (one syllable, or two ending in -y) rather than more/most."""
    return adj in IRREGULAR_ADJ or _syllables(adj) == 1 or (_syllables(adj) == 2 and adj.endswith("y"))


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def _low(word: str) -> str:
    return word[:1].lower() + word[1:]


def render(tokens: list[tuple]) -> str:
    """The text of a token list: words joined by spaces, punctuation attached to the word before it."""
    out: list[str] = []
    for word, tag, _ in tokens:
        if tag == "PUNCT" and out:
            out[-1] += word
        else:
            out.append(word)
    return " ".join(out)


# --- slot fillers ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def proper_names() -> tuple[str, ...]:
    """Names to copy, from data: words of ``wordfreq.top_n_list`` ranked 2,000 to 25,000 that
    ``lemminflect.getAllLemmas`` does not know (people, places, brands: *Seville*, *Kolkata*,
    *Yvonne*), capitalised. Alphabetic, four letters or more, nothing offensive, and none with the
    endings of adverbs, participles, adjectives and numbers (*-ly*, *-ed*, *-ing*, *-ical*, *-ness*,
    *-teen*, *-ty*)."""
    from lemminflect import getAllLemmas
    from wordfreq import top_n_list

    def name_like(w: str) -> bool:
        return (
            _plain(w)
            and len(w) >= 4
            and not w.endswith(("ly", "ed", "ing", "ical", "ness", "teen", "ty"))
            and not any(bad in w for bad in OFFENSIVE)
            and not getAllLemmas(w)
        )

    return tuple(_cap(w) for w in top_n_list("en", 25000)[2000:] if name_like(w))


def _made_up_name(r: random.Random) -> str:
    return _cap("".join(r.choice(SYLLABLES) for _ in range(r.randint(2, 3))))


def _any_name(r: random.Random, common: tuple[str, ...]) -> str:
    """A name from ``common`` (45%), from :func:`proper_names` (25%) or made up (30%)."""
    x = r.random()
    if x < 0.45:
        return r.choice(common)
    return r.choice(proper_names()) if x < 0.7 else _made_up_name(r)


def _name(r: random.Random) -> tuple:
    return (_any_name(r, FIRST_NAMES), "NAME", ())


def _city(r: random.Random) -> tuple:
    return (_any_name(r, CITIES), "NAME", ("city",))


def _number(r: random.Random) -> str:
    x = r.random()
    if x < 0.4:
        return r.choice(("two", "three", "four", "five", "six", "ten", "twenty"))
    return str(r.randint(2, 99))


def _subject(r: random.Random) -> tuple[list[tuple], str]:
    """A subject noun phrase and its person (1s, 2, 3s, 1p, 3p)."""
    x = r.random()
    if x < 0.35:
        person = r.choice(("1s", "2", "3s", "3s", "1p", "3p"))
        word = "he" if person == "3s" and r.random() < 0.5 else PRONOUNS[person]
        return [(word, "S", (person,))], person
    if x < 0.55:
        return [_name(r)], "3s"
    if x < 0.72:
        kin = r.choice(KIN)
        det = (r.choice(("my", "our", "your", "his", "her")), "W", ())
        if r.random() < 0.3 and kin not in ("mother", "father", "boss"):
            return [det, (inflect(kin, "NNS"), "N", (kin, "pl", False))], "3p"
        return [det, (kin, "N", (kin, "sg", False))], "3s"
    if x < 0.84 and r.random() < 0.1:
        return [(r.choice(("everybody", "everyone", "nobody", "somebody", "someone")), "W", ())], "3s"
    if x < 0.86:
        who = r.choice(PEOPLE)
        if r.random() < 0.4:
            return [("the", "D", ()), (inflect(who, "NNS"), "N", (who, "pl", False))], "3p"
        return [("the", "D", ()), (who, "N", (who, "sg", False))], "3s"
    if x < 0.93:
        name = _name(r)
        return [(name[0] + "'s", "NAME", ()), (r.choice(KIN), "W", ())], "3s"
    first = _name(r) if r.random() < 0.6 else ("my", "W", ())
    if first[1] == "W":
        return [first, (r.choice(KIN), "W", ()), ("and", "W", ()), ("I", "S", ("1s",))], "1p"
    return [first, ("and", "W", ()), ("I", "S", ("1s",))], "1p"


def _noun_phrase(r: random.Random, lex: dict) -> list[tuple]:
    """An object: an article, possessive, number or quantifier, perhaps an adjective, and a noun."""
    if r.random() < 0.25:
        noun = r.choice(UNCOUNTABLE[:-5])
        det = r.choice(("some", "the", "a lot of", "more", "enough", ""))
        return ([(det, "W", ())] if det else []) + [(noun, "U", ())]
    if r.random() < 0.08:
        return [(r.choice(FOOD + DRINKS), "W", ())]
    noun = r.choice(lex["rare_nouns"] if r.random() < 0.1 else lex["nouns"])
    adj = []
    if r.random() < 0.3:
        pool = lex["rare_adjectives"] if r.random() < 0.1 else lex["adjectives"]
        adj = [(r.choice(pool), "A", ())]
    first = adj[0][0] if adj else noun
    x = r.random()
    if x < 0.4:
        return [(article(first), "D", ())] + adj + [(noun, "N", (noun, "sg", False))]
    if x < 0.55:
        return [("the", "D", ())] + adj + [(noun, "N", (noun, "sg", False))]
    if x < 0.6 and not adj:
        adj = r.choice(lex["gradable"])
        form = inflect(adj, "JJS") if _short(adj) else "most " + adj
        return [("the", "W", ()), (form, "CMP", (adj, "est")), (noun, "N", (noun, "sg", False))]
    if x < 0.65:
        owner = r.choice(("my", "his", "her", "our", "their", "your"))
        return [(owner, "W", ())] + adj + [(noun, "N", (noun, "sg", False))]
    plural = inflect(noun, "NNS")
    if x < 0.85:
        count = _number(r)
        return [(count, "NUM" if count.isdigit() else "W", ())] + adj + [(plural, "N", (noun, "pl", True))]
    quant = r.choice(("many", "some", "a few", "several", "a lot of"))
    return [(quant, "W", ())] + adj + [(plural, "N", (noun, "pl", True))]


def _person_object(r: random.Random) -> list[tuple]:
    x = r.random()
    if x < 0.4:
        return [(r.choice(("me", "him", "her", "us", "them")), "O", ())]
    if x < 0.7:
        return [_name(r)]
    return [(r.choice(("my", "his", "her", "our")), "W", ()), (r.choice(KIN), "W", ())]


def _place(r: random.Random) -> list[tuple]:
    if r.random() < 0.5:
        return [_city(r)]
    place = r.choice(PLACES).split()
    return [("the", "D", ()), (place[1], "W", ())]


def _complement(r: random.Random, lex: dict, frame: tuple) -> list[tuple]:
    """What follows the verb of ``frame``: its preposition and object, place or infinitive."""
    _, comp, prep, wrong, _ = frame
    if comp == "place" and prep == "at" and r.random() < 0.5:
        return [("in", "P", ("to", "at")), _city(r)]
    toks = [(prep, "P", wrong)] if prep else []
    if comp == "thing":
        toks += _noun_phrase(r, lex)
    elif comp == "food":
        food = r.choice(FOOD)
        toks += [(r.choice(("some", "the", "more")), "W", ()), (food, "W", ())]
    elif comp == "drink":
        toks += [(r.choice(DRINKS), "W", ())]
    elif comp == "person":
        toks += _person_object(r)
    elif comp == "topic":
        toks += _noun_phrase(r, lex)
    elif comp in EVERYDAY:
        toks += [(w, "NAME" if w == "TV" else "W", ()) for w in r.choice(EVERYDAY[comp]).split()]
    elif comp == "language":
        skill = frame[0] != "speak" and r.random() < 0.3
        toks += [(r.choice(SKILLS), "W", ())] if skill else [(r.choice(LANGUAGES), "NAME", ())]
    elif comp == "place":
        toks += _place(r) if prep != "at" else [("the", "D", ()), (r.choice(PLACES).split()[1], "W", ())]
    elif comp == "bare":
        toks += [(r.choice(BARE_PLACES), "BARE", ())]
    elif comp == "music":
        toks += [("the", "D", ()), (r.choice(("radio", "news", "teacher")), "W", ())]
    elif comp == "inf":
        inner = r.choice(INF_FRAMES)
        toks += [("to", "TO", ()), _verb(inner[0], "VB", "", inner)] + _complement(r, lex, inner)
    return toks


# --- clauses -------------------------------------------------------------------------------------------
TENSES = ("present", "present", "past", "past", "perfect", "future", "modal", "cont")
BE_PRESENT = {"1s": "am", "3s": "is"}


def _present(lemma: str, person: str) -> tuple[str, str]:
    return (inflect(lemma, "VBZ"), "VBZ") if person == "3s" else (lemma, "VBP")


def _verb(lemma: str, form: str, person: str, frame: tuple, anchored: bool = False) -> tuple:
    return (inflect(lemma, form) if form != "VB" else lemma, "V", (lemma, form, person, frame[4], anchored))


def _verb_group(
    r: random.Random, tense: str, person: str, neg: bool, frame: tuple, adverb: bool = True
) -> list[tuple]:
    """The verb group of a statement: auxiliaries, negation, perhaps an adverb, and the main verb."""
    lemma = frame[0]
    adverb = adverb and not neg and r.random() < 0.3
    if tense == "present":
        if neg:
            return [
                ("doesn't" if person == "3s" else "don't", "DO", (person,)),
                _verb(lemma, "VB", person, frame),
            ]
        adv = [(r.choice(ADVERBS), "ADV", ())] if adverb else []
        return adv + [_verb(lemma, _present(lemma, person)[1], person, frame)]
    if tense == "past":
        if neg:
            return [("didn't", "DO", ("past",)), _verb(lemma, "VB", person, frame)]
        return [_verb(lemma, "VBD", person, frame)]
    if tense == "perfect":
        have = "has" if person == "3s" else "have"
        adv = [(r.choice(("already", "just", "never")), "W", ())] if adverb else []
        return (
            [(have + "n't" if neg else have, "HAVE", (person,))] + adv + [_verb(lemma, "VBN", person, frame)]
        )
    if tense == "future":
        return [("won't" if neg else "will", "M", ()), _verb(lemma, "VB", person, frame)]
    if tense == "modal":
        modal = r.choice(("can", "should", "must", "might", "could"))
        modal = {"can": "can't", "could": "couldn't"}.get(modal, modal + " not") if neg else modal
        return [(modal, "M", ()), _verb(lemma, "VB", person, frame)]
    be = BE_PRESENT.get(person, "are")
    be = (be + " not" if be == "am" else be + "n't") if neg else be
    return [(be, "BE", (person, "cont")), _verb(lemma, "VBG", person, frame)]


def _time_words(text: str) -> list[tuple]:
    """A time expression's tokens: numbers copied (NUM), day and month names capitalised (NAME)."""
    return [(w, "NUM" if w.isdigit() else "NAME" if w[0].isupper() else "T", ()) for w in text.split()]


def _time(r: random.Random, tense: str) -> list[tuple]:
    """A time expression fitting ``tense`` (or nothing); anchors a past or perfect verb."""
    if tense == "past":
        x = r.random()
        if x < 0.5:
            return _time_words(r.choice(PAST_TIMES))
        if x < 0.6:
            return [("in", "T", ()), (str(r.randint(1950, 2022)), "NUM", ())]
        if x < 0.7:
            return [("in", "T", ()), (r.choice(MONTHS), "NAME", ())]
        return [("on", "T", ()), (r.choice(DAYS), "NAME", ("day",))]
    if tense == "perfect":
        x = r.random()
        if x < 0.4:
            return [("since", "T", ()), (str(r.randint(1990, 2022)), "NUM", ())]
        if x < 0.6:
            since = r.choice(("last year", "last summer", "Monday", "January", "2019", "March"))
            return _time_words("since " + since)
        if x < 0.7:
            return [(w, "T", ()) for w in "for a long time".split()]
        return [("for", "T", ()), (_number(r), "W", ()), (r.choice(("years", "months", "weeks")), "W", ())]
    if tense == "present":
        if r.random() < 0.3:
            return [("on", "W", ()), (r.choice(DAYS) + "s", "NAME", ("day",))]
        return [(w, "W", ()) for w in r.choice(PRESENT_TIMES).split()]
    if tense == "future":
        return [(w, "W", ()) for w in r.choice(FUTURE_TIMES).split()]
    if tense == "cont":
        return [(w, "W", ()) for w in r.choice(("now", "at the moment", "this week")).split()]
    return []


def _extras(r: random.Random, lex: dict, frame: tuple) -> list[tuple]:
    """An optional adjunct: one that carries a name or number to copy (a place, a price for what is
    bought or ordered, a clock time), an everyday one with no article (*by bus*, *after work*), or a
    place made of an article and any noun (*in a bank*)."""
    x = r.random()
    if x < 0.15:
        return [("in", "W", ()), _city(r)]
    if x < 0.22 and frame[0] in ("buy", "order", "bring", "find", "need", "sell", "eat", "drink", "cook"):
        price = f"{r.randint(2, 99)}.{r.choice(('50', '99', '20', '75'))}"
        return [("for", "W", ()), (price, "NUM", ()), (r.choice(("euros", "dollars", "pounds")), "W", ())]
    if x < 0.3:
        return [("at", "W", ()), (f"{r.randint(1, 12)}:{r.choice(('00', '15', '30', '45'))}", "NUM", ())]
    if x < 0.36 and frame[1] != "person":
        return [("with", "W", ()), (r.choice(("me", "him", "her", "us", "them")), "O", ())]
    if x < 0.5:
        return [(w, "W", ()) for w in r.choice(ADJUNCTS).split()]
    if x < 0.56:
        noun = r.choice(lex["nouns"])
        det = r.choice(("a", "the")) if r.random() < 0.7 else "the"
        det = article(noun) if det == "a" else det
        where = (r.choice(("in", "at", "near")), "W", ())
        return [where, (det, "D", ()), (noun, "N", (noun, "sg", False))]
    return []


def _anchor(group: list[tuple]) -> list[tuple]:
    """``group`` with its main verb marked as anchored by a time expression."""
    return [(w, t, d[:4] + (True,)) if t == "V" else (w, t, d) for w, t, d in group]


def _clause(r: random.Random, lex: dict, subject=None, tense=None) -> list[tuple]:
    """A statement: subject, verb group, complement, adjuncts, time expression."""
    subj, person = subject if subject else _subject(r)
    tense = tense or r.choice(TENSES)
    frame = r.choice(VERB_FRAMES)
    if r.random() < 0.2:
        if subject is None and r.random() < 0.2:
            return _thing_subject(r, lex) + _comparison(r, lex, "3s", tense, thing=True)
        return subj + _copula(r, lex, person, tense)
    if tense in ("cont", "modal") and frame[0] in STATIVE:
        tense = "present"
    time = _time(r, tense) if r.random() < 0.6 else []
    group = _verb_group(r, tense, person, r.random() < 0.22, frame, adverb=not time)
    if time and tense in ("past", "perfect"):
        group = _anchor(group)
    comp = _complement(r, lex, frame)
    comp += _extras(r, lex, frame) if not any(d == ("city",) for _, _, d in comp) else []
    if subj[-1][1] == "S":  # no "I call us": an object pronoun that is the subject becomes a name
        comp = [_name(r) if t == "O" and w in SELF[subj[-1][0]] else (w, t, d) for w, t, d in comp]
    return subj + group + comp + time


def _thing_subject(r: random.Random, lex: dict) -> list[tuple]:
    """A thing as the subject of a comparison: "Her phone", "The city"."""
    noun = r.choice(lex["nouns"])
    return [(r.choice(("her", "his", "the", "this")), "W", ()), (noun, "N", (noun, "sg", False))]


def _be(person: str, tense: str) -> tuple:
    be = ("was" if person in ("1s", "3s") else "were") if tense == "past" else BE_PRESENT.get(person, "are")
    return (be, "BE", (person, "cop"))


def _comparison(r: random.Random, lex: dict, person: str, tense: str, thing: bool = False) -> list[tuple]:
    """``be`` and a comparative: "is taller than me", "is more expensive than yours" (after a thing)."""
    adj = r.choice(lex["gradable"])
    form = inflect(adj, "JJR") if _short(adj) else "more " + adj
    than = [(r.choice(("yours", "mine", "ours", "theirs")), "W", ())] if thing else _person_object(r)
    return [_be(person, tense), (form, "CMP", (adj, "er")), ("than", "W", ())] + than


def _copula(r: random.Random, lex: dict, person: str, tense: str) -> list[tuple]:
    """``be`` with a comparative or superlative, an adjective and its preposition, or an occupation."""
    out = [_be(person, tense)]
    x = r.random()
    if x < 0.4:
        if r.random() < 0.6:
            return _comparison(r, lex, person, tense)
        adj = r.choice(lex["gradable"])
        form = inflect(adj, "JJS") if _short(adj) else "most " + adj
        who = r.choice(PEOPLE)
        who = who if person in ("1s", "3s") else inflect(who, "NNS")
        group = [(w, "W", ()) for w in r.choice(GROUPS).split()] if r.random() < 0.7 else [_city(r)]
        return out + [("the", "W", ()), (form, "CMP", (adj, "est")), (who, "W", ()), ("in", "W", ())] + group
    if x < 0.6:
        adj, prep, wrong, kind = r.choice(ADJ_PREPS)
        return out + [(adj, "W", ()), (prep, "P", wrong)] + _adj_object(r, lex, kind)
    if x < 0.8 and person in ("1s", "3s"):
        job = r.choice(PEOPLE)
        return out + [(article(job), "D", ()), (job, "N", (job, "sg", False))]
    adj = r.choice(lex["adjectives"] if r.random() < 0.85 else lex["rare_adjectives"])
    return out + [(r.choice(("very", "really", "quite", "so")), "W", ()), (adj, "A", ())]


def _adj_object(r: random.Random, lex: dict, kind: str) -> list[tuple]:
    """The object of an adjective's preposition: a skill, a topic, a thing or a person."""
    if kind == "skill":
        skill = r.choice(SKILLS + LANGUAGES)
        return [(skill, "NAME" if skill in LANGUAGES else "W", ())]
    if kind == "person":
        return _person_object(r)
    if kind == "thing":
        noun = r.choice(lex["nouns"])
        return [(r.choice(("the", "some", "many")), "W", ()), (inflect(noun, "NNS"), "N", (noun, "pl", True))]
    return _noun_phrase(r, lex)


def _question(r: random.Random, lex: dict) -> list[tuple]:
    """A yes/no or wh- question with do-support or an inverted auxiliary, ending in ``?``."""
    subj, person = _subject(r)
    if subj[0][1] == "S" and subj[0][0] != "I":
        subj = [(subj[0][0], "S", subj[0][2])]
    frame = r.choice(VERB_FRAMES)
    wh = [(r.choice(("where", "when", "why", "how often")), "Q", ())] if r.random() < 0.5 else []
    tense = r.choice(("present", "present", "past", "perfect", "future", "modal", "cont"))
    if tense == "cont" and frame[0] in STATIVE:
        tense = "present"
    if tense in ("present", "past"):
        aux = (
            ("did", "DO", ("past",))
            if tense == "past"
            else ("does" if person == "3s" else "do", "DO", (person,))
        )
        verb = _verb(frame[0], "VB", person, frame)
    elif tense == "perfect":
        aux, verb = (
            ("has" if person == "3s" else "have", "HAVE", (person,)),
            _verb(frame[0], "VBN", person, frame),
        )
    elif tense == "cont":
        aux = (BE_PRESENT.get(person, "are"), "BE", (person, "cont"))
        verb = _verb(frame[0], "VBG", person, frame)
    else:
        aux = (r.choice(("will", "can", "should", "could", "would")), "M", ())
        verb = _verb(frame[0], "VB", person, frame)
    if tense == "perfect" and not wh:
        subj = subj + [("ever", "W", ())]
    toks = wh + [aux] + subj + [verb] + _complement(r, lex, frame) + _extras(r, lex, frame)
    if r.random() < 0.35:
        conj = r.choice(("when", "because", "while"))
        toks += [(conj, "W", ())] + _clause(r, lex, tense=_next_tense(r, tense, conj))
    return toks + [("?", "PUNCT", ())]


def _indirect(r: random.Random, lex: dict) -> list[tuple]:
    """An indirect question: "Can you tell me where the station is?", "Do you know when she leaves?"."""
    opener, mark = r.choice(
        (
            (("Can", "you", "tell", "me"), "?"),
            (("Could", "you", "tell", "me"), "?"),
            (("Do", "you", "know"), "?"),
            (("I", "wonder"), "."),
        )
    )
    head = [(w, "W", ()) for w in opener]
    if r.random() < 0.4:
        wh = ("where", "IQ", ())
        place = r.choice(PLACES).split()[1]
        x = r.random()
        if x < 0.3:
            subj = [("the", "W", ()), ("nearest", "W", ()), (place, "W", ())]
        elif x < 0.5:
            subj = [
                (_name(r)[0] + "'s", "NAME", ()),
                (r.choice(("house", "office", "hotel", "school")), "W", ()),
            ]
        else:
            subj = [("the", "D", ()), (place, "W", ())] + ([("in", "W", ()), _city(r)] if x < 0.7 else [])
        return head + [wh] + subj + [("is", "BE", ("3s", "iq")), (mark, "PUNCT", ())]
    wh = (r.choice(("where", "when", "why", "how often")), "IQ", ())
    subj, person = _subject(r)
    frame = r.choice([f for f in VERB_FRAMES if f[1] in ("place", "person", "none", "thing")])
    verb = _verb(frame[0], _present(frame[0], person)[1], person, frame)
    return head + [wh] + subj + [verb] + _complement(r, lex, frame) + [(mark, "PUNCT", ())]


CONNECTORS = ("and", "but", "because", "so", "when", "and then", "although", "while")


def _relative(r: random.Random, lex: dict) -> tuple[list[tuple], str]:
    """A subject with a relative clause: "my friend who lives in Paris"."""
    subj, person = _subject(r)
    if subj[-1][1] == "S":
        return subj, person
    frame = r.choice(VERB_FRAMES)
    tense = r.choice(("present", "past"))
    form = "VBD" if tense == "past" else _present(frame[0], person)[1]
    rel = [("who", "W", ()), _verb(frame[0], form, person, frame)] + _complement(r, lex, frame)
    return subj + rel, person


def _next_tense(r: random.Random, first: str, conj: str) -> str:
    """The tense of a clause joined by ``conj`` to one in ``first``: a "when" or "while" clause shares a
    past and is otherwise present (or continuous after a continuous one); "and", "and then" and "so" keep
    a past."""
    if conj == "when" or (conj == "while" and first != "cont"):
        return "past" if first == "past" else "present"
    if first == "past" and conj in ("and then", "so", "and"):
        return "past"
    return r.choice(TENSES)


def _statement(r: random.Random, lex: dict) -> list[tuple]:
    """One to four clauses joined by conjunctions, a that-clause or an if-clause, ending in a full stop."""
    first = r.choice(TENSES)
    x = r.random()
    if x < 0.1:
        cond = _clause(r, lex, tense="present")
        first = r.choice(("future", "modal"))
        main = _clause(r, lex, tense=first)
        toks = [("if", "W", ())] + cond + [(",", "PUNCT", ())] + main
    elif x < 0.2:
        subj, person = _subject(r)
        verb = r.choice(THAT_VERBS)
        group = _verb_group(r, "present", person, False, (verb, "that", "", (), ""), adverb=False)
        toks = subj + group + [("that", "W", ())] + _clause(r, lex, tense=first)
    else:
        toks = _clause(r, lex, subject=_relative(r, lex) if r.random() < 0.15 else None, tense=first)
    n_more = 0 if len(toks) > 22 else int(r.random() < 0.7) + int(r.random() < 0.3) + int(r.random() < 0.1)
    for _ in range(n_more):
        conj = r.choice(CONNECTORS)
        comma = [(",", "PUNCT", ())] if conj in ("but", "so", "although") or r.random() < 0.15 else []
        first = _next_tense(r, first, conj)
        toks += comma + [(w, "W", ()) for w in conj.split()] + _clause(r, lex, tense=first)
    return toks + [(".", "PUNCT", ())]


def _past_clause(r: random.Random, lex: dict) -> list[tuple]:
    subj, person = _subject(r)
    frame = r.choice(VERB_FRAMES)
    group = _anchor(_verb_group(r, "past", person, r.random() < 0.2, frame))
    return subj + group + _complement(r, lex, frame) + _extras(r, lex, frame)


def sentence(r: random.Random, lex: dict) -> list[tuple]:
    """A grammatical sentence as a token list, its first letter capitalised."""
    x = r.random()
    if x < 0.15:
        toks = _question(r, lex)
    elif x < 0.2:
        toks = _indirect(r, lex)
    elif x < 0.22:
        head = [("between", "W", ()), ("you", "W", ()), ("and", "W", ()), ("me", "O", ()), (",", "PUNCT", ())]
        toks = head + _statement(r, lex)
    elif x < 0.27:
        time = _time_words(r.choice(PAST_TIMES)) + ([(",", "PUNCT", ())] if r.random() < 0.5 else [])
        more = [("and", "W", ())] + _past_clause(r, lex) if r.random() < 0.6 else []
        toks = time + _past_clause(r, lex) + more + [(".", "PUNCT", ())]
    else:
        toks = _statement(r, lex)
    w, t, d = toks[0]
    return [(_cap(w), t, d)] + toks[1:]


# --- error injectors: each takes a token list and returns an edited copy, or None if nothing applies ---
SVA_SWAP = {
    "does": "do", "do": "does", "doesn't": "don't", "don't": "doesn't", "has": "have", "have": "has",
    "hasn't": "haven't", "haven't": "hasn't", "is": "are", "are": "is", "am": "is", "was": "were",
    "were": "was", "isn't": "aren't", "aren't": "isn't",
}  # fmt: skip


def _where(toks: list[tuple], tags, test=None) -> list[int]:
    """Indices of the tokens whose tag is in ``tags`` (a string or a tuple) and that pass ``test``."""
    if isinstance(tags, str):
        tags = (tags,)
    return [i for i, (w, t, d) in enumerate(toks) if t in tags and (test is None or test(w, t, d))]


def _tag(toks: list[tuple], i: int) -> str:
    """The tag of token ``i``, or "" beyond either end."""
    return toks[i][1] if 0 <= i < len(toks) else ""


def _keep_case(old: str, new: str) -> str:
    return _cap(new) if old[:1].isupper() else new


def _put(toks: list[tuple], i: int, word: str) -> list[tuple]:
    """``toks`` with token ``i`` replaced by ``word``, in the case of the word it replaces, marked edited."""
    return toks[:i] + [(_keep_case(toks[i][0], word), "X", ())] + toks[i + 1 :]


def _recap(toks: list[tuple], first: str) -> list[tuple]:
    """After a word moved or left the sentence start: the new first word capitalised, ``first`` lowered."""
    out = [
        (_low(w), t, d) if w == first and t not in ("NAME", "S") and i else (w, t, d)
        for i, (w, t, d) in enumerate(toks)
    ]
    return [(_cap(out[0][0]), out[0][1], out[0][2])] + out[1:]


def _verb_sva(toks: list[tuple], r: random.Random, lex: dict):
    aux = _where(toks, ("DO", "HAVE", "BE"), lambda w, t, d: w.lower() in SVA_SWAP and "iq" not in d)
    verbs = _where(toks, "V", lambda w, t, d: d[1] in ("VBZ", "VBP") and d[2])
    options = aux + verbs
    if not options:
        return None
    i = r.choice(options)
    word, tag, data = toks[i]
    if tag == "V":
        lemma, form, person = data[:3]
        return _put(toks, i, lemma if form == "VBZ" else inflect(lemma, "VBZ"))
    if word.lower() == "are" and data[0] == "1s":
        return None
    return _put(toks, i, SVA_SWAP[word.lower()])


def _verb_tense(toks: list[tuple], r: random.Random, lex: dict):
    past = _where(toks, "V", lambda w, t, d: d[1] == "VBD" and d[4])
    perfect = _where(toks, "V", lambda w, t, d: d[1] == "VBN" and d[4])
    perfect = [i for i in perfect if toks[i - 1][1] == "HAVE" and toks[i - 1][0] in ("has", "have")]
    if not past and not perfect:
        return None
    i = r.choice(past + perfect)
    lemma, form, person = toks[i][2][:3]
    present = inflect(lemma, "VBZ") if person == "3s" else lemma
    if form == "VBN":
        return toks[: i - 1] + [(present, "X", ())] + toks[i + 1 :]
    if r.random() < 0.5:
        have = "has" if person == "3s" else "have"
        return toks[:i] + [(have, "X", ()), (inflect(lemma, "VBN"), "X", ())] + toks[i + 1 :]
    return _put(toks, i, present)


def _regular_past(lemma: str) -> str:
    return lemma + ("d" if lemma.endswith("e") else "ed")


def _verb_form(toks: list[tuple], r: random.Random, lex: dict):
    def after_aux(i: int) -> bool:
        return toks[i - 1][1] in ("M", "TO") or (toks[i - 1][0] == "didn't")

    base = _where(toks, "V", lambda w, t, d: d[1] == "VB")
    base = [i for i in base if after_aux(i)]
    irregular = _where(toks, "V", lambda w, t, d: d[1] in ("VBD", "VBN") and w != _regular_past(d[0]))
    ing = _where(toks, "V", lambda w, t, d: d[1] == "VBG")
    options = base + irregular + ing
    if not options:
        return None
    i = r.choice(options)
    lemma, form = toks[i][2][:2]
    if form == "VB":
        return _put(toks, i, inflect(lemma, r.choice(("VBZ", "VBD", "VBG"))))
    if form == "VBG":
        return _put(toks, i, lemma)
    if form == "VBN" and inflect(lemma, "VBD") != toks[i][0] and r.random() < 0.6:
        return _put(toks, i, inflect(lemma, "VBD"))
    return _put(toks, i, _regular_past(lemma))


def _do_support(toks: list[tuple], r: random.Random, lex: dict):
    dos = _where(toks, "DO")
    if not dos:
        return None
    i = r.choice(dos)
    v = next((j for j in range(i + 1, len(toks)) if toks[j][1] == "V"), None)
    if v is None:
        return None
    lemma, _, person = toks[v][2][:3]
    past = toks[i][2] == ("past",)
    inflected = inflect(lemma, "VBD") if past else inflect(lemma, "VBZ") if person == "3s" else lemma
    word = toks[i][0].lower()
    if word.endswith("n't"):
        if r.random() < 0.5:
            return _put(toks, i, "not")
        return toks[:i] + [("not", "X", ())] + toks[i + 1 : v] + [(inflected, "X", ())] + toks[v + 1 :]
    if r.random() < 0.5 and inflected != lemma:
        return toks[:v] + [(inflected, "X", ())] + toks[v + 1 :]
    if not past and i and toks[0][1] == "Q" and r.random() < 0.3:  # "Where is living your sister?"
        be = (BE_PRESENT.get(person, "are"), "X", ())
        return toks[:i] + [be, (inflect(lemma, "VBG"), "X", ())] + toks[i + 1 : v] + toks[v + 1 :]
    out = toks[:i] + toks[i + 1 : v] + [(inflected, "X", ())] + toks[v + 1 :]
    return _recap(out, toks[i][0]) if i == 0 else out


def _before_singular(toks: list[tuple], i: int) -> bool:
    """Whether article ``i`` stands before a singular noun (so that dropping it is an error)."""
    j = i + 2 if _tag(toks, i + 1) == "A" else i + 1
    return _tag(toks, j) == "W" or (_tag(toks, j) == "N" and toks[j][2][1] == "sg")


def _determiner(toks: list[tuple], r: random.Random, lex: dict):
    arts = [i for i in _where(toks, "D", lambda w, t, d: w.islower()) if _before_singular(toks, i)]
    some = _where(toks, "W", lambda w, t, d: w == "some" and toks[-1][0] == ".")
    some = [i for i in some if _tag(toks, i + 1) == "U"]
    cities = _where(toks, "NAME", lambda w, t, d: d == ("city",))
    cities = [i for i in cities if toks[i - 1][0] == "in"]
    bare = _where(toks, "BARE")
    options = arts + some + cities + bare
    if not options:
        return None
    i = r.choice(options)
    if i in cities or i in bare:
        return toks[:i] + [("the", "X", ())] + toks[i:]
    if i in some:
        return _put(toks, i, article(toks[i + 1][0]))
    word = toks[i][0]
    if word in ("a", "an") and r.random() < 0.4:
        return _put(toks, i, "an" if word == "a" else "a")
    return toks[:i] + toks[i + 1 :]


def _noun_number(toks: list[tuple], r: random.Random, lex: dict):
    def after_a(i: int) -> bool:
        return toks[i - 1][0] in ("a", "an") or (toks[i - 1][1] == "A" and toks[i - 2][0] in ("a", "an"))

    plural = _where(toks, "N", lambda w, t, d: d[1] == "pl" and d[2])
    single = [i for i in _where(toks, "N", lambda w, t, d: d[1] == "sg") if i >= 2 and after_a(i)]
    options = plural + single
    if not options:
        return None
    i = r.choice(options)
    lemma = toks[i][2][0]
    return _put(toks, i, lemma if i in plural else inflect(lemma, "NNS"))


def _uncountable(toks: list[tuple], r: random.Random, lex: dict):
    options = _where(toks, "U", lambda w, t, d: not w.endswith("s"))
    if not options:
        return None
    i = r.choice(options)
    return _put(toks, i, toks[i][0] + "s")


def _preposition(toks: list[tuple], r: random.Random, lex: dict):
    preps = _where(toks, "P", lambda w, t, d: d)
    extra = _where(toks, "V", lambda w, t, d: d[3])
    if not preps and not extra:
        return None
    i = r.choice(preps + extra)
    if i in extra:
        return toks[: i + 1] + [(toks[i][2][3], "X", ())] + toks[i + 1 :]
    if toks[i][0] in ("to", "for", "at") and r.random() < 0.35:
        return toks[:i] + toks[i + 1 :]
    return _put(toks, i, r.choice(toks[i][2]))


def _pronoun_case(toks: list[tuple], r: random.Random, lex: dict):
    subj = _where(toks, "S", lambda w, t, d: w.lower() in OBJECT_OF and w.lower() != "you")
    obj = _where(toks, "O", lambda w, t, d: w in SUBJECT_OF and w != "it")
    if not subj and not obj:
        return None
    i = r.choice(subj + obj)
    word = toks[i][0]
    if i in obj:
        return _put(toks, i, SUBJECT_OF[word])
    new = OBJECT_OF["I" if word == "I" else word.lower()]
    if word == "I" and i >= 2 and toks[i - 2][1] == "NAME" and r.random() < 0.5:
        me = (_cap(new) if i == 2 else new, "X", ())
        return toks[: i - 2] + [me, ("and", "W", ()), (toks[i - 2][0], "X", ())] + toks[i + 1 :]
    return _put(toks, i, new)


def _adjective_form(toks: list[tuple], r: random.Random, lex: dict):
    options = _where(toks, "CMP")
    if not options:
        return None
    i = r.choice(options)
    word, _, (adj, degree) = toks[i]
    naive = adj + (degree[1:] if adj.endswith("e") else degree)  # gooder, expensiver
    if adj in IRREGULAR_ADJ:
        wrong = r.choice((naive, ("more " if degree == "er" else "most ") + word))
    elif word.startswith(("more ", "most ")):
        wrong = naive
    else:
        wrong = r.choice(
            (("more " if degree == "er" else "most ") + adj, ("more " if degree == "er" else "most ") + word)
        )
    return _put(toks, i, wrong) if wrong != word else None


def _word_order(toks: list[tuple], r: random.Random, lex: dict):
    adj = [i for i in _where(toks, "A") if _tag(toks, i + 1) == "N"]
    adv = [
        i for i in _where(toks, "ADV") if _tag(toks, i + 1) == "V" and _tag(toks, i + 2) not in ("PUNCT", "")
    ]
    iq = _where(toks, "IQ")
    inv = [0] if toks[-1][0] == "?" and toks[0][1] in ("BE", "M", "HAVE") else []
    options = adj + adv + iq + inv
    if not options:
        return None
    i = r.choice(options)
    if i in adj or i in adv:
        return toks[:i] + [(toks[i + 1][0], "X", ()), (toks[i][0], "X", ())] + toks[i + 2 :]
    if i in iq:
        return _indirect_order(toks, i)
    s = next((j for j in range(1, len(toks)) if toks[j][1] == "V"), None)
    if s is None or s < 2:
        return None
    subj = [t for t in toks[1:s] if t[0] != "ever"]
    out = subj + [(_low(toks[0][0]), "X", ())] + [t for t in toks[1:s] if t[0] == "ever"] + toks[s:]
    return _recap(out, toks[0][0])


def _indirect_order(toks: list[tuple], i: int):
    """ "where the station is" -> "where is the station"; "where she lives" -> "where does she live"."""
    be = next((j for j in range(i + 1, len(toks)) if toks[j][1] == "BE"), None)
    if be is not None:
        return toks[: i + 1] + [(toks[be][0], "X", ())] + toks[i + 1 : be] + toks[be + 1 :]
    v = next((j for j in range(i + 1, len(toks)) if toks[j][1] == "V"), None)
    if v is None:
        return None
    lemma, form = toks[v][2][:2]
    do = "does" if form == "VBZ" else "do"
    return toks[: i + 1] + [(do, "X", ())] + toks[i + 1 : v] + [(lemma, "X", ())] + toks[v + 1 :]


def _misspell(word: str, r: random.Random, known: frozenset) -> str | None:
    if word in MISSPELLINGS and r.random() < 0.6:
        return MISSPELLINGS[word]
    for _ in range(4):
        i = r.randrange(len(word) - 1)
        edit = r.randrange(4)
        if edit == 0:
            new = word[:i] + word[i + 1 :]
        elif edit == 1:
            new = word[: i + 1] + word[i:]
        elif edit == 2:
            new = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            new = word[:i] + r.choice("aeioustnrl") + word[i + 1 :]
        if new != word and new not in known:
            return new
    return None


def _spelling(toks: list[tuple], r: random.Random, lex: dict):
    options = _where(toks, ("W", "N", "V", "A", "U", "ADV", "T", "D"), lambda w, t, d: len(w) >= 4)
    options = [i for i in options if toks[i][0].isalpha() and toks[i][0].islower()]
    if not options:
        return None
    i = r.choice(options)
    new = _misspell(toks[i][0], r, lex["words"])
    return _put(toks, i, new) if new else None


def _missing_word(toks: list[tuple], r: random.Random, lex: dict):
    to = _where(toks, "TO")
    be = _where(toks, "BE", lambda w, t, d: d[1] == "cont" and w in ("is", "are", "am"))
    be = [i for i in be if i and toks[i - 1][1] != "IQ"]
    lot = [i for i in _where(toks, "W", lambda w, t, d: w == "of") if toks[i - 1][0] == "lot"]
    options = to + be + lot
    if not options:
        return None
    i = r.choice(options)
    return toks[:i] + toks[i + 1 :]


def _extra_word(toks: list[tuple], r: random.Random, lex: dict):
    modal = [i for i in _where(toks, "M", lambda w, t, d: " " not in w) if _tag(toks, i + 1) == "V"]
    present = _where(toks, "V", lambda w, t, d: d[1] in ("VBZ", "VBP") and d[2])
    present = [i for i in present if toks[i - 1][1] not in ("ADV", "X")]
    options = modal + present
    if not options:
        return None
    i = r.choice(options)
    if i in modal:
        return toks[: i + 1] + [("to", "X", ())] + toks[i + 1 :]
    be = BE_PRESENT.get(toks[i][2][2], "are")
    return toks[:i] + [(be, "X", ())] + toks[i:]


def _capitalisation(toks: list[tuple], r: random.Random, lex: dict):
    proper = _where(toks, ("NAME", "S"), lambda w, t, d: (t == "NAME" or w == "I") and w[:1].isupper())
    first = [0] if toks[0][1] != "X" and toks[0][0][:1].isupper() and 0 not in proper else []
    options = proper + first
    if not options:
        return None
    i = r.choice(options)
    return toks[:i] + [(toks[i][0].lower(), "X", ())] + toks[i + 1 :]


def _punctuation(toks: list[tuple], r: random.Random, lex: dict):
    apos = _where(toks, ("DO", "M", "BE", "HAVE"), lambda w, t, d: w.lower() in CONTRACTIONS)
    end = [len(toks) - 1] if toks[-1][1] == "PUNCT" else []
    options = apos + end
    if not options:
        return None
    i = r.choice(options)
    if i in apos:
        return _put(toks, i, toks[i][0].replace("'", ""))
    return toks[:-1]


INJECTORS = {
    "verb_sva": _verb_sva,
    "verb_tense": _verb_tense,
    "verb_form": _verb_form,
    "do_support": _do_support,
    "determiner": _determiner,
    "noun_number": _noun_number,
    "uncountable": _uncountable,
    "preposition": _preposition,
    "pronoun_case": _pronoun_case,
    "adjective_form": _adjective_form,
    "word_order": _word_order,
    "spelling": _spelling,
    "missing_word": _missing_word,
    "extra_word": _extra_word,
    "capitalisation": _capitalisation,
    "punctuation": _punctuation,
}


@functools.lru_cache(maxsize=1)
def _applicability() -> dict[str, float]:
    """The share of generated sentences each kind of error applies to (measured on 400 sentences)."""
    r, lex = random.Random(0), lexicon()
    sentences = [sentence(r, lex) for _ in range(400)]
    return {
        k: max(sum(f(s, r, lex) is not None for s in sentences) / 400, 0.02) for k, f in INJECTORS.items()
    }


# the tags a sentence must have for a kind of error to apply (a quick test before trying it)
NEEDS = {
    "verb_sva": {"DO", "HAVE", "BE", "V"},
    "verb_tense": {"V"},
    "verb_form": {"V"},
    "do_support": {"DO"},
    "noun_number": {"N"},
    "uncountable": {"U"},
    "preposition": {"P", "V"},
    "pronoun_case": {"S", "O"},
    "adjective_form": {"CMP"},
    "missing_word": {"TO", "BE", "W"},
    "extra_word": {"M", "V"},
}


@functools.lru_cache(maxsize=1)
def _kinds_and_weights() -> tuple[tuple[str, ...], tuple[float, ...]]:
    share = _applicability()
    return tuple(KIND_WEIGHTS), tuple(KIND_WEIGHTS[k] / share[k] for k in KIND_WEIGHTS)


def _inject(toks: list[tuple], n: int, r: random.Random, lex: dict) -> tuple[list[tuple], list[str]]:
    """``toks`` with ``n`` errors of distinct kinds (fewer if fewer apply), and the kinds injected.

    A kind is drawn with weight ``KIND_WEIGHTS[kind] / applicability``, so that over many sentences each
    kind's share follows :data:`KIND_WEIGHTS` although some apply to few sentences."""
    kinds, weights = _kinds_and_weights()
    kinds, weights = list(kinds), list(weights)
    tags = {t for _, t, _ in toks}
    done: list[str] = []
    while len(done) < n and kinds:
        j = r.choices(range(len(kinds)), weights)[0]
        kind = kinds.pop(j)
        del weights[j]
        if kind in NEEDS and not NEEDS[kind] & tags:
            continue
        edited = INJECTORS[kind](toks, r, lex)
        if edited is not None and [t[0] for t in edited] != [t[0] for t in toks]:
            toks, done = edited, done + [kind]
    return toks, done


def _pair(r: random.Random, lex: dict) -> Pair:
    """One pair: a sentence of three words or more, and 0 to 3 errors (:data:`N_ERRORS_P`)."""
    toks = sentence(r, lex)
    while len(toks) < 4:
        toks = sentence(r, lex)
    correct = render(toks)
    learner, done = _inject(toks, r.choices(range(4), N_ERRORS_P)[0], r, lex)
    if not done:
        return correct, correct, ("clean",)
    return render(learner), correct, tuple(k for k in KINDS if k in done)


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def generate_pairs(n: int, rng: np.random.Generator) -> list[Pair]:
    """``n`` pairs ``(learner, correct, kinds)``, drawn from ``rng`` (a NumPy ``Generator``).

    The generator seeds a local ``random.Random`` from ``rng`` (one draw), so the same generator
    state gives the same pairs and the global random state is never touched.
    """
    n = _checks.integer("n", n, minimum=0)
    r = random.Random(int(_check_rng(rng).integers(2**63)))
    lex = lexicon()
    return [_pair(r, lex) for _ in range(n)]


def make_splits(n_train: int, n_test: int, seed: int) -> tuple[list[Pair], list[Pair]]:
    """``n_train`` training and ``n_test`` test pairs from ``seed``; no test learner sentence (and no
    input of :func:`learner_corpus_pairs`) occurs among the training learner sentences."""
    n_train = _checks.integer("n_train", n_train, minimum=0)
    n_test = _checks.integer("n_test", n_test, minimum=0)
    seed = _checks.integer("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    test = generate_pairs(n_test, rng)
    held_out = {p[0] for p in test} | {learner for learner, _ in learner_corpus_pairs()}
    train: list[Pair] = []
    while len(train) < n_train:
        batch = generate_pairs(n_train - len(train), rng)
        train += [p for p in batch if p[0] not in held_out]
    return train, test


# --- the hand-written pairs as natural text -----------------------------------------------------------
_PROPER = (
    {w.lower(): w for w in FIRST_NAMES + CITIES + DAYS + MONTHS + LANGUAGES}
    | {d.lower() + "s": d + "s" for d in DAYS}
    | {"i": "I", "tv": "TV", "i'm": "I'm", "i've": "I've"}
)


def naturalise(text: str) -> str:
    """A lower-case, space-separated sentence as natural text ("i not like coffee ." -> "I not like
    coffee.")."""
    words = [_PROPER.get(w, w) for w in text.split()]
    if words:
        words[0] = _cap(words[0])
    return render([(w, "PUNCT" if w in ".,?!" else "W", ()) for w in words])


def learner_corpus_pairs() -> list[tuple[str, str]]:
    """The project's hand-written (learner, correction) pairs (:func:`specdec.models.load_learner_corpus`)
    as natural text. A test set only: :func:`make_splits` keeps their inputs out of training data."""
    from specdec.models import load_learner_corpus

    return [(naturalise(a), naturalise(b)) for a, b in load_learner_corpus()]
