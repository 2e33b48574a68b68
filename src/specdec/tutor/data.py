"""Training data for the grammar tutor: correct sentences from a small grammar, errors injected by rule.

Everything is generated here from word lists written for this project, from a seed; nothing is
downloaded. A *pair* is ``(learner, correct, kind)``: two token lists (lower case, punctuation as its own
token, as :func:`specdec.models.tokenize` splits text) and the kind of error injected, one of
:data:`KINDS`. The rules, one per kind (each picks one applicable edit at random; a sentence where the
kind has nothing to edit is drawn again):

- ``agreement`` -- subject–verb agreement: a present-tense verb takes the other person's form
  (goes → go, go → goes, doesn't ↔ don't, is ↔ are, has ↔ have).
- ``tense`` -- a sentence anchored in the past (yesterday, last week, ...) gets its verb in the
  present (went → go), or a regular ending on an irregular verb (bought → buyed); a present perfect
  with since / for becomes a present (has worked → works).
- ``article`` -- a / an dropped (is a doctor → is doctor), swapped (an apple → a apple), or an
  extra ``the`` before an uncountable or a plural (plays football → plays the football).
- ``plural`` -- a plural noun after a number or quantifier becomes singular (two cats → two cat,
  many children → many child).
- ``preposition`` -- a fixed preposition is replaced by a typical wrong one or dropped
  (good at → good in, arrived at → arrived to, listening to music → listening music).
- ``word_order`` -- an adjective after its noun (a new phone → a phone new), a frequency adverb
  after the verb (always drinks → drinks always), a yes/no question left in statement order
  (is she at home ? → she is at home ?).
- ``spelling`` -- one word replaced by a common misspelling from :data:`MISSPELLINGS`.
- ``clean`` -- nothing changed: the tutor must copy the sentence.

:func:`make_splits` draws training and test pairs with disjoint *learner* sentences, so no held-out
input was seen in training (a few sentence shapes have only tens of variants, so their corrections
can recur: the test measures correcting unseen inputs, not writing unseen sentences).
"""

from __future__ import annotations

import numpy as np

from specdec import _checks

__all__ = ["KINDS", "KIND_WEIGHTS", "MISSPELLINGS", "Pair", "generate_pairs", "make_splits", "lexicon"]

Pair = tuple[list[str], list[str], str]

KINDS = ("agreement", "tense", "article", "plural", "preposition", "word_order", "spelling", "clean")
"""The kinds of pair, one per error rule, and ``clean`` (nothing to correct)."""
KIND_WEIGHTS = (0.13, 0.13, 0.12, 0.10, 0.12, 0.10, 0.10, 0.20)
"""Share of each kind in generated data (same order as :data:`KINDS`)."""

# --- the lexicon ----------------------------------------------------------------------------------
# subjects: (words, person) with person "1s", "2", "3s", "1p", "3p"
PRONOUNS = [("i", "1s"), ("you", "2"), ("he", "3s"), ("she", "3s"), ("we", "1p"), ("they", "3p")]
SINGULAR_NP = [
    "my sister",
    "my brother",
    "the teacher",
    "our neighbour",
    "my friend",
    "anna",
    "tom",
    "my mother",
    "my father",
    "my cousin",
    "the doctor",
    "the boy",
    "the girl",
    "maria",
    "the driver",
    "my uncle",
    "my aunt",
    "the student",
]
PLURAL_NP = [
    "my friends",
    "my parents",
    "the children",
    "the students",
    "our neighbours",
    "my cousins",
    "the teachers",
    "my brothers",
    "the girls",
    "the boys",
]

