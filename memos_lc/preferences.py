"""What a speaker states about themselves that an assistant should remember: preferences.

:func:`detect_preference` reads one utterance and names the kind of lasting self-statement it
makes (a like, a dislike, a constraint, an allergy, a habit, an identity, a plan, or another
lasting trait), or ``None``.
It is a set of English patterns (microseconds, no model), used by
:class:`~memos_lc.reader.MemReader` in fast mode to store such turns as their own
``memory_type="preference"`` cubes; fine mode gets preferences from the LLM's extraction.

The patterns anchor a preference cue to the speaker as its subject ("I", "I'm", "we",
"my go-to", "... to me", or a chat fragment that drops the subject, "big fan of sci-fi"), so
what other people like ("my sister loves horror films"), questions, requests, hypotheticals
and reactions to what was just said ("I love that!") are not taken for the speaker's own
lasting preferences. ``tests/data/preference_labels.json`` is the labelled sample the
precision and recall are measured on (``tests/test_preferences.py``).
"""

from __future__ import annotations

import re
from typing import Literal

PreferenceKind = Literal[
    "allergy", "constraint", "dislike", "like", "habit", "identity", "plan", "trait"
]
PREFERENCE_KINDS: tuple[PreferenceKind, ...] = (
    "allergy",
    "constraint",
    "dislike",
    "like",
    "habit",
    "identity",
    "plan",
    "trait",
)
"""In the order a sentence is tested: the first kind whose pattern matches names it.
``"trait"`` is the rest of what lasts about the speaker, said in the present tense ("I sew
most of my own clothes", "my commute is ninety minutes"): it shapes what suits them as
much as a stated like does."""

_SENTENCE = re.compile(r"\s+(?:-{1,2}|—)\s+|(?<=[.!?;])\s+|\n+|(?<=\))\s+")
# The speaker as subject ("I", "we", "Tom and I", "me and my partner"), then only words that
# qualify the verb ("I really don't like", "we've always been"): any other word in between
# would make someone else the subject ("people I know have switched").
_I = (
    r"(?:\b(?:i|i'm|i am|i've|i have|i'd|i would|i'll|i will|we|we're|we are|we've|we have"
    r"|we'd|we'll)|\b(?:\w+|my \w+) and i|\bme and my \w+)"
)
_QUALIFIERS = (
    r"really|honestly|actually|just|totally|absolutely|genuinely|kinda|pretty much|also|still"
    r"|definitely|seriously|usually|always|generally|truly|personally|both|all|mostly|now"
    r"|do|don't|does|can't|cannot|have|'ve|am|'m|are|'re|been|get|got|would|'d|will|'ll|ever"
    r"|never|simply|literally|absolutely|much|more|less|not|no|so|quite|rather|very|big|huge"
    r"|massive|a|an|bit|little|lot|kind of|sort of|tend to|try to|of|like|such|avid|lifelong"
)
_SELF = _I + rf"(?:\s+(?:{_QUALIFIERS}))*\s+"
_ME = r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself|we|we're|we've|us|our)\b"

