"""Deterministic generator of a *preference memory* dev set in LoCoMo format.

Why this exists: the preference set we are scored on is held out, so we cannot tune against
it. This module writes a stand-in with the same shape and the same difficulty: each user
states about 250 explicit preferences, one per session, buried among unrelated chat (code
help, trivia, small talk, recipes, history), and each question *implies* one preference
without sharing a content word with the turn that stated it ("Can you suggest a few places
for dinner in Rome?" for a user who said "I've been gluten-free since my celiac diagnosis").
A retriever that only matches words finds nothing; lexical distractors (Roman history
trivia, a Python bug) are there on purpose, and every user has preferences in every domain,
so several turns are plausible for a question while one is clearly best.

Each user is one LoCoMo sample (``speaker_a`` the user, ``speaker_b`` "Assistant"), each
question has ``category`` 4 and exactly one evidence turn, the one that stated the
preference. The no-shared-words rule is enforced in code twice: :func:`check_bank` proves
every statement/question pair of the bank (all slot fillings included) is clean before
anything is generated, and :func:`check` re-proves it on the generated data together with
the evidence ids, so a bank edit that breaks the rule cannot produce a file.

Content and licence: every text comes from :mod:`benchmarks.prefset_bank`, original text
written by hand for this project (no data set, web text or model output was copied), and is
released under the project's licence, Apache-2.0, like the rest of the repository.

Stdlib only, fully offline, deterministic for a seed (one ``random.Random(seed)``).

Run::

    python -m benchmarks.prefset --out benchmarks/data/prefset_dev.json \\
        [--users 4] [--prefs 250] [--questions 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import prefset_bank as bank

# -- the no-shared-content-words rule ---------------------------------------------------------

_STOPWORD_TEXT = """
    a about above after again against all also am an and any anyone anything anyway anywhere
    are around as at be because been before being below between both but by can could did do
    does doing done down during each either else even ever every everyone everything few for
    from further get gets getting go goes going got had has have having he her here hers
    herself him himself his how i if in into is it its itself just know let like lot lots made
    make may maybe me might mine more most much must my myself need no nor not now of off oh
    ok okay on once one ones only or other others our ours ourselves out over own please
    pretty quite rather really same she should so some someone something somewhere still such
    than thank thanks that the their theirs them themselves then there these they thing things
    think this those though through to too under until up us very want was way we well were
    what whatever when where whether which while who whom whose why will with within without
    would yeah yes yet you your yours yourself yourselves
    im ive id ill youre youve youd youll hes shes theyre theyve weve dont doesnt didnt
    cant couldnt wont wouldnt shouldnt isnt arent wasnt werent hasnt havent hadnt lets thats
    theres whats whos heres
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Function words, contraction forms (apostrophes are dropped first) and conversational
filler: words that carry no preference content. One-letter tokens ("a.m." gives "a", "m")
are dropped too, in :func:`content_words`."""

_TOKEN = re.compile(r"[^\W_]+")
_PREFIX = 6
"""Two stems that agree on their first six letters count as shared too ("allergic" /
"allergy", "vegetarian" / "vegetables"): a crude stemmer misses those, an honest set must
not let them through."""


def _stem(word: str) -> str:
    """Crude suffix stripping (plural, then -ing / -ed / -ly), enough to make "flying",
    "flies" and "fly" or "bakes", "baked" and "baking" meet; deliberately simple so the rule
    is easy to predict while writing the bank."""
    w = word
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith("es") and w[:-2].endswith(("s", "x", "z", "ch", "sh", "o")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    stripped = False
    for suffix in ("ing", "ied", "ed", "ly"):
        rest = w[: -len(suffix)]
        if not w.endswith(suffix) or len(rest) < 3 or not re.search(r"[aeiouy]", rest):
            continue
        if suffix == "ed" and rest.endswith("e"):  # "speed", "need"
            continue
        if suffix == "ly" and (len(rest) < 4 or rest.endswith("i")):  # "family", "daily"
            continue
        w = rest + ("y" if suffix == "ied" else "")
        stripped = suffix in ("ing", "ed")
        break
    if stripped and len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsfz":  # running, planned
        w = w[:-1]
    if len(w) > 3 and w.endswith("e"):  # bake / baked / baking
        w = w[:-1]
    return w


def content_words(text: str) -> set[str]:
    """Stems of the content words of ``text``: lowercased, apostrophes dropped ("I've" is
    "ive", a stopword), split on anything that is not a letter or digit, stopwords and
    one-letter tokens removed."""
    tokens = _TOKEN.findall(text.lower().replace("\u2019", "'").replace("'", ""))
    return {_stem(t) for t in tokens if len(t) > 1 and t not in STOPWORDS}


def shared_words(a: Iterable[str] | str, b: Iterable[str] | str) -> set[str]:
    """Content stems two texts (or two stem sets) have in common, counting stems that agree
    on their first six letters."""
    sa = content_words(a) if isinstance(a, str) else set(a)
    sb = content_words(b) if isinstance(b, str) else set(b)
    shared = sa & sb
    prefixes = {s[:_PREFIX] for s in sb if len(s) >= _PREFIX}
    shared |= {s for s in sa if len(s) >= _PREFIX and s[:_PREFIX] in prefixes}
    return shared


# -- the bank must satisfy the rule before anything is generated --------------------------------

_SLOT = re.compile(r"\{(\w+)\}")
_SELF_PREFERENCE = re.compile(
    r"\b(i|i'm|im|i've|we)\s+(really\s+)?(love|like|hate|prefer|adore|enjoy|can't stand|"
    r"am allergic|allergic|always|never|usually)\b|\bmy favou?rite\b|\bi'm (a|an)\s+\w+\s+"
    r"(person|fan|lover)\b|\bi'm (vegan|vegetarian|allergic)",
    re.IGNORECASE,
)
"""What a self-preference sounds like; unrelated chat must not say it (the only preference in
a session is the one the evidence points at)."""


def _template_words(template: str) -> set[str]:
    """Content stems of a template and of every value its slots can take: checking against
    this union proves all fillings at once."""
    words = content_words(_SLOT.sub(" ", template))
    for slot in _SLOT.findall(template):
        for value in bank.SLOTS[slot]:
            words |= content_words(value)
    return words


def check_bank() -> dict[str, int]:
    """Raise ``ValueError`` unless the bank can only produce clean data: no statement and
    question of an item share a content word under any slot filling, no slot is shared by a
    statement and a question (its value would be a shared word), answers use only slots every
    statement fills, lead-ins carry no content, and no unrelated chat turn of the user states
    a preference. Returns the bank's sizes."""
    problems: list[str] = []
    keys: set[str] = set()
    names = [n for item in bank.PREFERENCES for n in {item.key, item.group, *item.conflicts}]
    all_keys = {item.key for item in bank.PREFERENCES}
    for item in bank.PREFERENCES:
        dangling = [n for n in (item.group, *item.conflicts) if n not in all_keys]
        dangling = [n for n in dangling if names.count(n) < 2]
        if dangling:  # a group or clash nothing else has: a typo
            problems.append(f"{item.key}: group or conflict names no other item: {dangling}")
        if item.key in keys:
            problems.append(f"{item.key}: duplicate key")
        keys.add(item.key)
        if len(item.statements) < 2 or len(item.questions) < 2:
            problems.append(f"{item.key}: needs >= 2 statements and >= 2 questions")
        unknown = {
            slot
            for text in (*item.statements, *item.questions, item.answer)
            for slot in _SLOT.findall(text)
            if slot not in bank.SLOTS
        }
        if unknown:
            problems.append(f"{item.key}: unknown slots {sorted(unknown)}")
            continue
        answer_slots = set(_SLOT.findall(item.answer))
        for st in item.statements:
            if not answer_slots <= set(_SLOT.findall(st)):
                problems.append(f"{item.key}: answer slots missing from statement {st!r}")
        for st in item.statements:
            st_words = _template_words(st)
            for q in item.questions:
                both = set(_SLOT.findall(st)) & set(_SLOT.findall(q))
                if both:
                    problems.append(f"{item.key}: slot {sorted(both)} in statement and question")
                if shared := shared_words(st_words, _template_words(q)):
                    problems.append(f"{item.key}: {sorted(shared)} shared by {st!r} / {q!r}")
    for lead in bank.LEAD_INS:
        if content_words(lead):
            problems.append(f"lead-in {lead!r} has content words {content_words(lead)}")
    user_turns = [u for ex in bank.CHAT for u, _ in ex.pairs]
    user_turns += [q for family in bank.FACT_TEMPLATES.values() for q, _ in family]
    for text in user_turns:
        if _SELF_PREFERENCE.search(text):
            problems.append(f"chat user turn states a preference: {text!r}")
    if problems:
        raise ValueError("prefset bank: " + "; ".join(problems[:40]) + f" ({len(problems)})")
    return {
        "preference_items": len(bank.PREFERENCES),
        "groups": len({item.group for item in bank.PREFERENCES}),
        "domains": len({item.domain for item in bank.PREFERENCES}),
        "statements": sum(len(item.statements) for item in bank.PREFERENCES),
        "questions": sum(len(item.questions) for item in bank.PREFERENCES),
        "chat_exchanges": len(bank.CHAT),
    }