# verb: base, 3rd singular, past, past participle, wrong regular past (None if regular), objects
VERBS = {
    "go": (
        "goes",
        "went",
        "gone",
        "goed",
        ["to school", "to work", "to the park", "to the beach", "to the cinema", "home", "to the market"],
    ),
    "watch": ("watches", "watched", "watched", None, ["tv", "a film", "the news", "football"]),
    "walk": ("walks", "walked", "walked", None, ["the dog", "to school", "home", "to work"]),
    "play": ("plays", "played", "played", None, ["football", "tennis", "the piano", "chess"]),
    "cook": ("cooks", "cooked", "cooked", None, ["dinner", "a big dinner", "lunch", "pasta"]),
    "drink": ("drinks", "drank", "drunk", "drinked", ["tea", "coffee", "water", "milk"]),
    "work": ("works", "worked", "worked", None, ["in a bank", "at home", "in a shop", "in a school"]),
    "drive": ("drives", "drove", "driven", "drived", ["to work", "a car", "a bus", "to the market"]),
    "ride": ("rides", "rode", "ridden", "rided", ["a bike", "a horse"]),
    "speak": ("speaks", "spoke", "spoken", "speaked", ["french", "english", "spanish", "german"]),
    "like": ("likes", "liked", "liked", None, ["coffee", "music", "dogs", "football", "pizza", "tea"]),
    "study": ("studies", "studied", "studied", None, ["english", "math", "history", "french"]),
    "read": ("reads", "read", "read", "readed", ["books", "the news", "a book", "a letter"]),
    "get": ("gets", "got", "got", "getted", ["up early", "home late"]),
    "buy": (
        "buys",
        "bought",
        "bought",
        "buyed",
        ["a new phone", "a new bike", "bread", "a car", "some apples"],
    ),
    "take": ("takes", "took", "taken", "taked", ["the bus", "the train", "a photo"]),
    "eat": ("eats", "ate", "eaten", "eated", ["pizza", "meat", "an apple", "lunch", "bread"]),
    "see": ("sees", "saw", "seen", "seed", ["a film", "the doctor", "my friend", "the sea"]),
    "visit": ("visits", "visited", "visited", None, ["the museum", "my aunt", "the city", "our school"]),
    "meet": ("meets", "met", "met", "meeted", ["some friends", "the teacher", "my cousin"]),
    "forget": ("forgets", "forgot", "forgotten", "forgetted", ["the keys", "the name", "my phone"]),
    "write": ("writes", "wrote", "written", "writed", ["a letter", "an email", "a story"]),
    "have": ("has", "had", "had", "haved", ["a party", "lunch", "a shower", "breakfast"]),
    "make": ("makes", "made", "made", "maked", ["a cake", "breakfast", "a plan"]),
    "sing": ("sings", "sang", "sung", "singed", ["a song", "songs"]),
    "clean": ("cleans", "cleaned", "cleaned", None, ["the house", "the kitchen", "the car"]),
    "help": ("helps", "helped", "helped", None, ["my mother", "the teacher", "my friend"]),
    "call": ("calls", "called", "called", None, ["my mother", "the doctor", "my friend"]),
    "open": ("opens", "opened", "opened", None, ["the window", "the door", "the shop"]),
    "find": ("finds", "found", "found", "finded", ["the keys", "a job", "my phone"]),
}
UNCOUNTABLE = {
    "football",
    "tennis",
    "chess",
    "coffee",
    "tea",
    "water",
    "milk",
    "music",
    "bread",
    "meat",
    "pizza",
    "math",
    "history",
    "english",
    "french",
    "spanish",
    "german",
    "dinner",
    "lunch",
    "breakfast",
    "pasta",
    "tv",
}
TIME_PRESENT = [
    "every day",
    "every morning",
    "in the evening",
    "at the weekend",
    "on sundays",
    "after work",
    "every week",
    "in the morning",
]
TIME_PAST = [
    "yesterday",
    "last week",
    "last night",
    "last summer",
    "on monday",
    "two days ago",
    "last year",
    "on friday",
    "three days ago",
]
ADVERBS = ["always", "often", "never", "usually", "sometimes"]
JOBS = [
    "artist",
    "engineer",
    "doctor",
    "teacher",
    "waiter",
    "architect",
    "driver",
    "cook",
    "student",
    "nurse",
    "actor",
    "pilot",
    "farmer",
    "singer",
    "officer",
]
THINGS = [
    "cat",
    "dog",
    "car",
    "bike",
    "umbrella",
    "house",
    "computer",
    "job",
    "idea",
    "apple",
    "phone",
    "book",
    "garden",
    "orange",
    "egg",
    "bag",
]
ADJECTIVES = ["big", "old", "new", "small", "nice", "red", "good"]
PLURALS = {
    "cat": "cats",
    "dog": "dogs",
    "car": "cars",
    "bike": "bikes",
    "idea": "ideas",
    "apple": "apples",
    "book": "books",
    "child": "children",
    "friend": "friends",
    "egg": "eggs",
    "bag": "bags",
    "phone": "phones",
    "house": "houses",
    "orange": "oranges",
    "person": "people",
    "man": "men",
    "woman": "women",
    "box": "boxes",
    "key": "keys",
}
QUANTIFIERS = ["two", "three", "four", "five", "many", "some"]
# (correct phrase, wrong variants): a fixed preposition after an adjective or verb
PREPOSITIONS = [
    ("good at math", ["good in math", "good on math"]),
    ("good at tennis", ["good in tennis", "good on tennis"]),
    ("interested in music", ["interested on music", "interested for music"]),
    ("interested in history", ["interested on history", "interested about history"]),
    ("afraid of dogs", ["afraid from dogs", "afraid for dogs"]),
    ("afraid of the dark", ["afraid from the dark"]),
    ("married to a doctor", ["married with a doctor"]),
    ("married to a teacher", ["married with a teacher"]),
    ("waiting for you", ["waiting you", "waiting to you"]),
    ("waiting for the bus", ["waiting the bus", "waiting to the bus"]),
    ("listening to music", ["listening music", "listening at music"]),
    ("listening to the radio", ["listening the radio"]),
    ("thinking about the problem", ["thinking on the problem"]),
    ("thinking about the party", ["thinking on the party"]),
    ("proud of her son", ["proud on her son", "proud for her son"]),
    ("looking at the picture", ["looking the picture", "looking on the picture"]),
]
BE = {"1s": "am", "2": "are", "3s": "is", "1p": "are", "3p": "are"}
ARRIVALS = [
    ("arrived at the station", ["arrived to the station"]),
    ("arrived at the airport", ["arrived to the airport"]),
    ("arrived in london", ["arrived to london"]),
    ("depends on the weather", ["depends of the weather", "depends from the weather"]),
]
# prepositions of time and place inside fixed time phrases (the learner's variants)
TIME_PREPOSITIONS = {
    "on sundays": ["in sundays", "at sundays"],
    "at the weekend": ["in the weekend"],
    "in the evening": ["at the evening", "on the evening"],
    "in the morning": ["at the morning", "on the morning"],
    "on monday": ["in monday", "at monday"],
    "on friday": ["in friday", "at friday"],
    "to school": ["at school"],
    "to work": ["at work"],
    "to the park": ["in the park"],
    "to the beach": ["at the beach"],
    "in a bank": ["at a bank"],
}
COMPARATIVES = {
    "big": "bigger",
    "easy": "easier",
    "small": "smaller",
    "old": "older",
    "fast": "faster",
    "cheap": "cheaper",
    "nice": "nicer",
    "large": "larger",
}
COMPARE_SUBJECTS = [
    "my house",
    "the city",
    "the new car",
    "her phone",
    "this book",
    "our garden",
    "the old bike",
    "his room",
]
PERFECT = [
    ("know", "known", "him"),
    ("work", "worked", "here"),
    ("live", "lived", "in london"),
    ("be", "been", "ill"),
    ("be", "been", "in london"),
    ("study", "studied", "english"),
]
PERFECT_PRESENT = {
    "know": ("knows", "know"),
    "work": ("works", "work"),
    "live": ("lives", "live"),
    "be": ("is", "am"),
    "study": ("studies", "study"),
}
SINCE_FOR = [
    "since january",
    "since monday",
    "since last year",
    "for three years",
    "for a long time",
    "for two weeks",
    "since 2020",
]
QUESTION_PLACES = ["at home", "at school", "at work", "in london", "ready", "happy", "tired", "late"]
MISSPELLINGS = {
    "because": ["becuase", "becouse"],
    "friend": ["freind", "frend"],
    "friends": ["freinds"],
    "tomorrow": ["tommorow", "tomorow"],
    "school": ["shcool", "scool"],
    "really": ["realy"],
    "weekend": ["wekend", "weeknd"],
    "coffee": ["cofee", "coffe"],
    "teacher": ["teatcher", "techer"],
    "doctor": ["docter", "doctr"],
    "morning": ["mornig", "morming"],
    "evening": ["evenning", "evning"],
    "dinner": ["diner", "dinnr"],
    "music": ["musik", "muisc"],
    "english": ["englsh", "inglish"],
    "beautiful": ["beatiful", "beautifull"],
    "always": ["allways", "alway"],
    "usually": ["usualy"],
    "sometimes": ["somtimes", "sometime"],
    "brother": ["brohter", "bruther"],
    "sister": ["sistr", "siter"],
    "mother": ["mothr", "mather"],
    "father": ["fahter", "fater"],
    "yesterday": ["yesteday", "yestrday"],
    "football": ["fotball", "footbal"],
    "people": ["poeple", "peple"],
    "children": ["childern", "chilren"],
    "different": ["diferent"],
    "museum": ["musuem", "museam"],
    "neighbour": ["neighbor", "nieghbour"],
    "library": ["libary"],
    "beach": ["beech"],
    "house": ["hose"],
    "letter": ["leter"],
    "which": ["wich"],
    "with": ["whit"],
    "their": ["thier"],
    "keys": ["keyes"],
    "water": ["watter"],
    "station": ["stasion"],
    "language": ["langauge"],
    "restaurant": ["restaurent"],
    "favourite": ["favorite", "favourit"],
    "weather": ["wether"],
    "market": ["markt"],
    "interested": ["intrested"],
    "problem": ["problme"],
    "breakfast": ["breakfest"],
    "kitchen": ["kitchin"],
    "window": ["windoe"],
    "studies": ["studys"],
}
"""Correct word -> the misspellings the ``spelling`` rule writes for it."""
EXTRA_CLEAN = [  # a few fixed sentences that use the rest of the misspelling list correctly
    "i like this restaurant because the food is good .",
    "my favourite language is english .",
    "the weather is beautiful today .",
    "we go to the library tomorrow .",
    "their house is different .",
    "which book do you want ?",
    "i really like my neighbour .",
    "the people in my street are nice .",
    "she goes to the beach with her friends .",
]