_CUES: dict[PreferenceKind, str] = {
    "allergy": (
        rf"{_SELF}(?:severely |mildly |deathly |very )?(?:al+erg\w*|intoleran\w*|celiac"
        r"|coeliac|react badly)"
        r"|\bmy (?:\w+ )?(?:al+erg(?:y|ies)|intoleranc\w*|epi-?pen)\b|\banaphyla\w*"
        r"|^(?:\w+ )?(?:intolerant|al+ergic|celiac|coeliac) here\b"
        r"|\b(?:makes?|made|gives?|gave) (?:me|my \w+) (?:\w+ )?(?:sick|ill|nauseous|break out"
        r"|bloated|itch\w*|sneez\w*|a rash|hives|rashes|migraines?|headaches?|heartburn|cramps)"
        r"|\b(?:wrecks?|kills?|upsets?|destroys?) my (?:stomach|gut|skin|sinuses)"
        r"|\bcould (?:literally )?kill me\b"
        rf"|{_SELF}(?:can't|cannot|can not) (?:eat|have|digest|tolerate|stomach|drink)\b"
    ),
    "constraint": (
        rf"{_SELF}(?:only|must|have to|need to|need|require|can't|cannot|can not|don't|never"
        r"|won't|refuse to|no longer)(?:\s+(?:ever|really|usually|always|just))?"
        r"\s+(?:eat|drink|fly|drive|use|wear|take|travel|walk|work|do|stand|handle|afford"
        r"|spend|go|book|sit|carry|climb|sleep|have|buy|be|get|touch|keep|stay|fit|deploy"
        r"|cook|check|order|celebrate|miss)\b"
        rf"|{_SELF}(?:a |an )?(?:\w+ )?(?:vegan|vegetarian|vegitarian|pescatarian|gluten-free"
        r"|dairy-free|sober|teetotal|diabetic|pregnant|kosher|halal|lactose|keto|paleo|broke"
        r"|colou?r-?blind|deaf|hard of hearing|blind|in a wheelchair|wheelchair user"
        r"|beginner|novice|new to|on a budget|on a diet|on a (?:\w+ )?plan|unavailable|dyslexic"
        r"|jewish|muslim|hindu|buddhist|christian|sikh|mormon)\b"
        r"|\b(?:i|we) (?:use|have|'ve got|got|observe|went|am|'m) (?:a |an )?(?:\w+ )?"
        r"(?:screen reader|hearing aid|wheelchair|cane|dyslexia|adhd|autism|diabetes|asthma"
        r"|migraines|toddler|baby|newborn|bad knee|bad back|vegan|vegetarian|sabbath)\b"
        r"|\bmy (?:budget|limit|max|maximum|doctor|diet|back|knees?|hips?|wrists?|eyes|vision"
        r"|hearing|laptop|phone|flat|apartment|house|kitchen|car)\b.*\b(?:so|can't|isn't|is"
        r"|won't|only|max|under|limit)\b"
        r"|\bbudget is\b|\bno more than\b|\bunder \$?\d|\b\d+ minutes\b.*\bmax\b"
        r"|\b(?:or nothing|is a must|are a must|a must for me|non-negotiable|deal-?breaker"
        r"|doctor's orders|for future reference|for the record"
        r"|(?:please|so) keep (?:that|this) in mind"
        r"|i should mention|just so you know|heads up|please (?:always|never|don't|keep|no"
        r"|only|avoid|skip))\b"
        r"|\b(?:count me out|not for me|don't work for me|doesn't work for me|no-\w+ household"
        r"|\w+-free household|is always an issue)\b"
        rf"|(?=.*{_ME}).*,? so (?:please |maybe )?(?:keep|avoid|skip|drop|no|nothing|only"
        r"|don't|make sure|anywhere|anything|shorter|simple|plain|schedule|needs?)\b"
    ),
    "dislike": (
        rf"{_SELF}(?:hate|dislike|detest|loathe|despise|avoid|can't stand|cannot stand"
        r"|can't bear|can't do|not (?:a )?(?:big |huge )?fan|not much of a|not (?:really )?into"
        r"|(?:don't|do not|never|no longer) (?:really )?(?:liked?|enjoy|eat|drink|care for"
        r"|watch|listen|fly|use|want|go for)|steer clear|stay away|gave up|give up|quit|stopped"
        r"|cut out|done with|get bored|find \w+ (?:\w+ )?(?:grating|boring|annoying|tedious"
        r"|stressful|exhausting|overwhelming|unbearable)|rather not|get (?:terrified|scared"
        r"|seasick|carsick|airsick|motion sick)|(?:am |'m )?(?:terrified|scared|afraid) of)\b"
        r"|\b(?:tastes?|smells?|feels?|sounds?|looks?) like .{1,30} to me\b"
        r"|\b(?:gross|grosses|bore|bores|drive|drives|freak|freaks|stress|stresses|put|puts)"
        r" me (?:out|off|up the wall|crazy|nuts|to tears|stiff)\b"
        r"|\b(?:not|isn't|aren't) (?:really )?my (?:thing|scene|cup of tea|style|speed|jam)\b"
        r"|\b(?:a hard no|my (?:personal )?nightmare|no thanks|never again|not for me)\b"
        r"|^(?:not a (?:big |huge )?fan|hate|can't stand|cant stand|can't do|never)\b"
        r"|\bnever (?:fly|flying|eat|drink|again)\b|\bnothing (?:with|involving)\b"
    ),
    "like": (
        rf"{_SELF}(?:love|like|enjoy|adore|prefer|perfer|fancy|crave|relish|dig|appreciate"
        r"|into|obsessed|hooked|passionate|crazy about|a sucker|live for|swear by|rather"
        r"|partial|fond|fan of|fan|supporter|go for|find \w+ (?:\w+ )?(?:cosy|cozy|relaxing"
        r"|calming|soothing|fun|inspiring|beautiful)|look forward|can't get enough"
        r"|more of a \w+ person|a \w+ person|\w+ lover)\b"
        r"|\bmy (?:go-to|favou?rite|fave|fav|usual|comfort|guilty pleasure|happy place|escape"
        r"|idea of|all-time|absolute favou?rite|whole world|thing since|speed)\b"
        r"|\bthe highlight of my\b|\bmore my (?:speed|thing|style|scene)\b"
        r"|\b(?:works|work) (?:best|better) for me\b|\bis my (?:jam|thing|favou?rite)\b"
        r"|\bfor me every\b|\b> .{1,30} for me\b|\bis life\b|\bthe (?:hotter|spicier|more)"
        r" the better\b|\bthat's how i (?:take|like|drink|have) it\b|\bi'll (?:read|watch"
        r"|eat|try) (?:it|anything)\b"
        r"|^(?:love|loving|big fan|huge fan|obsessed with|into|nothing beats|can't beat)\b"
        r"|\bnothing beats\b|\bcan't beat\b"
    ),
    "habit": (
        rf"{_SELF}(?:usually|always|normally|often|typically|generally|tend to|regularly"
        r"|mostly|rarely|seldom|(?:wake|get) up|go to bed|work out|meditate|run|cycle|bike"
        r"|swim|journal|meal-prep|meal prep|fast|write|cook|pack|do yoga|take the|switched"
        r"|started|been \w+ing|make it a point)\b"
        r"|\bevery (?:single )?(?:day|morning|night|evening|week|weekend|weekday|sunday|monday"
        r"|tuesday|wednesday|thursday|friday|saturday)\b"
        r"|\b(?:most|many) (?:days|nights|mornings|evenings|weekends)\b"
        r"|\bon (?:sundays|mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|weekends)\b"
        r"|\b(?:mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?)"
        r" (?:and \w+ )?(?:mornings|evenings|nights)\b|\bwhenever i\b"
        r"|\b(?:my|our) (?:routine|ritual|habit|mornings?|evenings?|weekends?) (?:is|are|starts"
        r"|involves?)\b|\b(?:twice|three times|once|\w+ times) a (?:day|week|month)\b"
        r"|\b(?:night owl|early (?:bird|riser)|morning person|night person)\b"
        r"|\babout (?:one|two|\d+) a (?:week|month)\b"
    ),
    "identity": (
        r"\b(?:i'm|i am) (?:a|an) (?:\w+ ){0,2}?(?:person|type|kind of \w+|introvert|extrovert"
        r"|nurse|teacher|doctor|developer|dev|engineer|designer|student|parent|mom|mum|dad"
        r"|father|mother|runner|cyclist|gamer|reader|writer|artist|musician|photographer"
        r"|chef|cook|baker|gardener|lawyer|programmer|freelancer|retiree|veteran|owner)\b"
        r"|\b(?:i work|i'm working|i am working) (?:as|in|at|from|remotely|nights|night shifts"
        r"|weekends|part-time|full-time)\b"
        r"|^as (?:a|an|someone|somebody) .*\b(?:i|my|me)\b"
        r"|\b(?:i'm|i am) (?:originally )?from\b|\bi live (?:in|on|near|with|alone)\b"
        r"|\b(?:i'm|i am) (?:left-handed|right-handed|trans|gay|lesbian|bi|queer|religious"
        r"|retired|single|married|divorced|brazilian|\w+ian|\w+ish|\w+ese)\b"
        r"|\bi (?:have|'ve got|got) (?:a|an|two|three|\d+) (?:\w+ ){0,2}?(?:kids?|children"
        r"|dogs?|cats?|pets?|daughters?|sons?|toddlers?|babies|baby|condition)\b"
        r"|\b(?:isn't|is not) my first language\b|\b\w+ here, mostly\b|\bbeing a \w+\b"
    ),
    "plan": (
        rf"{_SELF}(?:planning|training|saving|hoping|aiming|preparing|studying|learning"
        r"|getting ready|about to|moving|relocating|thinking of|thinking about|trying|going to"
        r"|getting married|starting|quitting|plan|intend|want to|hope to|aim to)\b"
        r"|\bmy (?:goal|plan|dream|resolution|aim) (?:is|this|for)\b"
        r"|^(?:planning|hoping|training|saving up|aiming) (?:to|for|on)\b"
        rf"|{_SELF}(?:\w+ing|be|in|at) .*\b(?:next|this|all of|until|in) (?:week|month|year"
        r"|spring|summer|fall|autumn|winter|january|february|march|april|may|june|july"
        r"|august|september|october|november|december|weekend)\b"
        r"|\b(?:next|this) (?:year|month|spring|summer|fall|autumn|winter|january|february"
        r"|march|april|may|june|july|august|september|october|november|december)\b.*\bi\b"
        r"|\bi need to (?:stop|start|cut)\b"
    ),
}
# Verbs after "I" / "we" that do not describe the speaker: thinking aloud, reacting,
# narrating (past tense), or the start of a request ("I need help", "I'm trying to fix").
_NOT_TRAIT = (
    r"think|guess|mean|know|see|agree|wonder|hope|bet|feel|suppose|believe|understand|remember"
    r"|forgot|forget|was|were|had|did|went|got|saw|made|took|said|told|thought|asked|found"
    r"|came|tried|just|heard|met|left|ran|bought|sent|wrote|read|gave|lost|won|ate|drank|sat"
    r"|put|let|can|could|would|should|will|shall|may|might|must|'d|'ll|wish|promise|owe"
    r"|appreciate|apologi[sz]e|totally|completely|literally|too|also|then|still|already"
    r"|love|like|hate|enjoy|adore|dislike|\w+ly"
)
_TRAIT_LEAD = (
    r"^(?:(?:also|oh|and|but|so|btw|by the way|honestly|actually|well|plus|fyi|anyway|ok|okay"
    r"|one more thing|just so you know|for context|for what it's worth|oh and|also,)[,:]?\s+)*"
)
_TRAIT = re.compile(
    _TRAIT_LEAD
    + r"(?:"
    # "I sew most of my own clothes", "we compost everything": a present-tense verb
    + r"(?:i|we)\s+(?:(?:really|also|just|still|always|usually|mostly|only|never|even|basically"
    r"|generally|often|rarely|barely|hardly|pretty much|do|don't|do not)\s+)*"
    + rf"(?!(?:{_NOT_TRAIT})\b)(?:[a-z]+(?<!ed)|need|feed|speed|breed|bleed|exceed|succeed)\b"
    # "I'm a maximalist", "I'm very fair and I burn", "I've turned my terrace into a farm"
    r"|i'm (?:a|an|very|really|pretty|super|quite|so|not|the) (?!bit\b|little\b|lot\b"
    r"|sorry|glad|happy for|sure|confused|stuck|lost|done|back|ready|curious|wondering"
    r"|excited|nervous|tired|worried|upset|bored|hungry|proud|thrilled|grateful|thankful"
    r"|thinking|trying|going|looking|working on|having|getting|about to|in the middle)"
    r"|i've (?!(?:just|never|no|got a|got to|been (?:trying|wondering|looking|meaning))\b)"
    r"[a-z]+(?:ed|en|ne|wn|un|ht|ng)\b"
    # "my commute is ninety minutes", "my balcony is full of herbs"
    r"|(?:my|our) (?!(?:code|script|function|query|tests?|build|error|question|program|loop"
    r"|regex|class|file|output|input|essay|draft|homework|answer|request|order|package"
    r"|message|email|bad|apologies|pleasure)\b)(?:\w+ ){1,3}?(?:is|are|has|have|runs|takes"
    r"|gets|goes|chews|expires|starts|ends|lives|sleeps|means)\b"
    # "Studio Ghibli is sacred to me", "needles make me faint", "walking is how I get around"
    r"|.*\b(?:(?:is|are|feels?|seems?|sounds?) (?:\w+ ){0,2}?(?:to|for) me\b"
    r"|(?:makes?|gets?|puts?|sends?|keeps?|leaves?) me \w+|makes? my \w+ \w+"
    r"|(?:is|are) (?:how|what|all|where|when|why) (?:i|we)\b|(?:is|are) my \w+"
    r"|nothing (?:makes|beats|relaxes|calms) me|more to me than)"
    # "every winter I take two weeks on the slopes", "pescatarian here"
    r"|(?:every|on|most|each|in the|during|after|before|once)\b[^,.;]{0,30}?,?\s*(?:i|we)\s"
    r"+(?!(?:{_NOT_TRAIT})\b)[a-z]+(?<!ed)\b"
    r"|[\w-]+(?: [\w-]+)? here\b"
    # a statement in which the speaker is the object or owner: "olives ruin anything for me",
    # "my mornings belong to the school run", "heights terrify me"
    rf"|(?!.*\b(?:i|we) (?:{_NOT_TRAIT}|\w+[^e]ed)\b)(?!(?:thanks|thank|that|this|it|you|your"
    r"|please|sorry|wow|haha|lol|great|cool|nice|awesome|perfect|ok|okay|yes|yeah|no|sure|hi"
    r"|hey|hello|give|let|tell|show|help|make|check|fix|write|everyone|everybody)\b)"
    r"(?!.*\blet me\b)"
    r".*\b(?:me|my|mine|myself|us|our)\b"
    r")"
)
# one-off events and the moment: what happened today is not what the speaker is like
_MOMENT = re.compile(
    r"\b(?:i'm|i am|i feel|feeling) (?:\w+ )?(?:excited|nervous|tired|worried|upset|bored"
    r"|hungry|stressed|anxious) about\b"
    r"|\b(?:yesterday|last night|this morning|earlier today|just now|the other day|today|tonight"
    r"|right now|at the moment|this afternoon|this evening|tomorrow)\b"
)
# first-person openings of a request about the task at hand
_REQUEST = re.compile(
    r"^(?:i|we) (?:need|want|would like|'d like|'m looking for|am looking for|'m trying to"
    r"|am trying to|have a (?:\w+ )?(?:question|problem|issue|bug|doubt)|was wondering"
    r"|wanted to (?:ask|know|check)|can't (?:get|figure|find|make|seem)|keep getting"
    r"|get (?:an|this|the) error)\b(?!.*\b(?:always|every|usually|never)\b)"
    r"|^(?:i|we) (?:need|want) (?:help|you|some help|to know|a hand|a way|an? (?:quick )?"
    r"(?:answer|fix|example|explanation|recipe|list|script|summary))\b"
)
_PATTERNS = {kind: re.compile(_CUES[kind]) for kind in PREFERENCE_KINDS if kind != "trait"}
_SPEAKER = re.compile(_ME)
# a routine is the speaker's only when they are in the sentence ("The Louvre is closed on
# Tuesdays" is not)
_NEEDS_SPEAKER = frozenset({"habit"})
# what the speaker says about someone else, or a reaction to what was just said
_OTHERS = re.compile(
    r"^(?:my|our|his|her|their|your) (?:\w+ ){0,2}?(?:sister|brother|mom|mum|mother|dad|father"
    r"|wife|husband|partner|boyfriend|girlfriend|friend|kids?|son|daughter|boss|colleague"
    r"|coworker|roommate|neighbou?r|cousin|aunt|uncle|grand\w+|family|team|dog|cat)s?\b"
    r"(?!.*\b(?:so we|we|so i|i)\b)"
    r"|^(?:he|she|they|you|lots of|many|most|some) "
    r"|^as an ai\b"
)
_REACTION = re.compile(
    r"\b(?:love|like|enjoy|adore|hate|dislike) (?:that|this|it|those|these|your|yours|you"
    r"|how|what|when you|hearing|seeing)\b(?!\s+(?:kind|sort|type|style|genre)\b)"
    r"|\b(?:i'd|i would) (?:really )?(?:love|like|enjoy)\b"
)
_HYPOTHETICAL = re.compile(
    r"^(?:if|when|once) i\b|\bif i (?:were|was|had)\b|\bi wish\b|\bwould have\b"
    r"|\bi wonder\b|\bi guess\b|\bi think (?:you|it|that|this|the)\b|\bi (?:bet|hope you)\b"
    r"|\bused to (?!\w+ but)"
)
_QUESTION = re.compile(
    r"^(?:do|does|did|can|could|would|will|should|is|are|was|were|what|which|who|where|when"
    r"|why|how|recommend|suggest|tell me|give me|show me|help me|find me|write"
    r"|make|list|explain|translate)\b(?!')"
)
# code and log lines: "assert user.allergy == 'peanut'", "# TODO: I hate this hack"
_CODE = re.compile(r"==|!=|=>|->|[{}<>`]|^\s*(?:#|//|assert|def|return|import)\b|\w\.\w+\(")


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (and chat fragments between dashes), trimmed."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def _normal(sentence: str) -> str:
    low = sentence.lower().replace("\u2019", "'").replace("\u2018", "'")
    low = re.sub(r"\bim\b", "i'm", low)  # chat spelling
    low = re.sub(r"\bive\b", "i've", low)
    low = re.sub(r"\bdont\b", "don't", low)
    low = re.sub(r"\bcant\b", "can't", low)
    return " ".join(low.split())