# -- generation -------------------------------------------------------------------------------


@dataclass
class _Stated:
    """One preference as a user stated it: the item, its slot values, where it was said."""

    item: bank.PrefItem
    fills: dict[str, str]
    dia_id: str
    asked: list[int]  # indices of the item's questions already used for this user


def _fill(template: str, fills: dict[str, str], rng: random.Random) -> str:
    """Replace ``{slot}`` by its value, drawing (and remembering in ``fills``) the ones not
    chosen yet, so a statement and its answer name the same instrument or city."""

    def value(match: re.Match[str]) -> str:
        slot = match.group(1)
        if slot not in fills:
            fills[slot] = rng.choice(bank.SLOTS[slot])
        return fills[slot]

    return _SLOT.sub(value, template)


def _pick_items(rng: random.Random, count: int) -> list[bank.PrefItem]:
    """``count`` items, at most one per group (no vegan who loves steak), at least one per
    domain so every user has preferences everywhere, in random order."""
    by_domain: dict[str, list[bank.PrefItem]] = {}
    for item in bank.PREFERENCES:
        by_domain.setdefault(item.domain, []).append(item)
    taken: set[str] = set()
    chosen: list[bank.PrefItem] = []

    def take(item: bank.PrefItem) -> bool:
        if len(chosen) >= count or taken & item.exclusive:
            return False
        taken.update(item.exclusive)
        chosen.append(item)
        return True

    for domain in sorted(by_domain):
        for item in rng.sample(by_domain[domain], len(by_domain[domain])):
            if take(item):
                break
    for item in rng.sample(bank.PREFERENCES, len(bank.PREFERENCES)):
        take(item)
    if len(chosen) < count:
        raise ValueError(f"the bank gives at most {len(chosen)} compatible preferences a user")
    rng.shuffle(chosen)
    return chosen