def lexicon() -> set[str]:
    """Every word the generator can write, correct or wrong (the tokenizer's vocabulary is built on it)."""
    words: set[str] = set()
    for text in _all_phrases():
        words.update(text.split())
    return words


def _all_phrases() -> list[str]:
    out = [w for w, _ in PRONOUNS] + SINGULAR_NP + PLURAL_NP + TIME_PRESENT + TIME_PAST + ADVERBS + JOBS
    out += THINGS + ADJECTIVES + list(PLURALS) + list(PLURALS.values()) + QUANTIFIERS + list(BE.values())
    for base, (s3, past, part, wrong, objs) in VERBS.items():
        out += [base, s3, past, part, "doesn't", "don't", "does", "do", "did", "didn't"] + objs
        out += [wrong] if wrong else []
    for good, bad in PREPOSITIONS + ARRIVALS:
        out += [good, *bad]
    for good, bad in TIME_PREPOSITIONS.items():
        out += [good, *bad]
    out += list(COMPARATIVES) + list(COMPARATIVES.values()) + COMPARE_SUBJECTS + ["more", "than", "yours"]
    for base, part, rest in PERFECT:
        out += [base, part, rest, *PERFECT_PRESENT[base], "has", "have"]
    out += (
        SINCE_FOR
        + QUESTION_PLACES
        + EXTRA_CLEAN
        + [
            "a",
            "an",
            "the",
            ".",
            "?",
            "the",
            "what",
            "where",
            "want",
            "live",
            "lives",
            "agree",
            "with",
            "us",
            "now",
            "it",
        ]
    )
    for good, bad in MISSPELLINGS.items():
        out += [good, *bad]
    return out