def sentence_preference(sentence: str, *, asking: bool = False) -> PreferenceKind | None:
    """The kind of preference one sentence states about its speaker, or ``None``.
    ``asking``: the sentence is part of a turn that asks something, where a statement about
    the speaker ("My script says IndexError. Help?") is most often the problem to solve,
    not a trait; only the explicit kinds count there."""
    s = _normal(sentence)
    if not s or s.endswith("?") or len(s) > 400:
        return None
    body = s.rstrip(".!;:,) ")
    # an opening verb or question word asks for something now; "give me X any day" and
    # "any X is fine by me" state a taste, so they go on to the patterns
    if _QUESTION.match(body) and not body.startswith(("give me", "any ")):
        return None
    if _OTHERS.match(body) or _HYPOTHETICAL.search(body) or _CODE.search(body):
        return None
    for kind, pattern in _PATTERNS.items():
        if not pattern.search(body):
            continue
        if kind in ("like", "dislike") and _REACTION.search(body):
            continue
        if kind in _NEEDS_SPEAKER and not _SPEAKER.search(body):
            continue
        return kind
    if asking or _MOMENT.search(body) or _REQUEST.match(body):
        return None
    return "trait" if _TRAIT.match(body) else None


def detect_preference(text: str) -> PreferenceKind | None:
    """The kind of the first lasting preference ``text`` states about its speaker (likes,
    dislikes, constraints, allergies, habits, identity, plans, other traits), or ``None``.

    Example:
        .. code-block:: python

            detect_preference("Honestly, cilantro tastes like soap to me.")   # "dislike"
            detect_preference("My sister loves horror films.")                # None
    """
    asking = "?" in text
    for sentence in sentences(text):
        kind = sentence_preference(sentence, asking=asking)
        if kind is not None:
            return kind
    return None


__all__ = [
    "PREFERENCE_KINDS",
    "PreferenceKind",
    "detect_preference",
    "sentence_preference",
    "sentences",
]