def _fact_exchange(rng: random.Random) -> tuple[str, str, str]:
    """One unrelated question-and-answer pair computed from a fact table or arithmetic, and
    its subject (so a session does not ask the same capital twice): cheap variety so the
    hand-written chat does not repeat too often in a 250-session user."""
    family = rng.choice(sorted(bank.FACT_TEMPLATES))
    user, reply = rng.choice(bank.FACT_TEMPLATES[family])
    values: dict[str, Any]
    if family == "capital":
        country, capital = rng.choice(bank.CAPITALS)
        values = {"country": country, "capital": capital}
    elif family == "element":
        name, symbol, number = rng.choice(bank.ELEMENTS)
        values = {"element": name, "symbol": symbol, "number": number}
    elif family == "miles":
        miles = rng.choice((3, 5, 8, 10, 13.1, 15, 26.2, 30, 50, 120))
        values = {"miles": miles, "km": round(miles * 1.609344, 1)}
    elif family == "fahrenheit":
        f = rng.randrange(-10, 105, 5)
        values = {"f": f, "c": round((f - 32) * 5 / 9, 1)}
    elif family == "pounds":
        lb = rng.choice((1, 2, 5, 8, 12, 25, 40, 150, 180))
        values = {"lb": lb, "kg": round(lb * 0.45359237, 2)}
    elif family == "percent":
        p, n = rng.choice((5, 12, 15, 18, 20, 25, 35, 40, 65)), rng.randrange(40, 2000, 20)
        values = {"p": p, "n": n, "r": f"{p * n / 100:g}"}
    elif family == "split":
        total, k = rng.randrange(60, 400), rng.randint(2, 8)
        values = {"total": total, "k": k, "each": f"{total / k:.2f}"}
    elif family == "multiply":
        a, b = rng.randint(12, 99), rng.randint(12, 99)
        values = {"a": a, "b": b, "r": a * b}
    else:
        raise ValueError(f"no values for fact family {family!r}")
    subject = f"{family}:{values.get('country') or values.get('element') or sorted(values.items())}"
    return user.format(**values), reply.format(**values), subject