# --- the sentence grammar -------------------------------------------------------------------------
# A sentence is built as a list of *chunks* (strings of words); each error rule edits chunks it knows by
# their tag, so a rule never has to parse a finished sentence. Sentence = list of (tag, text).


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def _subject(rng, plural: bool | None = None):
    """(tag-chunk, person): a pronoun a third of the time, else a noun phrase."""
    if plural is None and rng.random() < 0.35:
        word, person = _pick(rng, PRONOUNS)
        return word, person
    if plural is None:
        plural = rng.random() < 0.3
    return (_pick(rng, PLURAL_NP), "3p") if plural else (_pick(rng, SINGULAR_NP), "3s")


def _other_person(person: str) -> str:
    return "1p" if person == "3s" else "3s"


def _present(base: str, person: str) -> str:
    return VERBS[base][0] if person == "3s" else base


def _s_present(rng):
    subj, person = _subject(rng)
    base = _pick(rng, list(VERBS))
    obj = _pick(rng, VERBS[base][4])
    chunks = [("subj", subj)]
    if rng.random() < 0.25:
        chunks.append(("adverb", _pick(rng, ADVERBS)))
    chunks += [("verb", _present(base, person)), ("obj", obj)]
    if rng.random() < 0.7:
        chunks.append(("time", _pick(rng, TIME_PRESENT)))
    return chunks + [("end", ".")], {"person": person, "base": base, "tense": "present"}


def _s_negative(rng):
    subj, person = _subject(rng)
    base = _pick(rng, list(VERBS))
    aux = "doesn't" if person == "3s" else "don't"
    chunks = [("subj", subj), ("aux", aux), ("verb_base", base), ("obj", _pick(rng, VERBS[base][4]))]
    if rng.random() < 0.4:
        chunks.append(("time", _pick(rng, TIME_PRESENT)))
    return chunks + [("end", ".")], {"person": person, "base": base, "tense": "negative"}


def _s_past(rng):
    subj, person = _subject(rng)
    base = _pick(rng, list(VERBS))
    time = _pick(rng, TIME_PAST)
    core = [("subj", subj), ("verb", VERBS[base][1]), ("obj", _pick(rng, VERBS[base][4]))]
    chunks = [("time", time), *core] if rng.random() < 0.6 else [*core, ("time", time)]
    return chunks + [("end", ".")], {"person": person, "base": base, "tense": "past"}


def _s_job(rng):
    subj, person = _subject(rng, plural=False) if rng.random() < 0.75 else ("i", "1s")
    job = _pick(rng, JOBS)
    chunks = [
        ("subj", subj),
        ("be", BE[person]),
        ("article", "an" if job[0] in "aeiou" else "a"),
        ("noun", job),
    ]
    return chunks + [("end", ".")], {"person": person}


def _s_have(rng):
    subj, person = _subject(rng)
    have = "has" if person == "3s" else "have"
    thing = _pick(rng, THINGS)
    chunks = [("subj", subj), ("have", have)]
    if rng.random() < 0.45:
        adj = _pick(rng, ADJECTIVES)
        chunks += [("article", "an" if adj[0] in "aeiou" else "a"), ("adj", adj), ("noun", thing)]
    else:
        chunks += [("article", "an" if thing[0] in "aeiou" else "a"), ("noun", thing)]
    return chunks + [("end", ".")], {"person": person}


def _s_plural(rng):
    subj, person = _subject(rng)
    have = "has" if person == "3s" else "have"
    noun = _pick(rng, [n for n in PLURALS if n not in ("friend", "person", "man", "woman", "key", "box")])
    chunks = [("subj", subj), ("have", have), ("quant", _pick(rng, QUANTIFIERS)), ("plural", PLURALS[noun])]
    return chunks + [("end", ".")], {"person": person, "singular": noun}


def _s_preposition(rng):
    subj, person = _subject(rng)
    if rng.random() < 0.75:
        good, bad = _pick(rng, PREPOSITIONS)
        verb_like = good.split()[0] in ("waiting", "listening", "thinking", "looking")
        chunks = [("subj", subj), ("be", BE[person]), ("prep", good)]
        if verb_like and rng.random() < 0.3:
            chunks.append(("time", "now"))
    else:
        good, bad = _pick(rng, ARRIVALS)
        if good.startswith("depends"):
            subj, person = "it", "3s"
        chunks = [("subj", subj), ("prep", good)]
    return chunks + [("end", ".")], {"person": person, "wrong": bad}