class _ChatDeck:
    """Deals the hand-written exchanges in shuffled rounds, so a user sees each one before any
    repeats, mixed with computed fact questions."""

    FACT_SHARE = 0.3

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.deck: list[bank.Exchange] = []

    def blocks(self, pairs: int) -> list[list[tuple[str, str]]]:
        """Unrelated exchanges covering exactly ``pairs`` user/assistant pairs (a follow-up
        question stays with its exchange)."""
        out: list[list[tuple[str, str]]] = []
        subjects: set[str] = set()

        def fact() -> list[tuple[str, str]]:
            while True:  # the tables are far larger than a session: this ends at once
                user, reply, subject = _fact_exchange(self.rng)
                if subject not in subjects:
                    subjects.add(subject)
                    return [(user, reply)]

        while pairs > 0:
            if self.rng.random() < self.FACT_SHARE:
                out.append(fact())
                pairs -= 1
                continue
            if not self.deck:
                self.deck = self.rng.sample(bank.CHAT, len(bank.CHAT))
            fits = [i for i, ex in enumerate(self.deck) if len(ex.pairs) <= pairs]
            if not fits:
                out.append(fact())
                pairs -= 1
                continue
            exchange = self.deck.pop(fits[-1])
            out.append(list(exchange.pairs))
            pairs -= len(exchange.pairs)
        return out


def _date_text(when: datetime) -> str:
    """LoCoMo's session date format, ``"1:56 pm on 8 May, 2023"``."""
    hour = when.hour % 12 or 12
    ampm = "am" if when.hour < 12 else "pm"
    return f"{hour}:{when.minute:02d} {ampm} on {when.day} {when:%B}, {when.year}"


def _statement_text(item: bank.PrefItem, fills: dict[str, str], rng: random.Random) -> str:
    """One paraphrase of the preference, sometimes after a content-free lead-in ("Oh, and
    ...") so the turn does not always open the same way."""
    text = _fill(rng.choice(item.statements), fills, rng)
    if re.match(r"I\b", text) and rng.random() < 0.25:
        text = rng.choice(bank.LEAD_INS) + text
    return text


def _user_sample(
    rng: random.Random, index: int, name: str, prefs: int, n_questions: int
) -> dict[str, Any]:
    """One user: ``prefs`` sessions of 4-10 turns, each stating one preference at a random
    user turn among unrelated exchanges, and ``n_questions`` questions on them."""
    items = _pick_items(rng, prefs)
    deck = _ChatDeck(rng)
    conv: dict[str, Any] = {"speaker_a": name, "speaker_b": "Assistant"}
    when = datetime(2023, 1, 2) + timedelta(days=rng.randint(0, 150))
    stated: list[_Stated] = []
    for n, item in enumerate(items, 1):
        when += timedelta(days=rng.randint(1, 3))
        when = when.replace(hour=rng.randint(7, 22), minute=rng.randint(0, 59))
        fills: dict[str, str] = {}
        pref = [(_statement_text(item, fills, rng), rng.choice(bank.ACKS[item.kind]))]
        blocks = deck.blocks(rng.randint(2, 5) - 1)
        at = rng.randint(0, len(blocks))
        blocks.insert(at, pref)
        turns: list[dict[str, str]] = []
        for block in blocks:
            for user_text, reply in block:
                for speaker, text in ((name, user_text), ("Assistant", reply)):
                    dia_id = f"D{n}:{len(turns) + 1}"
                    turns.append({"speaker": speaker, "dia_id": dia_id, "text": text})
        evidence = f"D{n}:{2 * sum(len(b) for b in blocks[:at]) + 1}"
        stated.append(_Stated(item, fills, evidence, []))
        conv[f"session_{n}"] = turns
        conv[f"session_{n}_date_time"] = _date_text(when)
    # About one question per preference: rounds over the preferences in random order, each
    # round at most one question a preference, so fewer questions than preferences pick a
    # random subset and more give random preferences a second one (another template). A
    # template is used once per user: two compatible items sharing a generic question
    # ("What's worth streaming?") would otherwise ask it twice with different evidence.
    rows: list[tuple[int, dict[str, Any]]] = []
    used: set[str] = set()

    def open_templates(s: _Stated) -> list[int]:
        return [
            j
            for j, template in enumerate(s.item.questions)
            if j not in s.asked and template not in used
        ]

    while len(rows) < n_questions:
        pool = [i for i, s in enumerate(stated) if open_templates(s)]
        if not pool:
            raise ValueError(f"{n_questions} questions exceed what {prefs} preferences can ask")
        for i in rng.sample(pool, len(pool)):
            s = stated[i]
            if len(rows) == n_questions or not (candidates := open_templates(s)):
                continue
            pick = rng.choice(candidates)
            s.asked.append(pick)
            used.add(s.item.questions[pick])
            fills = dict(s.fills)
            question = _fill(s.item.questions[pick], fills, rng)
            answer = _fill(s.item.answer, fills, rng)
            row = {"question": question, "answer": answer, "evidence": [s.dia_id], "category": 4}
            rows.append((i, row))
    qa = [row for _, row in sorted(rows, key=lambda r: r[0])]  # stable: session order
    return {"sample_id": f"pref-{index + 1}", "conversation": conv, "qa": qa}


def generate(
    users: int = 4, prefs: int = 250, questions: int = 1000, seed: int = 0
) -> list[dict[str, Any]]:
    """The dev set: ``users`` LoCoMo samples with ``prefs`` preference sessions each and
    ``questions`` questions spread evenly over them. Same arguments, same data."""
    if users < 1 or prefs < 1 or questions < 0:
        raise ValueError("users and prefs must be positive, questions non-negative")
    check_bank()
    rng = random.Random(seed)
    names = rng.sample(bank.NAMES, min(users, len(bank.NAMES)))
    names += [f"{bank.NAMES[i % len(bank.NAMES)]} {i}" for i in range(len(names), users)]
    per_user = [questions // users + (k < questions % users) for k in range(users)]
    data = [_user_sample(rng, k, names[k], prefs, per_user[k]) for k in range(users)]
    check(data)
    return data


# -- validation of generated data -------------------------------------------------------------

_SESSION_KEY = re.compile(r"^session_(\d+)$")


def check(data: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Raise ``ValueError`` unless ``data`` is a well-formed set: LoCoMo layout, 4-10 turns a
    session alternating user / Assistant with 1-based ``dia_id``s, dates parseable and
    increasing, and every question of category 4 with exactly one evidence id that names a
    user turn sharing no content word with the question. Returns counts."""
    problems: list[str] = []
    sessions = turns_total = n_questions = 0
    for sample in data:
        sid = sample.get("sample_id", "?")
        conv = sample.get("conversation") or {}
        user, other = conv.get("speaker_a"), conv.get("speaker_b")
        turns: dict[str, dict[str, Any]] = {}
        last: datetime | None = None
        nums = sorted(int(m.group(1)) for k in conv if (m := _SESSION_KEY.match(k)))
        if nums != list(range(1, len(nums) + 1)):
            problems.append(f"{sid}: sessions are not numbered 1..n")
        for n in nums:
            sessions += 1
            session = conv[f"session_{n}"]
            try:
                when = datetime.strptime(conv[f"session_{n}_date_time"], "%I:%M %p on %d %B, %Y")
            except (KeyError, ValueError):
                problems.append(f"{sid}: session {n} has no LoCoMo date")
            else:
                if last is not None and when <= last:
                    problems.append(f"{sid}: session {n} is not after the one before")
                last = when
            if not 4 <= len(session) <= 10:
                problems.append(f"{sid}: session {n} has {len(session)} turns")
            for t, turn in enumerate(session, 1):
                speaker = user if t % 2 else other
                if turn.get("dia_id") != f"D{n}:{t}" or turn.get("speaker") != speaker:
                    problems.append(f"{sid}: bad turn D{n}:{t} {turn.get('dia_id')}")
                if not str(turn.get("text") or "").strip():
                    problems.append(f"{sid}: empty turn D{n}:{t}")
                turns[f"D{n}:{t}"] = turn
        turns_total += len(turns)
        asked: set[str] = set()
        for qa in sample.get("qa") or ():
            n_questions += 1
            ev = qa.get("evidence") or []
            question = str(qa.get("question") or "")
            if qa.get("category") != 4 or not question or not str(qa.get("answer") or ""):
                problems.append(f"{sid}: malformed question {question!r}")
            if question in asked:
                problems.append(f"{sid}: {question!r} is asked twice")
            asked.add(question)
            if len(ev) != 1 or ev[0] not in turns:
                problems.append(f"{sid}: evidence {ev} of {question!r} names no single turn")
                continue
            turn = turns[ev[0]]
            if turn["speaker"] != user:
                problems.append(f"{sid}: evidence {ev[0]} is not a user turn")
            if shared := shared_words(question, turn["text"]):
                problems.append(f"{sid}: {sorted(shared)} shared by {question!r} / {ev[0]}")
    if problems:
        raise ValueError("prefset data: " + "; ".join(problems[:40]) + f" ({len(problems)})")
    return {
        "samples": len(data),
        "sessions": sessions,
        "turns": turns_total,
        "questions": n_questions,
    }


# -- CLI --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--prefs", type=int, default=250, help="preferences (sessions) a user")
    parser.add_argument("--questions", type=int, default=1000, help="questions over all users")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    data = generate(args.users, args.prefs, args.questions, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({"out": str(args.out), **check(data), "bank": check_bank()}))


if __name__ == "__main__":
    main()