def _s_perfect(rng):
    subj, person = _subject(rng)
    if person == "2":
        subj, person = "i", "1s"
    base, part, rest = _pick(rng, PERFECT)
    aux = "has" if person == "3s" else "have"
    chunks = [
        ("subj", subj),
        ("have", aux),
        ("participle", part),
        ("obj", rest),
        ("since", _pick(rng, SINCE_FOR)),
    ]
    return chunks + [("end", ".")], {"person": person, "base": base}


def _s_question(rng):
    subj, person = _pick(rng, PRONOUNS[1:]) if rng.random() < 0.5 else (_pick(rng, SINGULAR_NP), "3s")
    chunks = [("be", BE[person]), ("subj", subj), ("place", _pick(rng, QUESTION_PLACES)), ("end", "?")]
    return chunks, {"person": person, "question": True}


def _s_comparative(rng):
    adj = _pick(rng, list(COMPARATIVES))
    chunks = [
        ("subj", _pick(rng, COMPARE_SUBJECTS)),
        ("be", "is"),
        ("comparative", COMPARATIVES[adj]),
        ("obj", "than yours"),
        ("end", "."),
    ]
    return chunks, {"person": "3s"}


def _s_fixed(rng):
    return [("fixed", _pick(rng, EXTRA_CLEAN)[:-2]), ("end", ".")], {}


SHAPES = [
    (_s_present, 0.24),
    (_s_negative, 0.08),
    (_s_past, 0.2),
    (_s_job, 0.08),
    (_s_have, 0.1),
    (_s_plural, 0.08),
    (_s_preposition, 0.1),
    (_s_perfect, 0.05),
    (_s_question, 0.03),
    (_s_comparative, 0.03),
    (_s_fixed, 0.01),
]


def _sentence(rng: np.random.Generator):
    shapes, weights = zip(*SHAPES)
    i = int(rng.choice(len(shapes), p=np.array(weights) / sum(weights)))
    return shapes[i](rng)


def _words(chunks) -> list[str]:
    return " ".join(text for _, text in chunks).split()


# --- the error rules ------------------------------------------------------------------------------
# Each takes (chunks, info, rng) and returns edited chunks, or None when it has nothing to edit.


def _replace(chunks, i, text):
    out = list(chunks)
    out[i] = (out[i][0], text)
    return out


def _find(chunks, tag):
    return [i for i, (t, _) in enumerate(chunks) if t == tag]


def _err_agreement(chunks, info, rng):
    person = info.get("person")
    if person is None:
        return None
    options = []
    if info.get("tense") == "present":
        i = _find(chunks, "verb")[0]
        options.append((i, _present(info["base"], _other_person(person))))
    for i in _find(chunks, "aux"):
        options.append((i, {"doesn't": "don't", "don't": "doesn't"}[chunks[i][1]]))
    for i in _find(chunks, "be"):
        if not info.get("question"):
            options.append((i, {"is": "are", "are": "is", "am": "is"}[chunks[i][1]]))
    for i in _find(chunks, "have"):
        options.append((i, {"has": "have", "have": "has"}[chunks[i][1]]))
    if not options:
        return None
    i, text = _pick(rng, options)
    return _replace(chunks, i, text)


def _err_tense(chunks, info, rng):
    if info.get("tense") == "past":
        i = _find(chunks, "verb")[0]
        base = info["base"]
        wrong = VERBS[base][3]
        options = [_present(base, info["person"])] + ([wrong] if wrong else [])
        return _replace(chunks, i, _pick(rng, options))
    if _find(chunks, "participle"):
        i, j = _find(chunks, "have")[0], _find(chunks, "participle")[0]
        s3, other = PERFECT_PRESENT[info["base"]]
        present = (
            s3
            if info["person"] == "3s"
            else (
                "am"
                if info["base"] == "be" and info["person"] == "1s"
                else ("are" if info["base"] == "be" else other)
            )
        )
        out = _replace(chunks, j, present)
        return out[:i] + out[i + 1 :]
    return None


def _err_article(chunks, info, rng):
    options = []
    for i in _find(chunks, "article"):
        options.append(("drop", i))
        options.append(("swap", i))
    for i in _find(chunks, "obj"):
        words = chunks[i][1].split()
        if len(words) == 1 and words[0] in UNCOUNTABLE:
            options.append(("extra", i))
    if not options:
        return None
    how, i = _pick(rng, options)
    if how == "drop":
        return chunks[:i] + chunks[i + 1 :]
    if how == "swap":
        return _replace(chunks, i, "a" if chunks[i][1] == "an" else "an")
    return _replace(chunks, i, "the " + chunks[i][1])


def _err_plural(chunks, info, rng):
    if "singular" not in info:
        return None
    return _replace(chunks, _find(chunks, "plural")[0], info["singular"])


def _err_preposition(chunks, info, rng):
    options = []
    for i in _find(chunks, "prep"):
        options += [(i, bad) for bad in info["wrong"]]
    for tag in ("time", "obj"):
        for i in _find(chunks, tag):
            for good, bads in TIME_PREPOSITIONS.items():
                if chunks[i][1] == good:
                    options += [(i, bad) for bad in bads]
    if not options:
        return None
    i, text = _pick(rng, options)
    return _replace(chunks, i, text)


def _err_word_order(chunks, info, rng):
    options = []
    adj, noun = _find(chunks, "adj"), _find(chunks, "noun")
    if adj:
        options.append("adjective")
    if _find(chunks, "adverb"):
        options.append("adverb")
    if info.get("question"):
        options.append("question")
    if not options:
        return None
    how = _pick(rng, options)
    out = list(chunks)
    if how == "adjective":
        i, j = adj[0], noun[0]
        out[i], out[j] = out[j], out[i]
    elif how == "adverb":
        i = _find(chunks, "adverb")[0]
        out[i], out[i + 1] = out[i + 1], out[i]  # adverb after the verb
    else:
        out[0], out[1] = out[1], out[0]  # be subj -> subj be
    return out


def _err_spelling(chunks, info, rng):
    words = _words(chunks)
    where = [i for i, w in enumerate(words) if w in MISSPELLINGS]
    if not where:
        return None
    i = _pick(rng, where)
    words[i] = _pick(rng, MISSPELLINGS[words[i]])
    return [("fixed", " ".join(words))]


RULES = {
    "agreement": _err_agreement,
    "tense": _err_tense,
    "article": _err_article,
    "plural": _err_plural,
    "preposition": _err_preposition,
    "word_order": _err_word_order,
    "spelling": _err_spelling,
    "clean": lambda chunks, info, rng: chunks,
}


def _pair(kind: str, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """One (learner, correct) pair of ``kind``: sentences are drawn until the rule finds something to edit."""
    while True:
        chunks, info = _sentence(rng)
        wrong = RULES[kind](chunks, info, rng)
        if wrong is not None:
            learner, correct = _words(wrong), _words(chunks)
            if kind == "clean" or learner != correct:
                return learner, correct


def generate_pairs(
    n: int, seed: int, *, exclude: set[tuple[str, ...]] | frozenset = frozenset()
) -> list[Pair]:
    """``n`` pairs, kinds drawn with :data:`KIND_WEIGHTS`, from ``numpy.random.default_rng(seed)``.

    A pair whose learner sentence is in ``exclude`` (tuples of words) is drawn again.
    """
    n = _checks.integer("n", n, 0, None)
    seed = _checks.integer("seed", seed, 0, None)
    rng = np.random.default_rng(seed)
    kinds = rng.choice(len(KINDS), size=n, p=np.array(KIND_WEIGHTS) / sum(KIND_WEIGHTS))
    out: list[Pair] = []
    for k in kinds:
        while True:
            learner, correct = _pair(KINDS[k], rng)
            if tuple(learner) not in exclude:
                break
        out.append((learner, correct, KINDS[k]))
    return out


def make_splits(n_train: int, n_test: int, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Test pairs first (seed ``seed``), then training pairs (seed ``seed + 1``) whose learner sentences
    are not among the test pairs' learner sentences: no held-out input is seen in training."""
    test = generate_pairs(n_test, seed)
    held_out = frozenset(tuple(learner) for learner, _, _ in test)
    return generate_pairs(n_train, seed + 1, exclude=held_out), test
