"""Hand-written content bank for :mod:`benchmarks.prefset`, the preference memory dev set.

Licence: all text in this module is original, written by hand for this project (nothing is
copied from a data set, the web or a model), and is released under the project's licence,
Apache-2.0, like the rest of the repository.

Why text blocks rather than nested tuples: the bank is some 2,000 sentences, and reviewing
them for naturalness and for the no-shared-words rule is far easier as plain lines. The
blocks are parsed at import, into :data:`PREFERENCES` and :data:`CHAT`, and
:func:`benchmarks.prefset.check_bank` proves the rules before anything is generated.

Preference block format (``_PREFERENCES``)::

    # <domain>
    = <key> [@group ...] [!conflict ...] | <kind> | <answer: what a reply must respect>
    S: a statement, in the user's own words (>= 2 paraphrases)
    Q: a question that implies the preference without its words (>= 2)

A line ending in a backslash continues on the next. ``{slot}`` is filled from
:data:`SLOTS`, with one value per use shared by statement and answer. Items in the same group
contradict or duplicate each other (vegan / loves steak, window / aisle seat, two near
identical fears), so a user takes at most one item per group; an item without ``@group`` is
its own group, and a second ``@group`` makes it clash with that group too. ``!name`` is a
one-sided clash with an item key or group (a tiny studio flat clashes with backyard hens
and with beehives, which do not clash with each other).

Chat block format (``_CHAT``): exchanges separated by blank lines, each one or two ``U:`` /
``A:`` pairs (user ask, assistant reply, optionally a follow-up). The user's chat turns ask
or chat about the world; they never say what the user likes, is or does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("like", "dislike", "constraint", "allergy", "habit", "identity", "plan")


@dataclass(frozen=True)
class PrefItem:
    """One preference: how users may state it and questions that silently depend on it."""

    key: str
    group: str
    conflicts: tuple[str, ...]
    domain: str
    kind: str
    answer: str
    statements: tuple[str, ...]
    questions: tuple[str, ...]

    @property
    def exclusive(self) -> frozenset[str]:
        """What a user holding this item may not hold again: its key, its group and its
        conflicts (two items clash when these sets meet)."""
        return frozenset((self.key, self.group, *self.conflicts))


@dataclass(frozen=True)
class Exchange:
    """Unrelated chat: (user, assistant) pairs that stay together in a session."""

    pairs: tuple[tuple[str, str], ...]


NAMES = (
    "Maya", "Daniel", "Priya", "Tom", "Lucia", "Kenji", "Amara", "Noah",
    "Sofia", "Omar", "Hannah", "Mateo", "Zoe", "Arjun", "Elena", "Felix",
)  # fmt: skip

SLOTS: dict[str, tuple[str, ...]] = {
    "city": (
        "Rome", "Lisbon", "Tokyo", "Barcelona", "Istanbul", "Chicago", "Bangkok", "Vienna",
        "Seoul", "Paris", "Naples", "Montreal", "Berlin", "Athens", "Kyoto", "Copenhagen",
        "Edinburgh", "Melbourne", "Prague", "Oaxaca",
    ),
    "instrument": (
        "piano", "guitar", "cello", "violin", "drums", "ukulele", "saxophone", "trumpet",
        "flute",
    ),
    "language": (
        "Spanish", "Japanese", "Italian", "Portuguese", "Korean", "German", "French",
        "Mandarin", "Greek", "Arabic",
    ),
    "cuisine": (
        "Thai", "Ethiopian", "Lebanese", "Peruvian", "Vietnamese", "Georgian", "Mexican",
        "Indian", "Sichuan", "Turkish",
    ),
    "month": ("March", "April", "June", "September", "October", "November"),
    "dog": ("Biscuit", "Juniper", "Pepper", "Milo", "Bruno", "Waffles", "Scout", "Ruby"),
    "cat": ("Mochi", "Luna", "Ziggy", "Pixel", "Clementine", "Otis"),
    "team": ("Arsenal", "Liverpool", "Celtic", "Juventus", "Ajax", "Benfica", "Napoli"),
}  # fmt: skip
"""Slot values. A slot may appear in statements or in questions of an item, never both."""

LEAD_INS = ("Oh, and ", "Also, ", "Just so you know, ", "Anyway, ", "Oh, one more thing: ")
"""Openers put before some statements; they must carry no content word."""

ACKS: dict[str, tuple[str, ...]] = {
    "like": (
        "Nice, noted! I'll keep that in mind.",
        "Love that. I'll remember it for future suggestions.",
        "Good to know, thanks for telling me.",
    ),
    "dislike": (
        "Fair enough, I'll steer clear of that.",
        "Noted, I'll leave that out of anything I suggest.",
        "Got it, no judgment. I'll remember.",
    ),
    "constraint": (
        "Understood, I'll work within that.",
        "Got it, I'll keep that in mind going forward.",
        "Thanks for flagging it, noted.",
    ),
    "allergy": (
        "Thanks for telling me, that's important. I'll be careful with suggestions.",
        "Understood. I'll keep that front of mind.",
        "Noted, and I'll always double-check for it.",
    ),
    "habit": (
        "Good to know!",
        "Makes sense, thanks for sharing.",
        "Noted, I'll plan around that.",
    ),
    "identity": (
        "Thanks for sharing that with me.",
        "Got it, noted.",
        "Good to know, I'll keep it in mind.",
    ),
    "plan": (
        "That sounds exciting, good luck with it!",
        "Great, I'll keep that in mind when you ask for help.",
        "Noted! Let me know if you want help preparing.",
    ),
}
"""Assistant replies to a preference turn: generic on purpose, so the user turn alone carries
the preference and stays the single evidence."""

CAPITALS = (
    ("Australia", "Canberra"), ("Canada", "Ottawa"), ("Brazil", "Brasília"),
    ("Turkey", "Ankara"), ("Switzerland", "Bern"), ("New Zealand", "Wellington"),
    ("Nigeria", "Abuja"), ("Morocco", "Rabat"), ("Vietnam", "Hanoi"), ("Kenya", "Nairobi"),
    ("Peru", "Lima"), ("Norway", "Oslo"), ("Finland", "Helsinki"), ("Egypt", "Cairo"),
    ("Chile", "Santiago"), ("Argentina", "Buenos Aires"), ("Poland", "Warsaw"),
    ("Hungary", "Budapest"), ("Portugal", "Lisbon"), ("Ireland", "Dublin"),
    ("South Korea", "Seoul"), ("Indonesia", "Jakarta"), ("Pakistan", "Islamabad"),
    ("Colombia", "Bogotá"), ("Ghana", "Accra"), ("Iceland", "Reykjavík"),
    ("Mongolia", "Ulaanbaatar"), ("Bolivia", "Sucre (constitutional) and La Paz (government)"),
    ("Sri Lanka", "Sri Jayawardenepura Kotte"), ("Myanmar", "Naypyidaw"),
    ("Tanzania", "Dodoma"), ("Kazakhstan", "Astana"), ("Ethiopia", "Addis Ababa"),
    ("Austria", "Vienna"), ("Greece", "Athens"), ("Japan", "Tokyo"),
)  # fmt: skip

ELEMENTS = (
    ("gold", "Au", 79), ("silver", "Ag", 47), ("iron", "Fe", 26), ("lead", "Pb", 82),
    ("sodium", "Na", 11), ("potassium", "K", 19), ("tin", "Sn", 50), ("mercury", "Hg", 80),
    ("tungsten", "W", 74), ("copper", "Cu", 29), ("helium", "He", 2), ("neon", "Ne", 10),
    ("carbon", "C", 6), ("nitrogen", "N", 7), ("oxygen", "O", 8), ("calcium", "Ca", 20),
    ("zinc", "Zn", 30), ("uranium", "U", 92), ("silicon", "Si", 14), ("antimony", "Sb", 51),
    ("platinum", "Pt", 78), ("titanium", "Ti", 22), ("magnesium", "Mg", 12),
    ("chlorine", "Cl", 17), ("sulfur", "S", 16), ("phosphorus", "P", 15),
)  # fmt: skip

FACT_TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "capital": (
        ("What's the capital of {country}?", "The capital of {country} is {capital}."),
        ("Quick geography check: capital of {country}?", "That would be {capital}."),
        ("Settle a bet for me, what's the capital of {country}?", "It's {capital}."),
    ),
    "element": (
        ("What's the chemical symbol for {element}?", "{symbol}. Its atomic number is {number}."),
        ("Which element has atomic number {number}?", "That's {element}, symbol {symbol}."),
    ),
    "miles": (
        ("How many kilometers is {miles} miles?", "{miles} miles is about {km} km."),
        ("Convert {miles} miles to km for me?", "Roughly {km} kilometers."),
    ),
    "fahrenheit": (
        ("What's {f}°F in Celsius?", "{f}°F is about {c}°C."),
        ("The forecast says {f} Fahrenheit, what's that in Celsius?", "About {c}°C."),
    ),
    "pounds": (
        ("How many kilos is {lb} pounds?", "{lb} lb is about {kg} kg."),
        ("Convert {lb} lb to kilograms?", "That's roughly {kg} kg."),
    ),
    "percent": (
        ("What's {p}% of {n}?", "{p}% of {n} is {r}."),
        ("Quick math: {p} percent of {n}?", "That comes to {r}."),
    ),
    "split": (
        (
            "If a bill of ${total} is split {k} ways, what does each person pay?",
            "Each person pays ${each}.",
        ),
        ("${total} divided between {k} people is how much each?", "${each} each."),
    ),
    "multiply": (
        ("What's {a} times {b}?", "{a} × {b} = {r}."),
        ("Can you multiply {a} by {b} for me?", "Sure: {r}."),
    ),
}
"""Computed chat families (see :func:`benchmarks.prefset._fact_exchange`)."""

_PREFERENCES = """
# dietary
= gluten @gluten @bread | constraint | gluten-free options only (celiac)
S: I've been gluten-free since my celiac diagnosis last year.
S: Celiac finally got diagnosed, so wheat, barley and rye are all off the table for me now.
S: Even a crumb of regular bread makes me sick for days, thanks to celiac disease.
Q: Can you suggest a few places for dinner in {city}?
Q: What should I bake for the office party on Friday?
Q: Which beers should I pick up for game night?

= vegan @meat @fish @dairy !chickens !beekeeping | identity | plant-based food only, no animal \
products
S: I'm vegan, have been for about six years now.
S: No animal products for me at all, not even honey or cheese.
Q: What should I cook for a cozy date night at home this weekend?
Q: Can you put together a high-protein breakfast plan for the week?
Q: What's a good dessert to bring to my aunt's birthday lunch?

= vegetarian @meat @fish | identity | vegetarian dishes, no meat or fish
S: I stopped eating meat in college and never looked back.
S: I'm vegetarian and have been since I was a teenager.
Q: Which dishes should I try on my first trip to {city}?
Q: What could I bring to a summer barbecue that I'd enjoy too?

= carnivore @meat | like | hearty meat dishes, a good steakhouse
S: Nothing beats a proper ribeye, medium-rare, with a pile of fries.
S: Honestly I'm a carnivore at heart; give me a steakhouse over anything fancy.
Q: Where should I take my brother for his birthday dinner in {city}?
Q: What's worth cooking on the grill this weekend?

= pescatarian @meat | identity | fish and seafood are fine, no other meat
S: I eat fish and seafood, but no other meat, ever.
S: Pescatarian here: salmon yes, chicken no.
Q: What should I order at a tapas bar tonight?
Q: Can you plan three dinners for next week?

= cilantro | dislike | nothing with cilantro/coriander
S: Honestly, anything with cilantro tastes like soap to me.
S: Coriander leaves are my nemesis; one leaf and the whole dish is ruined.
Q: What's a good garnish for the tacos I'm making tonight?
Q: Can you give me a recipe for a fresh green salsa?
Q: What should I top my pho with?

= peanut | allergy | no peanuts (severe allergy)
S: I have a severe peanut allergy and carry an EpiPen everywhere.
S: Peanuts put me in the hospital as a kid, so I'm really careful about them.
Q: What's a good dipping sauce for grilled skewers?
Q: Can you suggest some snacks for a long road trip?
Q: Which Thai takeout dishes should I order tonight?

= shellfish | allergy | no shellfish (shrimp, crab, lobster)
S: Shrimp, crab, lobster, anything like that makes my throat close up.
S: I'm allergic to shellfish, the serious kind.
Q: What should I try at the harbor restaurants in {city}?
Q: Can you suggest a paella recipe for Sunday?

= lactose @dairy | constraint | dairy-free or lactose-free options
S: Dairy and I don't get along anymore; lactose intolerance kicked in around thirty.
S: Milk, cream, soft cheese, all of it upsets my stomach.
Q: What's a good dessert to make for my friends on Saturday?
Q: What's a good warm drink to order on a cold afternoon?

= spicy-love @spice | like | very spicy food
S: The spicier the better; I put chili oil on basically everything.
S: If my eyes aren't watering, it isn't hot enough.
Q: What's a good sauce to keep in the fridge for weeknight noodles?
Q: Which curry should I make this weekend?

= spicy-no @spice | dislike | mild food, nothing spicy
S: I can't handle heat at all; even black pepper is pushing it.
S: Spicy food wrecks my stomach, so I keep everything mild.
Q: Which curry should I order from the Indian place down the street?
Q: What should I try at a Korean restaurant for the first time?

= sweet-tooth @sugar | like | desserts and sweet treats
S: I have a ridiculous sweet tooth; dessert is the main event for me.
S: I'll always save room for something with chocolate or caramel.
Q: What should we make for Saturday's potluck?
Q: Any bakery suggestions for my afternoon in {city}?

= no-sugar @sugar | constraint | no added sugar
S: I'm cutting out added sugar completely this year.
S: My doctor flagged my blood glucose, so sweets are mostly off limits now.
Q: What snacks should I keep at my desk for the afternoon slump?
Q: Can you suggest a breakfast that isn't just toast and jam?

= diabetes @sugar | constraint | diabetic-friendly, carb-aware food
S: I have type 1 diabetes, so I'm always counting carbs and checking my levels.
S: Being diabetic means I plan every meal around my insulin.
Q: What should I pack for a long day of hiking?
Q: Can you suggest a dessert for my book club on Thursday?

= halal @religious-diet @alcohol !religious-sunday | identity | halal food only
S: I only eat halal, so pork and most regular meat are out.
S: I keep halal; it matters a lot to me and my family.
Q: Where should I get dinner near the conference center in {city}?
Q: Can you suggest a main course for a dinner party with my in-laws?

= kosher @religious-diet !religious-sunday !prayer-times !ramadan | identity | kosher food only
S: I keep kosher at home and when I eat out.
S: We're observant, so everything I eat has to be kosher.
Q: Can you recommend a caterer for my nephew's graduation party?
Q: What should I cook for a Friday night dinner with friends?

= keto @sugar @bread | constraint | low-carb / keto meals
S: I'm doing keto, so I keep carbs under twenty grams a day.
S: Low-carb life for me now: no bread, rice or pasta.
Q: What should I pack for lunch tomorrow?
Q: Any ideas for a quick weeknight dinner?

= fasting @meal-timing | habit | eats only between noon and 8 pm
S: I do intermittent fasting: nothing to eat before noon or after eight.
S: My eating window is twelve to eight, and I'm strict about it.
Q: What time should I book dinner for my team in {city}?
Q: Can you help me plan meals for a long travel day?

= no-breakfast @meal-timing | habit | skips breakfast
S: I never eat in the morning; my first meal is usually around one.
S: Mornings are water only for me, I'm not hungry till lunchtime.
Q: Should I pay extra for the hotel rate that includes the buffet?
Q: What should I grab before my 7 a.m. flight?

= big-breakfast @meal-timing | habit | a proper hearty breakfast
S: Breakfast is my biggest meal of the day: potatoes, toast, the works.
S: I can't function without a proper sit-down breakfast.
Q: Should I pay extra for the hotel rate that includes the buffet?
Q: Which cafe should I check out on Saturday morning?

= coffee-snob @coffee | like | specialty coffee
S: I'm a total coffee snob; pour-over and single-origin beans only.
S: I grind my beans fresh every morning and weigh every dose.
Q: Where should I stop for a pick-me-up before my meetings in {city}?
Q: What kitchen gadget should I treat myself to with my bonus?

= no-caffeine @coffee | constraint | caffeine-free drinks only
S: Caffeine makes my heart race, so I quit it entirely.
S: I've been off coffee and tea for a year; decaf only.
Q: What can I drink to stay alert during a long drive?
Q: Can you suggest a cozy cafe order for a rainy afternoon?

= tea @coffee | like | loose-leaf tea
S: I drink green tea all day; I must go through six cups.
S: A pot of loose-leaf oolong is how every afternoon starts for me.
Q: What should I bring back as a souvenir from Taiwan?
Q: What should I put in my thermos for the office?

= mushrooms | dislike | no mushrooms
S: Mushrooms are a hard no for me, it's the texture.
S: I pick every single mushroom off my pizza; I can't stand the slimy feel.
Q: What should I put in a risotto tonight?
Q: What should I order at the Italian place for movie night?

= olives | dislike | no olives
S: Olives are the one food I just can't get into, green or black.
S: The briny taste of olives ruins anything they touch for me.
Q: Can you suggest a Mediterranean salad for lunch?
Q: What should I put on a charcuterie board for guests?

= garlic-love @garlic | like | lots of garlic
S: There's no such thing as too much garlic in my kitchen.
S: I double the garlic in every recipe, minimum.
Q: How should I season a roast for Sunday dinner?
Q: How should I jazz up a plain tomato sauce?

= fodmap @garlic | constraint | low-FODMAP, no onion or garlic
S: I'm on a low-FODMAP diet for my IBS, so onions and garlic are out.
S: My gut is sensitive; onion and garlic trigger flare-ups.
Q: Can you help me make a tomato sauce from scratch?
Q: What should I order from the burger place for delivery?

= eggs | allergy | no eggs, including in baked goods
S: Eggs give me hives, so I avoid them in any form.
S: I'm allergic to eggs, including the hidden ones in baked goods.
Q: What should I order for brunch this Sunday?
Q: Can you find me a pancake recipe for the weekend?

= tree-nuts | allergy | no tree nuts
S: Tree nuts are dangerous for me, especially cashews and walnuts.
S: Almonds, pecans, pistachios, I react to all of them.
Q: Which pesto should I buy for dinner tonight?
Q: What should I bake for my neighbor's housewarming?

= sushi @fish | like | sushi and raw fish
S: I could eat sushi three times a week and never get bored.
S: Raw fish is my happy place, especially a good omakase.
Q: Where should we go for our anniversary dinner in {city}?
Q: What should I get for takeout on a lazy Friday?

= fav-cuisine | like | {cuisine} food
S: {cuisine} food is my absolute favorite; I could eat it daily.
S: If it were up to me, every meal out would be {cuisine}.
Q: Where should I celebrate my promotion with the team on Friday?
Q: What cookbook should I ask for this holiday season?

= no-leftovers @batch | dislike | cooks small fresh portions, no leftovers
S: Leftovers depress me; I'd rather cook a small fresh meal each night.
S: Reheated food never tastes right to me, so I cook exactly what I'll eat.
Q: How big a batch of chili should I make for two people?
Q: Should I get the extra-large slow cooker?

= meal-prep @batch | habit | batch-cooks on Sundays for the week
S: I meal prep every Sunday so I don't have to think about lunches during the week.
S: Batch cooking on Sundays is how I survive my workweek.
Q: Can you give me some ideas for recipes that keep well?
Q: How should I plan my grocery list for the weekend?

= fermented | like | fermented foods (kimchi, miso)
S: Kimchi, sauerkraut, miso, I love anything fermented.
S: I make my own kimchi and there's always a jar bubbling on my counter.
Q: What's a good side dish to go with a rice bowl?
Q: What should I look for at the farmers market this weekend?

= no-alcohol @alcohol | constraint | no alcohol
S: I've been sober for almost four years, so no alcohol for me.
S: I don't drink at all, never have.
Q: What should I order at the bar during my team's happy hour?
Q: What should I bring to my friend's housewarming on Saturday?

= wine @alcohol | like | wine, natural reds
S: I'm a big wine person, mostly natural reds from small producers.
S: Wine tasting is my favorite way to spend a weekend.
Q: What should I do on a day trip from {city}?
Q: What should I pour with the lasagna I'm making tonight?

= craft-beer @alcohol | like | craft beer and breweries
S: I'm into craft beer, especially sours and hazy IPAs.
S: Visiting breweries is basically my hobby.
Q: Any ideas for a fun Saturday afternoon in {city}?
Q: What should I stock up on for friends coming over to watch the game?

# travel
= window-seat @seat | like | window seat
S: Window seats or nothing, I get anxious in the aisle.
S: I always grab the window so I can lean on the wall and sleep.
Q: I'm checking in for my flight to {city}; which spot should I choose?
Q: Any advice for picking where to sit on the overnight train to {city}?

= aisle-seat @seat | like | aisle seat
S: I need the aisle on planes, I'm up and down to stretch my legs constantly.
S: Aisle every time, I hate climbing over people.
Q: I'm checking in for my flight to {city}; which spot should I choose?
Q: Any tips for choosing where to sit on a twelve-hour flight?

= fear-flying @flying @seat !early-flights !direct-flights !business-travel !family-abroad \
!continents !points-churner | constraint | avoids flying; trains or driving
S: I avoid flying whenever I can; trains and long drives feel way safer to me.
S: Planes terrify me, so I'll take a twelve-hour train over a two-hour flight.
Q: How should I get to my cousin's wedding in {city} next spring?
Q: Can you sketch out a fortnight around Europe for me?

= climate-flying @flying @seat !early-flights !direct-flights !business-travel !family-abroad \
!continents !points-churner | constraint | flies as little as possible for climate reasons
S: I've cut out flying for climate reasons unless there's truly no alternative.
S: My carbon footprint matters to me, so planes are a last resort.
Q: How should I get to my cousin's wedding in {city} next spring?
Q: What's a good way to see Scandinavia this summer?

= train-lover @flying | like | long train journeys
S: Long train journeys are my favorite way to travel; I love watching the countryside.
S: Sleeper trains are the most romantic thing in the world to me.
Q: How should I get from Paris to Barcelona?
Q: What's a good way to cross Canada?

= hiking-trips @vacation-style | like | active hiking trips
S: My ideal vacation is a week of hiking with a backpack and a tent.
S: I plan every holiday around trails; give me a summit over a beach.
Q: Where should I go for my time off in September?
Q: Can you suggest a destination for a ten-day break this fall?

= beach @vacation-style | like | lazy beach vacations
S: Give me a beach chair, a book and zero plans, that's a real vacation.
S: My perfect trip is lying by the ocean doing absolutely nothing.
Q: Where should I go for my time off in September?
Q: Can you suggest a destination for a ten-day break this winter?

= culture-trips @vacation-style | like | museums, history, old towns
S: For me travel means museums, old churches and wandering city streets.
S: I'm happiest on trips spent in galleries and historic neighborhoods.
Q: Where should I go for my time off in September?
Q: Can you suggest a destination for a ten-day break this winter?

= budget-travel @travel-budget | constraint | budget travel (hostels, buses)
S: I travel on a shoestring: hostels, buses, and street food.
S: When I travel I keep costs as low as possible; cheap beds are fine by me.
Q: Where should I stay for four nights in {city}?
Q: How should I get around {city} for a week?

= luxury-travel @travel-budget | like | luxury travel (five-star hotels)
S: When I'm away I splurge: five-star hotels, room service, the works.
S: Travel is where I don't pinch pennies; I want the spa and the suite.
Q: Where should I stay for four nights in {city}?
Q: How should I get around {city} for a week?

= early-planner @booking | habit | books everything well in advance
S: I book trips months ahead; last-minute planning stresses me out.
S: I like every reservation locked in long before I leave.
Q: We're thinking about {city} next summer; what should we do first?
Q: When should I look at flights for our December holiday?

= spontaneous @booking | habit | no itinerary, decides on the fly
S: I never plan trips; I pick a place the night before and go.
S: Half the fun of travelling for me is not having an itinerary.
Q: We're thinking about {city} next summer; what should we do first?
Q: Can you put together a day-by-day schedule for my week in {city}?

= motion-sickness | constraint | avoids boats and winding roads (motion sickness)
S: I get horribly carsick, and boats are even worse.
S: Motion sickness ruins winding roads and ferries for me.
Q: Should I take the coastal drive or the highway to {city}?
Q: Is a whale-watching tour worth doing while I'm in {city}?

= solo-travel | like | travels solo at own pace
S: I mostly travel alone; I love setting my own pace.
S: Solo trips are my thing, no compromises on the schedule.
Q: Can you suggest somewhere to spend ten days abroad this spring?
Q: How do I make friends on the road when I'm in {city} for two weeks?

= cold-climate @climate | like | cold climates, snow
S: I'm a cold-weather person; snow and crisp air make me happy.
S: Heat wipes me out, give me a chilly mountain town any day.
Q: Where should I go for a long weekend in August?
Q: Which month would be nicest to visit {city}?

= warm-climate @climate | like | warm sunny places
S: I'm always cold, so I chase sunshine whenever I travel.
S: Anything below twenty degrees and I'm miserable.
Q: Where should I go for a long weekend in February?
Q: Which month would be nicest to visit {city}?

= carry-on | habit | carry-on only, no checked bags
S: I only ever travel with a carry-on; checked bags are a waste of time.
S: One small backpack is all I pack, even for two weeks.
Q: What should I bring for ten days in {city}?
Q: Which airline fare should I buy for my trip to {city}?

= hotel-loyalty | habit | sticks with one hotel chain for points
S: I'm loyal to one hotel chain for the points; I'm close to lifetime status.
S: Points matter to me, so I always stay with the same hotel group.
Q: Which place should I book for my conference in {city}?
Q: Can you find me somewhere to sleep near the convention center in {city}?

= road-trips | like | road trips
S: Road trips are my favorite way to see a country; I love a long drive.
S: Give me a car, a playlist and a map and I'm happy for weeks.
Q: How should I spend a fortnight exploring New Zealand?
Q: How should I explore Scotland this summer?

= phrases | habit | learns local phrases before a trip
S: Before any trip I learn at least a few phrases of the local language.
S: It's a ritual for me to pick up basic greetings wherever I'm headed.
Q: I'm off to {city} in three weeks; how should I get ready?
Q: What apps should I download before my vacation?

= food-travel | like | travels for food, markets and street stalls
S: I travel to eat; the restaurants are my sightseeing.
S: My trips are planned around markets and street food stalls.
Q: What should I do with three days in {city}?
Q: How should I spend a six-hour layover in {city}?

= early-flights | habit | takes the earliest flight
S: I always book the earliest flight out so I don't lose a day.
S: Six a.m. departures don't bother me; I'd rather arrive by lunch.
Q: Should I take the morning or afternoon option to {city} on Friday?
Q: Which connection should I pick for my trip to {city}?

= cruise-hate | dislike | no cruises
S: Cruises sound like a floating prison to me.
S: I'd never set foot on a giant cruise ship; the idea makes me claustrophobic.
Q: How should I see the Greek islands this summer?
Q: What's a relaxing way to visit Alaska?

= national-parks | plan | visiting every US national park
S: I'm trying to visit every US national park; I'm at twenty-three so far.
S: My big life goal is ticking off all of America's national parks.
Q: Where should I go for a week in May?
Q: What should I do with my long weekend in the fall?

= passport | plan | passport expires soon, not renewed
S: My passport expires in two months and I still haven't renewed it.
S: I really need to sort out my passport renewal, it runs out this spring.
Q: Can I book that trip to Japan for April?
Q: Should I grab the cheap fares to Lisbon for next quarter?

# hobbies
= instrument | habit | practices the {instrument} in the evenings
S: I've been learning the {instrument} for about a year now, practicing most evenings.
S: Playing the {instrument} is how I unwind after work every day.
Q: My downstairs neighbor complained about noise after 8pm; any ideas?
Q: Any ideas for a soundproofing setup in my spare room?

= pottery | habit | does wheel-thrown pottery
S: I took up pottery last spring and I'm at the wheel every Saturday.
S: Throwing clay is my favorite way to spend a weekend.
Q: Where could I sell the mugs and bowls I've been making?
Q: What's a good studio setup for a beginner with limited space?

= gardening | like | vegetable gardening
S: My vegetable garden is my pride and joy; I'm out there every morning.
S: I grow tomatoes, beans and way too much zucchini every summer.
Q: What should I do with my weekend now that spring is here?
Q: What should I do about the slugs eating everything?

= photography | like | film street photography
S: I shoot film photography, mostly street scenes on an old Leica.
S: I never go anywhere without my camera; photography is my main hobby.
Q: What's the best time of day to walk around {city}?
Q: What should I pack for a day wandering around {city}?

= knitting @tv | habit | knits constantly
S: I knit constantly; there's always a scarf or sweater on my needles.
S: Knitting keeps my hands busy while I watch TV.
Q: What should I do with all the leftover yarn in my closet?
Q: Any ideas for handmade holiday gifts this year?

= chess | like | plays chess seriously online
S: I play chess online every night; I'm trying to hit 1800.
S: Chess is my obsession, I study openings on the train.
Q: How can I get better at calculating several moves ahead?
Q: Which club should I join in {city} to meet like-minded people?

= climbing | habit | bouldering / rock climbing
S: I boulder at the climbing gym three times a week.
S: Climbing is my main sport; I'm working toward my first outdoor lead.
Q: My fingers and forearms are constantly sore; what helps?
Q: Where should I go for a weekend trip with good crags?

= sourdough @bread | habit | bakes sourdough every weekend
S: I bake sourdough every weekend; my starter is three years old.
S: Making bread from scratch is my weekend ritual.
Q: My loaf came out dense again, what went wrong?
Q: Which flour should I stock up on?

= birding | like | birdwatching
S: I'm a birder; I keep a life list and I'm up at dawn most weekends with binoculars.
S: Spotting warblers in migration season is my favorite thing.
Q: Where should I spend a quiet morning in {city}?
Q: What app would help me identify what I hear in the park?

= video-games @gaming | like | story-driven RPGs on PC
S: I'm a big gamer, mostly story-driven RPGs on PC.
S: Most nights I'm deep in some long role-playing game.
Q: Which monitor should I get for my desk?
Q: Which headset should I get for my evening sessions?

= board-games @gaming | habit | hosts a weekly board game night
S: I host a board game night every Thursday.
S: My shelves are full of tabletop games; strategy ones are my favorite.
Q: What should I add to my collection for when friends come over?
Q: What should I get for six friends to play together after dinner?

= woodworking | habit | woodworking in the garage
S: I spend weekends in my garage building furniture out of walnut and oak.
S: Woodworking is my therapy; I just finished my first dining table.
Q: How do I keep dust from spreading through the house?
Q: Which power tools are worth buying secondhand?

= salsa-dance | habit | takes salsa dance classes twice a week
S: I take salsa classes twice a week and I'm hooked.
S: Dancing salsa is my favorite way to blow off steam.
Q: What shoes should I get for Tuesday and Thursday nights?
Q: What's something fun to do on a night out in {city}?

= watercolor | like | paints watercolor landscapes
S: I paint watercolor landscapes whenever I get a free afternoon.
S: Painting with watercolors is my quiet hobby, mostly mountains and lakes.
Q: Which paper should I buy for my next batch of pieces?
Q: What should I do with a rainy Sunday?

= fishing | like | fly fishing
S: Fly fishing is my happy place; give me a river and waders.
S: I tie my own flies and spend summer mornings on the river.
Q: Where should I go for a quiet long weekend in Montana?
Q: What should I do at the lake cabin this July?

= surfing | habit | surfs most mornings, near good waves
S: I surf most mornings before work when the swell is decent.
S: Surfing is my whole personality at this point; I plan life around the tides.
Q: Where should I go for two weeks in Portugal?
Q: What should I look for in a new apartment?

= astronomy | like | stargazing with a telescope
S: I've got a telescope and I chase dark skies every new moon.
S: Stargazing is my thing; I drive hours to get away from light pollution.
Q: Where should I go camping in Utah next month?
Q: What should I do on a clear night this weekend?

= writing-novel | plan | writing a novel
S: I'm writing my first novel and I try to get a thousand words down every morning.
S: I'm about halfway through a draft of a mystery book I'm writing.
Q: How should I spend my week off in October?
Q: Is a laptop or a tablet better for me to buy?

= crossword | habit | does the daily crossword
S: I do the crossword every single morning before work.
S: Word puzzles are my thing; I haven't missed a daily crossword in years.
Q: What should I bring on a long flight to keep busy?
Q: Which newspaper should I subscribe to?

= vinyl | habit | collects vinyl records
S: I collect vinyl and spend Saturdays digging through record shops.
S: My record collection is pushing two thousand LPs.
Q: What should I do with an afternoon in {city}?
Q: What should I look for at the flea market this Sunday?

= volunteering | habit | volunteers at a food bank on Saturday mornings
S: I volunteer at a food bank every Saturday morning.
S: Saturday mornings I'm sorting donations at the community pantry.
Q: When's a good time for a brunch with friends?
Q: Can we do the team offsite on the first weekend of next month?

= lego | like | builds LEGO sets
S: I'm an adult LEGO fan; the big architecture sets are my weakness.
S: Building LEGO is how I switch my brain off after a long day.
Q: What's a good project for me when it's pouring on Saturday?
Q: How should I decorate the shelves in my office?

= horse-riding | habit | rides horses
S: I ride horses every weekend at a stable outside town.
S: Horseback riding has been my thing since I was eight.
Q: What's a fun way to spend a day in the countryside near Seville?
Q: What boots should I buy?

# work
= remote @workplace !commute | like | fully remote work
S: I work fully remote and I'd never go back to an office.
S: Working from home changed my life; commuting was killing me.
Q: Should I take the job offer in {city} that pays 15% more?
Q: What should I look for in my next apartment?

= office-lover @workplace | like | prefers working in an office with colleagues
S: I need the office; my kitchen table makes me stir-crazy.
S: I'm much more productive surrounded by colleagues than alone at home.
Q: My company is offering a permanent hybrid option; should I take it?
Q: Should I take the job offer with a fully distributed startup?

= morning-person @chronotype | identity | morning person, sharpest early
S: I'm a morning person, I do my sharpest thinking before nine.
S: Up at five, done with deep work by ten, that's my rhythm.
Q: When should I block time for writing my quarterly report?
Q: What time should I schedule my hardest workout?

= night-owl @chronotype !early-bed | identity | night owl, sharpest late
S: I'm a night owl; my brain only switches on after ten at night.
S: Mornings are a lost cause for me, I do my best stuff at midnight.
Q: When should I block time for writing my quarterly report?
Q: Should I sign up for the 7 a.m. spin class or the evening one?

= python @language | like | prefers Python
S: Python is my go-to for everything, I reach for it before any other language.
S: I write almost all my code in Python and I'm happiest there.
Q: What's the quickest way to automate renaming a thousand files?
Q: Which tools should I learn to analyze our sales spreadsheets?

= rust @language | like | prefers Rust
S: Rust is my favorite language; the compiler catching my mistakes is a comfort.
S: I write systems code in Rust whenever I get the chance.
Q: What should I use to build a fast command-line tool?
Q: What should I learn to build a game engine from scratch?

= typescript @language | like | prefers TypeScript
S: TypeScript is my home turf; I do everything from the browser to the server in it.
S: I'm a TypeScript developer through and through.
Q: Which stack should I pick for my side project's backend?
Q: What should I use to write a quick scraper for some product prices?

= meetings-hate | dislike | avoids meetings, prefers written/async
S: Meetings drain me; I'd take an email over a call any day.
S: Back-to-back video calls are my personal nightmare.
Q: How should I get feedback from my team on the new roadmap?
Q: What's a good way to kick off a project with a new client?

= after-hours | constraint | no work messages after 6 pm
S: I turn off work notifications at six sharp, my evenings are protected.
S: Once I log off, I don't answer messages until the next morning.
Q: My manager asked how to reach me about urgent issues; what should I tell her?
Q: Should I install the team chat app on my phone?

= manager @job | identity | manages a team of engineers
S: I manage a team of eight engineers at a fintech company.
S: I run an engineering team, so most of my day is one-on-ones and planning.
Q: How should I handle a tense conversation with an underperformer?
Q: What should I read to get better at my job this year?

= teacher @job !remote | identity | teaches middle-school science
S: I teach seventh-grade science at a public school.
S: My day job is teaching science to twelve-year-olds.
Q: How do I keep thirty kids engaged after lunch?
Q: When should I plan my big vacation?

= night-nurse @job !remote !morning-person !early-bed | identity | ER nurse on night shifts
S: I work night shifts as an ER nurse, so I sleep during the day.
S: I'm on nights in the emergency department, three or four a week.
Q: When's a good time to schedule my dentist appointment?
Q: How can I get better rest with blackout curtains and all?

= freelancer @job | identity | freelance designer, irregular income
S: I'm a freelance designer, so my income swings month to month.
S: Freelancing means some months are great and others are lean.
Q: How should I budget this year?
Q: Should I commit to a pricey car lease?

= ux-switch @job | plan | switching careers into UX design
S: I'm planning to move into UX design next year.
S: My goal is to leave accounting and become a user experience designer.
Q: Which online courses are worth my time this fall?
Q: What should I put in my portfolio site?

= pomodoro | habit | works in 25-minute focused sprints
S: I work in twenty-five-minute sprints with a timer, then take a short break.
S: The Pomodoro technique is the only way I get anything done.
Q: How should I structure tomorrow's long writing day?
Q: Can you help me plan an afternoon of studying for my exam?

= vim @editor | like | Vim, keyboard-driven tools
S: I live in Vim; I'd never leave for a mouse-driven editor.
S: Modal editing is burned into my fingers, hjkl forever.
Q: Which tool should I use for writing my Markdown notes?
Q: How should I set up my new laptop for programming?

= vscode @editor | like | VS Code
S: VS Code is my editor; the extensions make it perfect for me.
S: I do all my coding in Visual Studio Code.
Q: Which tool should I use for writing my Markdown notes?
Q: How should I set up my new laptop for programming?

= static-types | like | statically typed languages
S: I won't touch a codebase without static types anymore.
S: Dynamic typing drives me nuts; I want the compiler to catch my errors.
Q: Which language should I choose for a large project my team will maintain for years?
Q: What's a good way to start a new web app this weekend?

= tabs | like | tabs for indentation
S: I'm firmly in the tabs camp, no matter what anyone says.
S: Tabs for indentation, always; spaces feel wrong to me.
Q: How should I set up the formatter for my new repo?
Q: What config should I put in my editor for a fresh project?

= weekends-off | constraint | never works on weekends
S: Weekends are sacred; I never check work stuff on Saturday or Sunday.
S: From Friday evening to Monday morning I'm offline for my job.
Q: When should we schedule the production release?
Q: Should I sign up for the two-day hackathon over the bank holiday?

= public-speaking | dislike | dreads presenting to groups
S: Presenting in front of people makes me freeze up.
S: Public speaking terrifies me; my voice shakes every time.
Q: How should I share my project results with leadership?
Q: My friend asked me to give a toast at her wedding; what should I do?

= job-hunt | plan | quietly looking for a new job
S: I'm quietly looking for a new job; my current company doesn't know.
S: I've started interviewing elsewhere, but it's all hush-hush.
Q: Should I update my LinkedIn headline?
Q: What should I do with the three vacation days I have left?

# shopping
= sustainable | like | sustainable, ethically made brands
S: I try to buy only from sustainable brands, even if it costs more.
S: Fast fashion bugs me; I'd rather pay extra for ethically made clothes.
Q: Where should I look for a new winter coat?
Q: Can you recommend some sneakers for everyday wear?

= secondhand | like | secondhand and thrifted first
S: Almost everything I own is secondhand; thrift stores are my happy place.
S: I hunt for used stuff first, buying brand new is a last resort.
Q: I need a desk and two chairs for my apartment; where should I start?
Q: Where should I shop for a dress for my friend's wedding?

= tight-budget @spending !luxury-travel !early-adopter | constraint | tight budget, cheapest option
S: I'm on a tight budget right now, every dollar counts.
S: Money is really tight this year, so I go for the cheapest option every time.
Q: What laptop should I get for school?
Q: Can you suggest a gift for my mom's sixtieth?

= buy-once @spending | like | pays for top quality that lasts
S: I believe in buying the best once; I don't mind paying a premium.
S: Cheap stuff that breaks is a false economy, so I go for top quality.
Q: What laptop should I get for school?
Q: Which vacuum cleaner should I get?

= online-only @shop-channel | habit | shops online, avoids stores
S: Shopping in person stresses me out; I order everything online.
S: Malls are my nightmare, so it's all deliveries for me.
Q: Where should I get a new pair of jeans?
Q: How should I get my groceries this week?

= local-shops @shop-channel | like | supports small local shops
S: I make a point of supporting small local shops over big chains.
S: Independent stores get my money whenever possible; I skip the giant retailers.
Q: Where should I buy a birthday present for my niece?
Q: Where should I get a new pair of jeans?

= minimalist !maximalist !minimal-decor !vinyl !sneakerhead !hats !lego | identity | minimalist, \
owns very little
S: I'm a minimalist; if it doesn't fit in one closet, I don't buy it.
S: Owning less is a big deal to me; clutter makes me anxious.
Q: Should I grab the bread maker that's on sale?
Q: What should I get from the huge furniture sale this weekend?

= zero-waste | constraint | zero-waste, no plastic packaging
S: I'm trying to go zero-waste, especially when it comes to packaging.
S: Single-use plastic drives me crazy; I bring jars to the bulk store.
Q: Which grocery delivery service should I sign up for?
Q: What should I pack for lunch on the hike Saturday?

= organic | habit | buys organic produce
S: I buy organic produce whenever possible.
S: Pesticides worry me, so our fruit and vegetables are certified organic.
Q: Where should I do my weekly grocery run?
Q: Which meal-kit service would suit me?

= petite @height | identity | petite sizing
S: I'm petite, so regular trousers always drown me.
S: At five foot one, most standard sizes are way too long on me.
Q: Where should I look for work pants?
Q: Which brand should I try for a winter coat?

= coupons @spending | habit | hunts for discounts and coupon codes
S: I never pay full price; I always hunt down a coupon code first.
S: Finding a discount is half the fun of buying anything for me.
Q: I'm about to order a new blender; anything I should do before checking out?
Q: Where should I get new running shoes?

# health
= marathon @running | plan | training for a marathon in {month}
S: I'm training for a marathon in {month}, my first one ever.
S: I signed up for the {month} marathon, so long runs are my weekends now.
Q: What should I eat the night before a big race?
Q: Which shoes should I buy with my birthday money?

= bad-knee !marathon !running-club !climbing !ski !salsa-dance !tennis !hiking-trips | \
constraint | bad knee, no high-impact exercise
S: My left knee is bad, so no jumping or running for me.
S: After two surgeries on my knee, high-impact exercise is out.
Q: What's a good workout I can do at the hotel gym?
Q: Should I join my friends' hiking trip down the Grand Canyon?

= back-pain | constraint | chronic lower back pain
S: I have chronic lower back pain, so sitting for long stretches is rough.
S: My lumbar spine is a mess; I can't sit more than an hour without hurting.
Q: What should I look for in an office chair?
Q: Any tips for a six-hundred-mile drive?

= no-gym @gym | dislike | exercises outdoors, not in gyms
S: I hate gyms; I'd rather exercise outside in any weather.
S: Treadmills and mirrors feel like a hamster cage to me, I work out outdoors.
Q: How can I stay in shape this winter?
Q: Is the corporate fitness membership worth signing up for?

= lifting @gym | habit | lifts weights four times a week
S: I lift weights four times a week, mostly powerlifting.
S: Squats, deadlifts and bench are my religion.
Q: How much protein should I eat in a day?
Q: Which hotel in {city} has a proper barbell setup?

= swimming | habit | swims laps every morning
S: I swim laps every morning at the community pool.
S: Swimming is my main exercise; I do about two kilometers a day.
Q: Which hotel in {city} would suit my fitness habit?
Q: What should I pack for a week at my parents' place?

= light-sleeper | constraint | light sleeper, needs quiet
S: I'm a light sleeper; the slightest noise wakes me up.
S: Even a ticking clock keeps me awake at night.
Q: Which room should I request at the hotel?
Q: Should I take the apartment above the bar on Main Street?

= migraines | constraint | migraines triggered by flashing lights
S: Bright flashing lights give me migraines.
S: Strobes and flickering screens trigger my headaches.
Q: Is the new immersive art exhibit worth a visit?
Q: Should I go to the club night my friends are planning?

= asthma | constraint | asthma, triggered by cold air and exertion
S: Cold air and heavy exercise can trigger my asthma.
S: My lungs aren't great; I carry an inhaler for my asthma.
Q: Is a winter trek in Nepal a good idea for me?
Q: Should I sign up for the polar plunge on New Year's Day?

= hay-fever | constraint | bad hay fever in spring
S: Hay fever knocks me out every spring.
S: Pollen season is brutal for me, I'm sneezing from April to June.
Q: Should I plan the picnic for early May or late September?
Q: When's the best time for me to visit the botanical gardens?

= cat-allergy @cats | allergy | allergic to cats
S: I'm allergic to cats; my eyes swell up instantly.
S: Cat dander is my kryptonite, I can't be in a room with one.
Q: My friend offered to let me crash at her place; she has two Persians. Good idea?
Q: Which pet would suit my apartment?

= meditation | habit | meditates every morning
S: I meditate for twenty minutes every morning.
S: Sitting meditation is the anchor of my day.
Q: How can I keep calm before my big presentation?
Q: What should I look for in a good travel routine?

= quit-smoking | plan | recently quit smoking
S: I'm three months into quitting cigarettes.
S: I quit smoking in the spring and I'm fighting to stay clean.
Q: How should I handle the office party where everyone hangs out on the patio?
Q: What should I do when I'm stressed at work?

= contacts | constraint | wears contacts, dry eyes
S: I wear contacts and my eyes get really dry.
S: My contact lenses make my eyes scratchy by the afternoon.
Q: What should I pack for a long-haul flight?
Q: Any tips for a day at the beach?

= pregnant @kids @alcohol !scuba | plan | pregnant, due in {month}
S: I'm pregnant with our first, due in {month}.
S: We're expecting a baby in {month}, so I'm in my second trimester now.
Q: Can you suggest a relaxing spa weekend?
Q: What should I order at the sushi place tonight?

= step-goal | habit | walks 12,000 steps a day
S: I aim for twelve thousand steps a day, no matter what.
S: Walking is my main exercise; my step count is sacred.
Q: How should I get to the museum from my hotel?
Q: What's a good way to spend my lunch break?

= weight-loss | plan | trying to lose weight before summer
S: I'm trying to lose fifteen pounds before summer.
S: I'm on a weight-loss plan and counting calories right now.
Q: What should I order at the burger place?
Q: How should I handle the buffet at my cousin's wedding?

= tennis | habit | plays tennis twice a week
S: I play tennis every Tuesday and Thursday.
S: Tennis is my sport; I'm in a doubles league.
Q: Can you suggest a hotel with courts for my trip to {city}?
Q: What should I do about the pain on the outside of my elbow?

= cycling | habit | road cyclist, long weekend rides
S: I'm a road cyclist; I ride a hundred miles most weekends.
S: Cycling is my main sport, I'm on the bike five days a week.
Q: What should I do about numb hands after a long Saturday out?
Q: How should I spend my vacation in the Dolomites?

= hearing-sensitive @live-music | constraint | tinnitus, avoids loud venues
S: Loud concerts hurt my ears; I've got tinnitus.
S: My ears ring for days after anything loud, so I'm careful with volume.
Q: Should I go to the festival in July?
Q: Where should we go for my birthday drinks?

# music
= jazz | like | jazz, especially classic records
S: Jazz is my music, especially old Blue Note records.
S: Nothing relaxes me like a smoky trio playing standards.
Q: What should I do on a Friday night in {city}?
Q: Can you make me a playlist for a dinner party?

= metal | like | heavy metal
S: I'm a metalhead through and through.
S: The heavier the riffs, the happier I am; doom and thrash especially.
Q: Can you make me a playlist for the gym?
Q: What should I do in Helsinki for a weekend?

= classical | like | classical music
S: Classical music is what I listen to all day, mostly Bach.
S: I've had a symphony subscription for years; orchestral stuff is my thing.
Q: What should I do on a Sunday afternoon in Vienna?
Q: What should I put on while I focus on my taxes?

= no-country | dislike | no country music
S: I can't stand country music, the twang makes me cringe.
S: Country songs are the one genre I'll always skip.
Q: What should we play on our road trip through Tennessee?
Q: Can you make a playlist for my backyard barbecue?

= live-music @live-music | like | live gigs and concerts
S: Live music is my favorite thing; I go to a gig almost every week.
S: Standing in a sweaty venue watching a band is my idea of heaven.
Q: What's on in {city} this weekend?
Q: Where should we go for my birthday drinks?

= podcasts | habit | listens to true-crime podcasts
S: I listen to true-crime podcasts on every commute.
S: Murder mystery shows in my earbuds are how I get through chores.
Q: What should I queue up for my drive to work?
Q: How can I make folding laundry less boring?

= silence-work | constraint | needs silence to concentrate
S: I can't concentrate with music on; total silence only.
S: Any background noise wrecks my focus when I'm working.
Q: Should I get the open-plan coworking pass or a private booth?
Q: How should I set up my study space?

= kpop | like | K-pop
S: I'm a huge K-pop fan; those groups got me through the pandemic.
S: K-pop is basically my soundtrack, I know every comeback date.
Q: Where should I go on my first trip to Asia?
Q: What should I do in Seoul on a Saturday?

= karaoke | like | karaoke nights
S: Karaoke is my favorite night out.
S: Hand me a mic and a power ballad and I'm in heaven.
Q: Any ideas for my thirtieth birthday?
Q: What's a fun team outing for twelve people?

= choir | habit | sings in a community choir
S: I sing in a community choir on Wednesday nights.
S: Choir rehearsal is the highlight of my week; I'm an alto.
Q: What should I do about my scratchy throat before the weekend concert?
Q: Can I make it to the midweek evening yoga class?

= eighties | like | eighties synth-pop
S: Nothing beats eighties synth-pop for me.
S: Depeche Mode, New Order, Tears for Fears: that decade's music is my comfort zone.
Q: Can you make a playlist for my party?
Q: What should I dress up as for the costume night?

# film and TV
= horror-hate @horror | dislike | no horror films
S: Horror movies give me nightmares for weeks, so I avoid them completely.
S: I can't do scary films, I end up sleeping with the lights on.
Q: What should we watch on Friday night?
Q: What should I do for Halloween this year?

= horror-love @horror | like | horror films
S: Horror is my favorite genre; the scarier the better.
S: Slasher flicks are my version of comfort TV.
Q: What should we watch on Friday night?
Q: What should I do for Halloween this year?

= documentaries | like | nature documentaries
S: Documentaries are my favorite kind of viewing, nature ones especially.
S: I'd pick a David Attenborough series over any blockbuster.
Q: What should I watch tonight if I'm in the mood for something real?
Q: What's worth streaming this weekend? I'd like to learn something while I relax.

= foreign-films | like | foreign-language films
S: I love foreign films; subtitles don't bother me at all.
S: Some of my all-time favorites are Korean and Iranian cinema.
Q: I've run out of Hollywood stuff; what's worth streaming this weekend?
Q: What should I put on for a quiet night in?

= no-spoilers | dislike | no spoilers at all
S: I hate spoilers with a passion, don't even tell me the premise.
S: Please never reveal plot twists to me; I want to go in blind.
Q: Can you fill me in on the new Dune movie?
Q: What's the deal with the finale everyone is talking about?

= anime | like | anime, Studio Ghibli
S: I've watched way too much anime; Studio Ghibli is sacred to me.
S: Japanese animation is my comfort zone, Miyazaki above all.
Q: What should I see in Tokyo?
Q: What film should I show my niece at her first sleepover?

= romcoms | like | romantic comedies
S: Romantic comedies are my comfort watch.
S: Give me a meet-cute and a happy ending and I'm sold.
Q: What should I put on for a cozy night in?
Q: What's worth streaming for a Valentine's night on the sofa?

= scifi | like | science fiction
S: Sci-fi is my genre, books and films both.
S: Spaceships, time travel, alien worlds: that's my stuff.
Q: What should I read on the plane?
Q: What's a mind-bending show I could binge next?

= football-fan | like | supports {team}
S: I'm a die-hard {team} supporter; I never miss a match.
S: Football is life, and {team} is my club since I was a kid.
Q: What should I do this Saturday afternoon?
Q: Should I book my trip to Europe for March or April?

= theater | like | theater and musicals
S: I see a play or a musical at least once a month.
S: Live theater is my favorite treat, especially Broadway musicals.
Q: What should I do on my trip to London?
Q: What should I do on an evening in New York?

= short-films | dislike | no long films
S: I can't sit through movies longer than two hours.
S: Anything past a hundred minutes and I'm checking my phone.
Q: Is the new Scorsese film worth seeing?
Q: What should we watch tonight?

= reality-tv @tv | like | reality TV
S: Reality TV is my guilty pleasure, the trashier the better.
S: Dating shows and cooking competitions are my wind-down after work.
Q: What should I put on while I fold laundry?
Q: What can I stream that needs zero brainpower after a rough day?

# books
= fantasy | like | epic fantasy novels
S: Fantasy novels are my escape; I've read Tolkien a dozen times.
S: Dragons, maps in the front, thousand-page epics: that's my reading.
Q: What should I pack to keep me busy on vacation?
Q: Can you suggest a series to get lost in this winter?

= audiobooks @book-format | habit | listens to audiobooks
S: I mostly read through audiobooks while I walk or cook.
S: My eyes are tired after work, so all my reading happens through headphones.
Q: How can I get through more books this year?
Q: What app should I get for my daily strolls?

= paper-books @book-format | like | physical paper books
S: I only read paper books; screens ruin it for me.
S: The smell of a printed page matters to me, no e-readers.
Q: Should I get a Kindle for my commute?
Q: How should I set up a cozy corner with an armchair and a lamp?

= history-books | like | history books, especially World War II
S: I mostly read history books, especially about the Second World War.
S: I'm obsessed with twentieth-century history, battle accounts in particular.
Q: What should I do in Normandy?
Q: Where should I go in Belgium for a long weekend?

= book-club | habit | runs a monthly book club
S: I run a book club that meets the first Monday of each month.
S: Our reading group has met monthly for six years and I pick the titles.
Q: What novel should we go with next?
Q: How should I lead a discussion of a long novel with eight people?

= mysteries | like | detective novels
S: I'm hooked on detective novels; Agatha Christie is my comfort read.
S: Whodunits are my favorite; I always try to guess the killer.
Q: What should I bring to pass the time on the train to Edinburgh?
Q: Which audiobook should I queue up for my commute?

= library | habit | borrows books from the library
S: I borrow everything from the library; I rarely buy books.
S: My library card is the most used thing in my wallet.
Q: Where can I find the new Sally Rooney novel?
Q: How can I read more without spending money?

# home
= cold-bedroom | constraint | sleeps in a cold room
S: I can only sleep in a cold room, around seventeen degrees.
S: If the bedroom is warm I toss and turn all night.
Q: What bedding should I buy for winter?
Q: What should I ask the hotel about when I book?

= houseplants | like | lots of houseplants
S: My apartment is basically a jungle; I have over forty houseplants.
S: I spend more on pots and potting soil than on clothes.
Q: Who can look after things while I'm away for two weeks?
Q: Which flat should I pick, the north-facing one or the south-facing one?

= minimal-decor @decor | like | clean, minimal decor
S: I like clean, empty surfaces and almost no decor.
S: White walls and bare shelves calm me down.
Q: How should I do up my living room?
Q: What should I hang above the sofa?

= maximalist @decor | like | colorful, maximalist decor
S: I'm a maximalist; more color, more pattern, more stuff on the walls.
S: Bare walls depress me, I want every inch full of art and textiles.
Q: How should I do up my living room?
Q: What should I hang above the sofa?

= renter @housing | constraint | renter, can't drill or paint
S: I rent, so I can't drill holes or paint the walls.
S: My lease is strict: no nails, no paint, nothing permanent.
Q: How can I hang some art in my bedroom?
Q: How can I make the kitchen feel more like mine?

= renovating @housing | plan | renovating the kitchen this spring
S: We just bought a 1920s house and we're redoing the kitchen this spring.
S: Our renovation starts in March, so the whole downstairs will be torn up.
Q: How should I budget for the next six months?
Q: Should I host Easter for the family this year?

= hate-cleaning | dislike | hates cleaning
S: Cleaning is my least favorite chore; I'd pay anyone to do it.
S: Scrubbing the bathroom is the worst part of my week.
Q: Is a robot vacuum worth it?
Q: What gadget would make my weekends nicer?

= small-flat !renovating !chickens !beekeeping !bbq !woodworking !composting | constraint | very \
small apartment
S: My studio is tiny, about thirty square meters.
S: I live in a shoebox apartment with zero storage.
Q: Should I buy the big sectional that's on sale?
Q: What kitchen appliances are worth getting?

= fragrance-free | constraint | no strong fragrances (headaches)
S: Strong fragrances give me headaches: no scented candles or air fresheners.
S: Perfume and scented products make my head pound.
Q: What should I get to make the bathroom smell nice?
Q: What laundry detergent should I buy?

= cast-iron | like | cooks in cast iron
S: I cook everything in cast iron, I have six skillets.
S: My grandmother's iron pans are my most prized possession.
Q: What should I put on my wedding registry for the kitchen?
Q: What's a good way to sear scallops?

= no-tv @tv | identity | doesn't own a TV
S: We don't own a television and we like it that way.
S: Our house has no TV; evenings are for reading and games.
Q: How should I set up my living room?
Q: What should I do with my Friday nights this winter?

= fresh-air | habit | keeps windows open year-round
S: I keep the windows open year-round, even in January.
S: I sleep with the window cracked no matter how cold it gets.
Q: What should I look for in an air purifier or heater?
Q: Which room should I take in the new place?

# pets
= dog-owner @dogs | identity | has a dog, {dog}, who comes along everywhere
S: My golden retriever {dog} comes with me everywhere.
S: {dog}, my big shaggy mutt, is basically my shadow.
Q: Can you find me a cabin for a long weekend in the mountains?
Q: Which café terraces in {city} would work for us on Sunday?

= dog-fear @dogs | dislike | nervous around dogs
S: Dogs make me nervous; I was bitten as a kid.
S: Big barking animals on leashes freak me out, I cross the street.
Q: Should I take the job at the startup where people bring pets to the office?
Q: Which park should I go to for my morning jog?

= cat-owner @cats | identity | has a cat, {cat}
S: I have two cats, {cat} and Pip, and they rule the house.
S: {cat}, my tabby, sleeps on my keyboard every afternoon.
Q: Any tips for leaving home for a week?
Q: Which plants are okay to bring into the apartment?

= puppy-plan @dogs | plan | adopting a puppy this summer
S: We're planning to adopt a puppy this summer.
S: We've been approved by the shelter and a pup comes home in July.
Q: Should I get the white linen couch?
Q: What should I look for in a rental?

= aquarium | habit | keeps a reef aquarium
S: I keep a reef aquarium, and it takes hours of care every week.
S: My saltwater tank with corals is my baby.
Q: What should I check before leaving for a fortnight?
Q: What should I worry about if the power goes out?

= rabbit | identity | has a house rabbit
S: I have a house rabbit who roams free in the apartment.
S: My bunny chews every cable she can find, so everything is bunny-proofed.
Q: Which houseplants should I avoid?
Q: How should I tidy up the wires behind my desk?

= parrot | identity | has a parrot
S: My African grey parrot talks more than I do.
S: I share my flat with a very loud cockatoo.
Q: Is it okay to use my nonstick pans?
Q: Can I light scented candles in the living room?

= foster-kittens @cats | habit | fosters kittens for a shelter
S: I foster kittens for the local shelter.
S: There's usually a litter of tiny rescue cats in my spare bathroom.
Q: How should I set up the guest room for the next batch?
Q: What should I buy in bulk this month?

# family
= young-kids @kids | identity | two kids under five
S: I have two kids under five, so my life revolves around naps.
S: Our toddlers are three and one, and they run the show.
Q: Which restaurant should we go to on Saturday?
Q: Where should we go for a week at the beach?

= teen-driver @kids | identity | teenage son learning to drive
S: My son just turned sixteen and is desperate to get his license.
S: My teenager is learning to drive, so I'm in the passenger seat a lot.
Q: What changes should I make to our car insurance?
Q: Which used car should we get as a second vehicle?

= childfree @kids | identity | no kids, doesn't plan any
S: No kids and not planning any; it's just me and my partner.
S: We're happily child-free, by choice.
Q: Should we buy a house with a big yard in the suburbs?
Q: Where should we go for a week at the beach?

= co-parent @kids | identity | co-parents, kids every other week
S: I co-parent with my ex, so I only have the kids every other week.
S: Custody is split fifty-fifty, and my weeks with the children are hectic.
Q: Can you help me plan my workouts for the month?
Q: When should I schedule my work trips?

= grandparent @kids | identity | grandparent of three
S: I'm a grandmother of three, and they stay with me most Fridays.
S: My grandkids are over every weekend.
Q: What should I make for lunch when the little ones come over?
Q: What kind of car should I get next?

= elder-care | identity | caregiver for a parent with dementia
S: I look after my mom, who has Alzheimer's.
S: My father has dementia and lives with me, so I can't be away long.
Q: How should I plan a short trip for myself?
Q: Should I take the job that requires monthly travel?

= family-abroad | habit | flies to see parents in {city} every Christmas
S: My parents live in {city}, so I fly there every Christmas.
S: Every December I go home to {city} to see my family.
Q: When should I book my winter holiday trip?
Q: Should I take the offer for a ski week over the holidays?

= sunday-dinner @sunday | habit | family dinner at grandmother's every Sunday
S: Sunday dinner at my grandmother's is sacred.
S: Every Sunday evening the whole clan eats at Nana's.
Q: Can we schedule the team offsite for the weekend?
Q: When should I plan my friend's birthday meal this weekend?

= sister-wedding | plan | maid of honor at sister's wedding in {month}
S: My sister is getting married in {month} and I'm the maid of honor.
S: My sister's wedding is in {month}, and I'm giving a speech.
Q: What should I plan for the next few weekends?
Q: Can you help me write something funny but sweet?

= homeschool @kids | identity | homeschools two kids
S: We homeschool our two kids.
S: I teach my children at home instead of sending them to school.
Q: What should I do with a free Tuesday morning?
Q: How should I set up a learning space in our house?

# tech
= mac @os | like | Mac user
S: I'm a Mac person through and through.
S: Everything I own is Apple, from the laptop to the watch.
Q: Which video editing software should I buy?
Q: How should I set up a dev environment for Python?

= linux @os | like | Linux user
S: I run Linux on everything; Arch on my laptop, Debian on my servers.
S: Open-source operating systems only, I wiped Windows years ago.
Q: Which video editing software should I buy?
Q: How should I set up a dev environment for Python?

= windows @os | like | Windows user
S: I'm on Windows for work and gaming, and it does the job for me.
S: My PC runs Windows and I'm not switching.
Q: Which video editing software should I buy?
Q: How should I set up a dev environment for Python?

= iphone @phone | like | iPhone user
S: I've had an iPhone since the very first one.
S: iOS is the only phone system I'm comfortable with.
Q: Which smartwatch should I get?
Q: What's the best way to share photos with my family?

= android @phone !privacy | like | Android user
S: I'm an Android person; I like being able to tinker.
S: My phone is a Pixel and I'll never switch to an iPhone.
Q: Which smartwatch should I get?
Q: What's the best way to share photos with my family?

= dark-mode | like | dark mode everywhere
S: Dark mode everywhere; bright white screens hurt my eyes.
S: I set every app to a black background, light themes feel blinding.
Q: How should I configure my new code editor?
Q: Which note-taking tool should I try?

= privacy | constraint | privacy-conscious, avoids Google products
S: I'm paranoid about privacy; I avoid Google products.
S: Data tracking creeps me out, so I use encrypted everything.
Q: Which email provider should I switch to?
Q: What's a good map app for my trip to {city}?

= no-social | identity | no social media
S: I deleted all my social media accounts two years ago.
S: No Instagram, no Facebook, no TikTok; I'm off the grid socially.
Q: How can I promote my bakery?
Q: How should I keep up with old friends?

= early-adopter !old-phone | habit | buys new gadgets at launch
S: I always buy the newest gadgets on launch day.
S: I pre-order every new phone and headset the minute they drop.
Q: Should I wait before upgrading my laptop?
Q: Should I wait for reviews of the latest VR goggles?

= no-smart-home | dislike | no internet-connected devices at home
S: I don't want any internet-connected devices in my house.
S: Smart speakers listening in my kitchen? No thanks.
Q: What thermostat should I buy?
Q: What doorbell should I get for the new place?

= mech-keyboards | like | mechanical keyboards
S: I'm obsessed with mechanical keyboards; I build my own.
S: Clicky switches and custom keycaps are my weakness.
Q: What should I tinker with this weekend?
Q: How should I upgrade my desk setup?

= self-host | habit | self-hosts services on a home server
S: I self-host everything I can on a home server.
S: My photos, passwords and calendar all run on a box in my closet.
Q: Which cloud backup service should I pay for my pictures?
Q: Where should I keep all my logins?

= paper-planner | habit | uses a paper planner
S: I still keep a paper planner; apps never stick for me.
S: A notebook and a pen beat any to-do app for me.
Q: How should I organize my tasks for the new quarter?
Q: What productivity tool should I try this year?

# finance
= student-loans | constraint | paying off student loans aggressively
S: I'm paying off student loans aggressively; every spare dollar goes there.
S: My priority is killing my student debt by the end of next year.
Q: What should I do with my tax refund?
Q: Should I lease a new car?

= house-savings | plan | saving for a house down payment
S: We're saving for a down payment on a house by next year.
S: Every month we put money aside to buy our first home.
Q: Should I splurge on a new car this spring?
Q: Is a two-week trip to Japan a good idea right now?

= index-funds @investing | like | passive index-fund investing
S: I'm a boring index-fund investor, no stock picking.
S: I just buy the total market every month and never look at it.
Q: Should I put money into that new AI startup my friend mentioned?
Q: What should I do with my year-end bonus?

= crypto @investing | like | big crypto holder
S: I keep about a third of my savings in crypto.
S: I've been into Bitcoin since 2016 and I'm still bullish.
Q: What should I do with my year-end bonus?
Q: How should I diversify my portfolio?

= no-credit @credit | constraint | no credit cards, debit or cash only
S: I don't use credit cards; debit or cash only.
S: I cut up my last credit card and swore off them.
Q: How should I book the rental car for my trip?
Q: What's the best way to pay for the hotel in {city}?

= points-churner @credit | habit | collects credit card travel points
S: I churn credit cards for travel points.
S: Every purchase goes on a rewards card; miles pay for my flights.
Q: Should I finance the new fridge or use my debit?
Q: How should I book the hotel in {city}?

= charity | habit | gives 10% of income to charity
S: I give ten percent of my income to charity.
S: Tithing a tenth of what I earn to good causes is non-negotiable for me.
Q: How should I plan my year-end finances?
Q: How should I split my raise?

= fire | plan | aiming to retire early at 45
S: I'm aiming to retire at forty-five.
S: My plan is financial independence by my mid-forties.
Q: Should I take the pay cut for a job I'd enjoy more?
Q: Should we buy the bigger house?

= ethical-investing | constraint | no fossil fuel or weapons investments
S: I refuse to invest in fossil fuels or weapons.
S: My money only goes into funds that pass an ethical screen.
Q: Where should I put my retirement savings?
Q: Should I buy shares in that big oil company everyone's recommending?

= expense-tracker | habit | tracks every expense in a spreadsheet
S: I track every single expense in a spreadsheet.
S: Every coffee and bus fare goes into my budget sheet.
Q: How should I keep tabs on my spending during the trip?
Q: What app should I use to split costs with my roommate?

# communication
= concise @verbosity | like | short, to-the-point answers
S: Keep answers short with me; I don't need the essay.
S: Brevity, please: two or three lines is plenty.
Q: Can you explain how mortgages work?
Q: What's the difference between a Roth and a traditional IRA?

= detailed @verbosity | like | thorough, detailed explanations with examples
S: I like thorough explanations with examples; don't skip steps.
S: Go deep with me, the more detail the better; I like to understand why.
Q: Can you explain how mortgages work?
Q: How does public key cryptography work?

= bullets | like | bullet points, not walls of text
S: Bullet points over paragraphs, please; walls of text lose me.
S: Lists are easier for me to scan than long prose.
Q: Can you summarize the pros and cons of leasing a car?
Q: What should I know before adopting a cat?

= texts-not-calls | dislike | hates phone calls, prefers text
S: I hate phone calls; text me any day.
S: Ringing phones give me anxiety, so I do everything by message.
Q: How should I reach the plumber about the leak?
Q: What's a good way to cancel my gym membership?

= blunt-feedback | like | blunt, direct feedback
S: Give me blunt feedback, no sugarcoating.
S: Be brutally honest with me; compliments don't help me improve.
Q: What do you think of my cover letter draft?
Q: Can you look over my pitch deck?

= metric | constraint | metric units
S: I think in metric; miles and Fahrenheit mean nothing to me.
S: Kilometers and Celsius please, the imperial system confuses me.
Q: How far is it from Boston to New York, and what's the weather there in March?
Q: How much should my baby weigh at six months?

= clock-24 | constraint | 24-hour time
S: Please use twenty-four-hour time with me; am and pm confuse me.
S: I read times military-style, like 18:30 rather than half past six.
Q: When does the last train leave tonight?
Q: When does the sun set in Madrid in July?

= simple-english @language-pref | constraint | simple English (second language)
S: English is my second language, so simple words help me.
S: My English is okay but not great; short, plain sentences are easier.
Q: Can you explain what a mortgage escrow account is?
Q: What does my rental contract's clause about deposits mean?

= no-emojis | dislike | no emojis in work messages
S: Emojis in work messages drive me nuts.
S: Smiley faces and thumbs-up icons look unprofessional to me.
Q: Can you help me write a Slack announcement for the team?
Q: Could you draft a congratulations note for my colleague?

= sources | like | wants sources cited
S: I always want sources when you tell me facts.
S: Cite where information comes from, or I won't trust it.
Q: Is red wine good for the heart?
Q: How much water should a person drink daily?

= spanish-speaker @language-pref | constraint | more comfortable in Spanish
S: I'm more comfortable in Spanish than in English.
S: My first language is Spanish; I'd rather read in it.
Q: Can you explain how to file my taxes?
Q: What should I know about renewing my visa?

# accessibility
= wheelchair @mobility !hiking-trips !climbing !salsa-dance !surfing !ski !running-club \
!marathon !step-goal !walker !cycling !tennis !horse-riding !camping | constraint | wheelchair \
user, needs step-free access
S: I use a wheelchair, so stairs are a real problem for me.
S: Step-free access is a must for me since I'm in a chair.
Q: Which museums should I visit in {city}?
Q: Where should I stay for a weekend in Venice?

= cane @mobility !hiking-trips !climbing !salsa-dance !surfing !ski !running-club !marathon \
!walker !tennis | constraint | walks with a cane, limited walking
S: I walk with a cane since my hip surgery.
S: Long distances on foot are hard for me after my hip replacement.
Q: How should I see the sights in {city}?
Q: What should I do at the zoo this weekend?

= colorblind | constraint | red-green colorblind
S: I'm red-green colorblind.
S: I can't tell reds from greens, which makes charts a nightmare.
Q: Can you suggest a palette for my slides?
Q: How should I label the wires for my home project?

= hearing-aids | constraint | hard of hearing, needs quiet places
S: I'm hard of hearing and wear hearing aids.
S: Noisy rooms make it impossible for me to follow a conversation.
Q: Which restaurant is good for a business dinner?
Q: How should I join the video meeting from my laptop?

= low-vision | constraint | poor eyesight, needs large text
S: My eyesight is poor; I need large text.
S: Tiny print is hopeless for me, even with glasses.
Q: Which e-reader should I buy?
Q: How should I set up my new phone?

= dyslexia | constraint | dyslexic, prefers non-text formats
S: I'm dyslexic, so long dense text is hard for me.
S: Reading walls of words takes me forever because of my dyslexia.
Q: How should I study for my certification exam?
Q: What's the best way to learn about investing?

= heights !climbing | constraint | afraid of heights
S: Heights terrify me; glass floors and cliff edges are a no.
S: I get dizzy and panicky anywhere high up.
Q: What should I do in Toronto?
Q: Is the Cinque Terre coastal path a good day out?

= claustrophobia | constraint | claustrophobic, avoids tight spaces
S: Tight spaces make me panic, like elevators and caves.
S: I'm claustrophobic; small enclosed rooms are awful for me.
Q: Should I do the catacombs tour in Paris?
Q: Is an MRI something I should prepare for in any special way?

= adhd | constraint | ADHD, needs tasks broken into small steps
S: I have ADHD, so I need tasks broken into tiny steps.
S: My attention wanders fast; big projects overwhelm me unless they're chunked.
Q: How do I tackle clearing out my garage?
Q: Can you help me plan my thesis?

= sensory @social-energy | constraint | overwhelmed by loud, crowded places
S: Loud, crowded places overwhelm me; I'm autistic.
S: Bright lights and noisy crowds send my senses into overload.
Q: Where should we go for my birthday?
Q: How should I do my holiday shopping?

# schedule
= early-bed | habit | in bed by 9:30
S: I'm in bed by nine thirty every night.
S: Lights out before ten, always; I'm useless without my sleep.
Q: Should we book the 9 p.m. or the 6 p.m. table?
Q: Can I make the late showing of the new movie?

= rest-day @sunday | habit | keeps Sundays free, no plans
S: Sundays are my rest day, no plans.
S: I keep one day a week totally free, and it's always Sunday.
Q: When should we schedule the apartment move this weekend?
Q: Can you fit a dentist visit and a haircut into my weekend?

= lunch-workout | habit | works out at noon every day
S: I work out every day at noon.
S: My midday gym session is non-negotiable.
Q: When's a good slot for the weekly team sync?
Q: When should I book lunch with the new client?

= school-run | habit | school drop-off 8:15 and pickup at 3
S: I do school drop-off at 8:15 and pickup at three.
S: My mornings and mid-afternoons belong to the school run.
Q: When should we hold the planning session?
Q: What time should I book my haircut?

= fridays-off | habit | doesn't work Fridays
S: I don't work Fridays; that's my day for errands.
S: I'm on a four-day week, with every Friday off.
Q: When should I book the dentist?
Q: When should I schedule my car service?

= timezone | identity | lives in Singapore (US meetings at night)
S: I live in Singapore, so US meetings hit me around midnight.
S: I'm based in Singapore, twelve or thirteen hours ahead of New York.
Q: When should we schedule the call with the Boston team?
Q: When can I catch the Super Bowl kickoff?

= date-night @partner | habit | Wednesday is date night
S: Wednesday is date night with my partner, always.
S: Every Wednesday evening is reserved for my husband.
Q: Should I sign up for the after-work class that meets midweek?
Q: Can I host the book club in the middle of the week?

= prayer-times | habit | prays five times a day
S: I pray five times a day, so I need short breaks at set times.
S: My daily prayers mean I step away a few times between dawn and night.
Q: How should I lay out the agenda for our eight-hour workshop?
Q: Can you help me lay out my conference schedule?

= power-nap | habit | naps after lunch
S: A twenty-minute nap after lunch keeps me going.
S: I'm a big believer in the afternoon siesta.
Q: How should I structure my working hours at the new job?
Q: What should I look for in a coworking space?

= punctual | habit | always early
S: I'm always fifteen minutes early to everything.
S: Being late makes me anxious, so I arrive well ahead of time.
Q: When should I leave for my 10 a.m. interview across town?
Q: When should I get to the airport for a domestic flight?

# transport
= no-car @car !motorcycle !road-trips | constraint | no car, bike and public transit
S: I don't own a car; I get around by bike and transit.
S: Public transport and my bicycle are all I use.
Q: What's the easiest way to get to the outlet mall?
Q: Where should I live in my new city?

= ev @car | identity | drives an electric car
S: I drive an electric car, so I map my stops around chargers.
S: My car is fully electric, and range matters on long trips.
Q: Can you plan my route from Denver to Salt Lake City?
Q: Which hotel should I book on the way to Yosemite?

= hate-driving !road-trips | dislike | avoids highway driving
S: Driving in traffic makes me anxious, I avoid highways.
S: Freeways terrify me behind the wheel.
Q: How should I get to the airport for my 6 a.m. flight?
Q: How should we get to the wedding two towns over?

= motorcycle !commute | identity | rides a motorcycle
S: I ride a motorcycle to work most days.
S: My main ride is a motorbike, rain or shine.
Q: What should I wear when it's pouring?
Q: How should I pack for a weekend trip?

= walker | habit | walks anywhere under an hour
S: I'll walk anywhere under an hour rather than take a cab.
S: Walking is how I get around the city, no matter the distance.
Q: How should I get from the station to my hotel?
Q: What's the best way to see {city}?

= manual @car | like | drives stick shift
S: I only drive stick.
S: Manual transmissions are the only kind I enjoy.
Q: Which rental car should I book in Portugal?
Q: What car should I buy next?

# social
= introvert @social-energy | identity | introvert, small gatherings
S: I'm an introvert; big parties wipe me out.
S: Crowds drain me fast, I recharge alone.
Q: How should I celebrate my fortieth?
Q: What should we do for the team's end-of-year event?

= extrovert @social-energy | identity | extrovert, loves big gatherings
S: I'm energized by people; the bigger the crowd the better.
S: Parties are my oxygen, I love meeting strangers.
Q: How should I celebrate my fortieth?
Q: What should we do for the team's end-of-year event?

= avoid-crowds @social-energy | dislike | avoids crowds and tourist hotspots
S: Tourist hotspots make me miserable; I go off-season whenever I can.
S: I'd rather see a quiet village than a famous landmark packed with people.
Q: How should I spend a weekend in {city}?
Q: When should I plan a trip to Venice?

= hosting | like | loves hosting dinner parties
S: I love hosting dinner parties for friends.
S: Cooking for a full table of guests is my favorite thing.
Q: How should I use my new big dining room?
Q: What should I do for my birthday?

= no-surprises | dislike | hates surprises
S: I hate surprises, especially surprise parties.
S: Being caught off guard makes me miserable, even for nice things.
Q: My friends want to plan something for my birthday; what should I tell them?
Q: Should my partner keep our anniversary weekend a secret from me?

= dating @partner | plan | just started dating someone
S: I just started dating someone new after a long break.
S: I'm seeing someone new, it's only been a few weeks.
Q: Where should I go for a low-key evening in {city}?
Q: What's a good gift for a one-month milestone?

= experiences | like | experiences over things as gifts
S: Experiences mean more to me than things as gifts.
S: I'd rather get a cooking class or concert tickets than any object.
Q: What should I ask for this Christmas?
Q: What should I put on my wedding registry?

# learning
= learning-language | plan | learning {language}
S: I'm learning {language} on the side and practice every day.
S: I've been studying {language} for a year, aiming for a conversational level.
Q: What should I watch when I want to wind down tonight?
Q: Where should I go on my next vacation?

= visual-learner | like | learns best from diagrams and videos
S: I learn best from diagrams and videos, not text.
S: Show me a picture and I get it instantly; paragraphs don't stick.
Q: How should I study for the AWS certification?
Q: Can you explain how a car engine works?

= mba | plan | starting a part-time MBA in {month}
S: I'm starting a part-time MBA in {month}.
S: Business school starts for me in {month}, evenings and Saturdays.
Q: How should I plan my weekends this fall?
Q: Should I take on the big side project at work?

= rome-buff | like | ancient Rome history buff
S: I'm a history nerd, especially ancient Rome.
S: Emperors, legions, aqueducts: the classical world is my obsession.
Q: What should I do on my trip to Italy?
Q: What should I see in southern France?

= learning-code | plan | learning to code in the evenings
S: I'm teaching myself to code in the evenings.
S: I'm working through an online programming course after work.
Q: Which laptop is good for me right now?
Q: How should I spend my Saturday mornings this spring?

= math-anxiety | constraint | anxious about math, needs gentle explanations
S: Math was never my strong suit; numbers make me nervous.
S: Anything with equations makes my brain shut down.
Q: Can you explain how compound interest works?
Q: How do I figure out the tip at dinner?

# clothing
= comfort-clothes @dress-style | like | comfort over style
S: Comfort over style, always; I live in sneakers and hoodies.
S: If it's not soft and stretchy, I'm not putting it on.
Q: What should I wear to my cousin's wedding?
Q: How should I dress for a job interview at a startup?

= all-black @dress-style | like | wears only black
S: I only dress in black; it makes mornings easy.
S: My whole closet is one color, and it's black.
Q: Can you help me pick a coat for winter?
Q: What should I wear to a summer garden party?

= no-wool | constraint | no wool, it itches
S: Wool makes me itch like crazy.
S: My skin reacts to sheep's fleece, so no woolly clothes.
Q: Which sweater should I buy for the ski trip?
Q: What socks should I get for hiking?

= vintage-style @dress-style | like | vintage fifties and sixties clothing
S: I dress mostly in vintage from the fifties and sixties.
S: Mid-century fashion is my thing: swing dresses and cat-eye glasses.
Q: Where should I shop in {city}?
Q: What should I wear to my friend's engagement party?

= no-heels | constraint | never wears heels
S: Heels are out for me; my feet can't take it.
S: Stilettos are torture to me, flats only.
Q: What shoes go with my gala dress?
Q: What should I wear to my sister's wedding?

= tall @height | identity | very tall, needs tall sizes
S: I'm six foot five, so off-the-rack sizes never fit.
S: Being really tall means sleeves and trousers are always too short on me.
Q: Where should I buy dress shirts?
Q: Which airline should I pick for a twelve-hour flight?

# holidays
= holiday-stress @xmas | dislike | dreads the December holidays
S: The holidays stress me out; I'd skip December if I could.
S: Christmas season is the worst time of year for me, all that pressure.
Q: How should I spend my days off over the festive break?
Q: Should I host the family gathering this winter?

= halloween | like | loves Halloween, plans costumes early
S: Halloween is my favorite holiday; I plan my costume months in advance.
S: October 31st is basically my Christmas.
Q: What would you suggest for the last weekend before November?
Q: What should I make for the party at my place?

= diwali | identity | celebrates Diwali with family
S: Diwali is the big one for my family every year.
S: The festival of lights is our most important celebration.
Q: When should I take my vacation days this fall?
Q: What sweets should I make for the gathering at home next month?

= thanksgiving-host | plan | hosting Thanksgiving for twenty
S: I'm hosting Thanksgiving this year for twenty people.
S: My whole extended family is coming to mine for the November feast.
Q: How should I plan my shopping for the next two weeks?
Q: Should I buy a bigger table or rent one?

# values
= no-leather | constraint | no leather or animal-derived materials
S: I won't buy leather, ever.
S: Animal hides for fashion or furniture just feel wrong to me.
Q: Which sofa should I get?
Q: What kind of wallet should I get?

= composting | habit | composts everything
S: We compost everything, even the paper towels.
S: Our kitchen scraps all go to the backyard bin that feeds the garden.
Q: What should I do with vegetable peels?
Q: How should I set up waste sorting in my new place?

= buy-local-food | like | locally sourced food
S: I try to eat food grown within a hundred miles.
S: Farm-to-table matters to me; I know most of my farmers by name.
Q: Where should I shop for groceries?
Q: Which restaurant should I book for Saturday in {city}?

= religious-sunday @sunday !prayer-times !ramadan | identity | goes to church every Sunday morning
S: I'm at church every Sunday morning without fail.
S: Sunday service is a big part of my week.
Q: Can we do brunch this weekend?
Q: When should we schedule the moving truck?

# dietary
= sesame | allergy | no sesame (allergy)
S: Sesame is my big allergy, including tahini and the seeds on buns.
S: I react badly to sesame; even a drizzle of the oil is enough.
Q: What should I order at the Lebanese place down the street?
Q: Can you suggest a dip to bring to the game-night spread?

= soy | allergy | no soy
S: I'm allergic to soy, which is hidden in an astonishing number of things.
S: Soybeans and anything made from them give me a rash.
Q: What should I order for Chinese takeout tonight?
Q: Which protein bars are okay for me to stock up on?

= raw-onion @garlic | dislike | no raw onion
S: Raw onion ruins a dish for me; cooked is fine, raw is a no.
S: I pick every sliver of uncooked onion out of my salads.
Q: What should I put on the burgers this weekend?
Q: Can you give me a quick guacamole recipe?

= bbq @meat | like | smoked barbecue
S: Low-and-slow barbecue is my love language; brisket especially.
S: I've got a smoker in the backyard and I use it every weekend.
Q: Where should I eat while I'm in Austin?
Q: What should I make for the Fourth of July?

= pickles | like | pickled and sour things
S: Pickles, sauerkraut brine, sour candy: the more sour, the happier I am.
S: I could drink pickle juice straight from the jar.
Q: What should I put on my sandwich for lunch?
Q: Which snacks should I get for the movie marathon?

= hot-sauce @spice | like | hot sauce collector
S: I collect hot sauces; there are over sixty bottles in my fridge door.
S: Every trip I bring home a new bottle of something fiery.
Q: What should I get as a souvenir in Louisiana?
Q: How should I jazz up my morning eggs?

= banana-dislike | dislike | no bananas
S: Bananas make me gag, the smell alone is too much.
S: I've never been able to stand bananas, even in bread.
Q: What should I put in my breakfast smoothie?
Q: Can you suggest a simple dessert for four?

= coconut-dislike | dislike | no coconut
S: Coconut is the one flavor I can't get past; the texture is awful to me.
S: Anything with shredded coconut goes straight back.
Q: Which Thai curry should I make tonight?
Q: What cake should I order for the office birthday?

= blue-cheese @dairy | like | strong blue cheeses
S: Give me the stinkiest blue cheese in the shop and I'm happy.
S: Roquefort and Gorgonzola are my idea of a treat.
Q: What should I put on a board for a wine-and-snacks evening?
Q: What should I bring back from France?

= sparkling-water | habit | drinks sparkling water constantly
S: I go through a case of sparkling water every few days.
S: Fizzy water is my vice; still water bores me.
Q: Is a countertop carbonator worth buying?
Q: What should I order at dinner if everyone else gets cocktails?

= from-scratch | like | cooks from scratch, no processed food
S: I avoid processed food; I cook everything from scratch.
S: If it comes in a box with a long ingredient list, I won't eat it.
Q: What should I have for a quick lunch on a busy day?
Q: What should I stock in my pantry?

= brunch | like | weekend brunch
S: Weekend brunch is my favorite meal of the week.
S: Bottomless coffee, pancakes and a long table of friends: my perfect Sunday.
Q: What should I do to celebrate my birthday on Saturday?
Q: Where should I take my parents when they visit {city}?

# travel
= islands @vacation-style | like | island getaways
S: Islands are my happy place; I try to visit a new one every year.
S: Small islands with ferries and no cars are my idea of paradise.
Q: Where should I go for my time off in September?
Q: Can you suggest a destination for a ten-day break this winter?

= camping | like | camping in a tent
S: I camp whenever I can; a tent and a campfire beat any hotel.
S: Sleeping under the stars is my favorite way to spend a weekend.
Q: Where should I stay near Yellowstone next month?
Q: What should I do with four free days in the Rockies?

= direct-flights | constraint | direct flights only, no layovers
S: I'll pay extra to avoid layovers; connections stress me out.
S: Nonstop or nothing; I once missed a connection and never again.
Q: Which flight should I book to Tokyo?
Q: How should I get to Lisbon from Chicago?

= business-travel | habit | travels for work twice a month
S: I'm on the road for work twice a month.
S: My job has me in airports and hotels most weeks.
Q: Which credit card would suit me?
Q: What carry-on suitcase should I buy?

= ski | like | ski trips
S: Skiing is my favorite thing; I live for powder days.
S: Every winter I take at least two weeks on the slopes.
Q: Where should I go in February?
Q: How should I use my time off after New Year's?

= continents | plan | visiting all seven continents
S: My goal is to set foot on all seven continents; Antarctica is the last one.
S: I've been to six continents and I'm saving for the icy one.
Q: Where should I go next winter?
Q: How should I spend my travel fund this year?

# hobbies
= sewing | habit | sews own clothes
S: I sew most of my own clothes on an old Singer machine.
S: Making garments from patterns is my weekend hobby.
Q: What should I do with the fabric store gift card I received?
Q: What should I do with the curtains I'm getting rid of?

= genealogy | like | family history research
S: I spend hours tracing my family tree through old records.
S: Genealogy is my rabbit hole; I found relatives back to the 1700s.
Q: What should I do on my trip to Ireland?
Q: Which DNA test kit should I order?

= scuba | like | certified scuba diver
S: I'm a certified scuba diver and plan trips around reefs.
S: Diving is my passion; I've logged over two hundred dives.
Q: Where should I go in Indonesia for a fortnight?
Q: What should I do in Cozumel?

= sailing | like | loves sailing
S: I sail every weekend from April to October.
S: Nothing makes me happier than being on a sailboat with a good breeze.
Q: How should I spend a week in Croatia?
Q: What should I do for my birthday in the summer?

= beekeeping | habit | keeps bees
S: I keep two beehives in the backyard.
S: Beekeeping is my hobby; I harvest honey every August.
Q: What should I plant along the fence?
Q: Should I be worried about the neighbor spraying pesticides?

= improv | habit | does improv comedy
S: I do improv comedy with a troupe every Tuesday night.
S: Improv classes changed my life; I perform once a month now.
Q: Any ideas for a fun evening out in {city}?
Q: How should I get better at thinking on my feet in meetings?

= geocaching | like | geocaching
S: Geocaching is my weekend obsession; I've found over a thousand caches.
S: I love hunting for hidden containers with GPS coordinates.
Q: What should I do on a free afternoon in a new town?
Q: What handheld navigation device should I get?

= bonsai | habit | cares for bonsai trees
S: I grow bonsai; my oldest tree is thirty years old.
S: Pruning and wiring my little trees is how I meditate.
Q: Who should look after my stuff while I'm on vacation?
Q: What should I do in Japan besides the usual sights?

= dj | habit | DJs on weekends
S: I DJ at small clubs on weekends.
S: Mixing records is my side gig; I play sets most Saturdays.
Q: Which headphones should I buy?
Q: Which speakers should I get for my living room?

= running-club @running | habit | runs with a club on weekday mornings
S: I run with a club three mornings a week.
S: Running is my social life; my club meets at six a.m.
Q: Which hotel in {city} is near a good park or riverside path?
Q: How should I keep my routine on the business trip?

# work
= lawyer @job | identity | litigation lawyer with long hours
S: I'm a litigation lawyer, so my hours are brutal before trials.
S: Being an attorney means my calendar is never my own.
Q: When should I schedule my vacation this year?
Q: How should I unwind after a really long week?

= founder @job | identity | startup founder
S: I'm the founder of a small startup, twelve people so far.
S: Running my own company means I wear every hat.
Q: How should I approach investors next quarter?
Q: What should I read to become a better leader?

= data-scientist @job @language | identity | data scientist using R
S: I'm a data scientist and R is my main tool.
S: I spend my days in RStudio building statistical models.
Q: What should I use to make a quick chart of our churn numbers?
Q: Which laptop specs matter for my work?

= etsy | plan | runs an Etsy shop on the side
S: I run a little Etsy shop on the side selling prints.
S: My side hustle is an online store for my illustrations.
Q: How should I handle my taxes this year?
Q: How should I price my work?

= standing-desk | habit | works standing up
S: I work standing up most of the day.
S: I can't sit at a desk for long, so my setup is standing height.
Q: What should I look for in new office furniture?
Q: Which shoes are best for an eight-hour workday?

= open-plan-hate | dislike | hates open-plan offices
S: Open-plan offices destroy my concentration.
S: I need a door that closes; noisy shared floors drive me up the wall.
Q: Should I take the job at the company with the big loft workspace?
Q: What should I ask for at my new job?

# health
= pilates | habit | does Pilates
S: I do reformer Pilates three times a week.
S: Pilates is my main workout; it saved my back.
Q: What should I do to stay active on vacation?
Q: What should I look for in a studio near my new place?

= fair-skin | constraint | burns easily, needs sun protection
S: I'm very fair and I burn in about ten minutes.
S: The sun is my enemy; I turn lobster-red without SPF fifty.
Q: What should I pack for a week in Mexico?
Q: Is a day on a boat a good idea for me?

= acid-reflux | constraint | acid reflux, avoids acidic and fatty food
S: I have bad acid reflux, so tomatoes and citrus are off the menu.
S: Heartburn is a constant battle; I avoid anything acidic or greasy.
Q: What should I cook for dinner tonight?
Q: What should I order at the Italian restaurant?

= dentist-fear | dislike | dental anxiety
S: The dentist terrifies me; I've put off checkups for years.
S: Just the sound of the drill makes my heart race.
Q: How should I handle the cracked tooth I just noticed?
Q: What should I ask when I book my appointment for a cleaning?

= needle-fear | dislike | afraid of needles
S: Needles make me faint; I can't even watch a blood draw.
S: I'm terrified of injections, always have been.
Q: How should I prepare for my travel vaccinations?
Q: Should I get a tattoo for my fortieth?

= seasonal-blues | constraint | seasonal depression in winter
S: Dark winters really get to me; I get seasonal depression.
S: From November to February my mood sinks with the daylight.
Q: What should I buy for my desk at home?
Q: Where should I go for a week in January?

= post-surgery | constraint | recovering from shoulder surgery
S: I'm recovering from shoulder surgery, so no lifting for six weeks.
S: My arm is in a sling after an operation on my rotator cuff.
Q: How should I move apartments this month?
Q: What should I do for exercise right now?

# entertainment
= standup | like | stand-up comedy
S: Stand-up comedy is my favorite night out.
S: I've seen every comedy special on the streaming services.
Q: What should I do on a Friday evening in {city}?
Q: What should I put on tonight to get a good laugh?

= opera | like | opera
S: Opera moves me like nothing else; Puccini is my weakness.
S: I have a subscription at the opera house.
Q: What should I do in Milan?
Q: What should I put on while I cook tonight?

= f1 | like | Formula 1
S: Formula 1 is my sport; I get up at dawn for the races.
S: I follow every Grand Prix and know all the drivers' stats.
Q: Where should I go for a weekend in Monaco?
Q: What should I plan for my trip to Singapore in September?

= cricket | like | cricket fan
S: Cricket is my religion, especially Test matches.
S: I follow the Ashes like my life depends on it.
Q: What should I do when I visit London in the summer?
Q: How should I spend a long weekend in Melbourne at Christmas?

= old-films | like | classic black-and-white films
S: Old Hollywood is my thing; black-and-white films are the best.
S: Give me Casablanca over any modern blockbuster.
Q: What's a good movie night pick for someone who's sick of CGI?
Q: Is there a cinema in {city} that runs retrospective screenings?

= poetry | like | poetry
S: I read poetry every night before bed.
S: Poems are my favorite form of writing; Mary Oliver especially.
Q: What could I recite at my friend's memorial?
Q: What should I do with a quiet Sunday morning?

= superhero-fatigue | dislike | tired of superhero films
S: I'm so done with superhero movies.
S: Capes and multiverses bore me to tears.
Q: What should we see at the cinema on Saturday?
Q: The new Marvel film is out; should I go?

# home
= baths | like | long baths
S: A long hot bath every evening is my ritual.
S: My bathtub is my favorite place in the house.
Q: Which apartment should I pick, the one with the walk-in shower or the older one?
Q: What should I look for in a hotel for my anniversary?

= diy | habit | does own home repairs
S: I do all my own home repairs.
S: Fixing things around the house myself is a point of pride.
Q: My kitchen tap is dripping; what should I do?
Q: Which cordless drill should I buy?

= balcony-garden | like | balcony container garden
S: My balcony is full of herbs and tomatoes in pots.
S: I've turned my tiny terrace into a little container farm.
Q: Should I take the place with a sunny outdoor nook or the one with a bigger kitchen?
Q: What should I do with the coffee grounds I throw away?

= induction | like | cooks on induction
S: I cook on induction and I'd never go back to gas.
S: Our induction hob is the best kitchen upgrade we ever made.
Q: Which wok should I buy?
Q: Which pressure cooker should I get?

# pets
= senior-dog @dogs | identity | senior dog with arthritis
S: My old dog has arthritis, so stairs and long walks are out for her.
S: My fourteen-year-old beagle moves slowly these days.
Q: Should I rent the fourth-floor flat with no elevator?
Q: What's a good weekend trip for us?

= chickens | habit | keeps backyard chickens
S: I keep six hens in the backyard.
S: We raise chickens, so there's a dozen fresh eggs every few days.
Q: What should I do with the surplus piling up in my fridge?
Q: Who should look after things while I'm away?

= gecko | identity | has a leopard gecko
S: I have a leopard gecko named Sunny.
S: My reptile needs a heat lamp and live crickets.
Q: What should I check before a long weekend away?
Q: What should I do if the power goes out at home?

# family
= newlywed @partner | identity | just married
S: I just got married last month!
S: My wife and I tied the knot in the spring.
Q: What should I do with our thank-you notes?
Q: How should we handle our finances now?

= long-distance @partner | identity | long-distance relationship
S: My partner lives in another country; we do long distance.
S: My girlfriend is in Sydney while I'm in Chicago, so we're always on video calls.
Q: How should I plan my vacation days this year?
Q: What's a good gift for our anniversary?

= partner-shellfish @partner | constraint | partner is allergic to shellfish
S: My husband has a severe shellfish allergy, so we never cook it at home.
S: My partner can't be near shrimp or crab without reacting.
Q: What should I make for our anniversary dinner?
Q: Where should we eat in Boston?

= twins @kids | identity | has twin toddlers
S: I have twin toddlers, so everything is times two.
S: Our two-year-old twins keep us on our toes.
Q: What car should we get?
Q: Which hotel should we book for the beach trip?

= vegan-daughter @kids | constraint | daughter is vegan
S: My daughter went vegan last year, so family meals are plant-based now.
S: My teen is vegan, so I cook without animal products at home.
Q: What should I make for Sunday dinner?
Q: What should I bring to the potluck?

# tech
= no-subscriptions | dislike | hates subscriptions, prefers one-time purchases
S: I hate subscriptions; I'd rather pay once and own it.
S: Monthly fees for software drive me nuts.
Q: Which photo editor should I use?
Q: Should I sign up for that meal-kit deal?

= firefox | like | Firefox browser
S: Firefox is my browser, always has been.
S: I use Mozilla's browser on every device I have.
Q: Which password manager extension should I install?
Q: How should I block ads on my laptop?

= screen-limits !video-games !gaming-pc | constraint | limits screen time
S: I'm cutting my screen time to under two hours a day.
S: I've set hard limits on my phone usage.
Q: How should I spend my evenings?
Q: What should I do on my commute?

= old-phone | habit | keeps phones for years
S: I keep my phone until it literally falls apart.
S: My phone is six years old and it's fine.
Q: Should I upgrade to the newest model?
Q: What should I do with my cracked screen?

= gaming-pc @gaming | like | PC gaming
S: I built my own gaming PC and I play most nights.
S: Shooters and strategy games on my PC are how I unwind.
Q: Which monitor should I get for my desk?
Q: What chair should I get for my desk?

# finance
= no-debt !student-loans | constraint | no debt, pays cash for everything
S: I don't borrow money; if I can't pay cash, I don't buy it.
S: Debt is the one thing I refuse to take on.
Q: Should I finance my new car?
Q: How should I cover the cost of the new roof?

= cash-envelopes | habit | budgets with cash envelopes
S: I budget with cash envelopes for groceries and fun money.
S: I withdraw a fixed amount every week and spend only that.
Q: How should I keep track of costs on my trip?
Q: What's a good way to cut my supermarket bill?

= diy-taxes | habit | does own taxes
S: I do my own taxes every year, I actually enjoy it.
S: Spreadsheets and tax forms are fun for me.
Q: Should I hire an accountant for my side gig?
Q: What should I do before April?

# communication
= humor | like | likes jokes and humor
S: I like a bit of humor in answers; keep it light.
S: Jokes and puns make everything better for me.
Q: Can you explain how the stock market works?
Q: Can you help me write my out-of-office message?

= no-jargon | constraint | plain language, no jargon
S: Skip the jargon with me; plain words please.
S: Technical buzzwords go right over my head.
Q: What is machine learning?
Q: How does my home internet get to my laptop?

= formal | like | formal, professional tone
S: I prefer a formal tone; casual chatter feels unprofessional.
S: Keep things polite and professional with me, no slang.
Q: Can you help me write a note to my landlord?
Q: Can you help me reply to the recruiter?

= options | like | wants several options to choose from
S: I like to see several options before I decide.
S: Give me choices; a single recommendation feels pushy to me.
Q: What laptop should I get?
Q: Where should we go for dinner on Friday?

# accessibility
= epilepsy | constraint | photosensitive epilepsy
S: I have photosensitive epilepsy.
S: Flickering images can trigger my seizures.
Q: Which video games should I try?
Q: Is the light festival in Lyon a good idea for me?

= chronic-fatigue !marathon !running-club !climbing !lifting !cycling !extrovert | constraint | \
chronic fatigue, low energy
S: I have chronic fatigue syndrome, so my energy is very limited.
S: Some days I can barely get off the sofa; it's an illness, not laziness.
Q: How should I plan a trip to London?
Q: How should I tackle spring cleaning?

# schedule
= therapy-tuesday | habit | therapy every Tuesday afternoon
S: I see my therapist every Tuesday at four.
S: Tuesday afternoons are blocked for my counseling sessions.
Q: When should we hold the weekly planning meeting?
Q: Can I take the 4 p.m. yoga class midweek?

= long-commute @commute | constraint | ninety-minute commute each way
S: My commute is ninety minutes each way.
S: I spend three hours a day on the train to and from work.
Q: How should I fit a workout into my schedule?
Q: What should I do with my time on the way in?

= split-shift @job !remote | habit | works split shifts in a restaurant
S: I work split shifts in a restaurant kitchen.
S: My days are lunch service, a break, then dinner service.
Q: When should I schedule my doctor's appointment?
Q: When's a good time to call my mom?

# transport
= scooter @commute | habit | commutes on an electric scooter
S: I get around the city on an electric scooter.
S: My e-scooter is how I commute every day.
Q: Which neighborhood should I move to?
Q: What should I wear in the rain?

= no-license @car !motorcycle !hate-driving !road-trips | constraint | has no driving license
S: I never learned to drive.
S: I don't have a license and I'm not planning to get one.
Q: How should I get around Iceland?
Q: Which suburb should we move to?

# social
= networking-hate | dislike | dislikes networking events
S: Networking events make my skin crawl.
S: Small talk with strangers at mixers is my personal nightmare.
Q: How should I grow my professional contacts?
Q: Should I go to the industry conference next month?

= small-dinners | like | small dinners with close friends
S: My favorite evenings are quiet dinners with two or three close friends.
S: I'd take a small table of old friends over a party any day.
Q: How should I celebrate my promotion?
Q: What should I do for New Year's Eve?

# learning
= phd | identity | PhD student writing a dissertation
S: I'm a PhD student in my final year, writing my dissertation.
S: My thesis is due in the spring, and it's eating my life.
Q: How should I plan my next few months?
Q: What should I do about the conference invitation in May?

= sign-language | plan | learning sign language
S: I'm learning American Sign Language to talk with my deaf nephew.
S: I'm taking ASL classes twice a week.
Q: What should I watch to practice?
Q: What should I do on my lunch breaks?

= philosophy | like | reads philosophy
S: I read philosophy for fun, mostly the Stoics.
S: Marcus Aurelius is basically my life coach.
Q: Which book should I pick up next?
Q: How should I deal with a stressful week?

# clothing
= no-ironing | dislike | hates ironing
S: I refuse to iron anything.
S: If a shirt needs pressing, it stays in the store.
Q: What should I buy for the office wardrobe?
Q: How should I pack for a wedding weekend?

= sneakerhead | like | collects sneakers
S: I'm a sneakerhead; I own over fifty pairs.
S: I line up for limited shoe releases.
Q: Is it worth camping out overnight for Saturday's drop?
Q: What should I do in Tokyo for a day?

= hats | like | loves wearing hats
S: I'm never without a hat; I own about thirty.
S: Fedoras and flat caps are my signature look.
Q: What should I buy as a souvenir in Panama?
Q: What should I pick up at the vintage market?

# holidays
= christmas-love @xmas | like | loves Christmas
S: Christmas is my favorite season; I decorate on November first.
S: I go all out for the holidays: lights, baking, carols.
Q: How should I spend my days off in December?
Q: What should I do in Vienna this winter?

= lunar-new-year | identity | celebrates Lunar New Year
S: Lunar New Year is the biggest celebration in my family.
S: Every year we gather for the spring festival with dumplings and red envelopes.
Q: When should I take time off in the first quarter?
Q: What should I cook for the reunion dinner in February?

= ramadan | plan | fasting for Ramadan soon
S: Ramadan starts next month, and I'll be fasting from dawn to sunset.
S: I'm getting ready for the holy month, so daytime eating is out soon.
Q: When should we schedule the team lunch?
Q: How should I plan my workouts in the coming weeks?

# values
= solar | plan | installing solar panels
S: We're getting solar panels installed next month.
S: Our roof is about to go solar.
Q: Should I switch my energy supplier?
Q: Is an electric car a good idea for us?

= fair-trade | like | fair-trade products
S: I only buy fair trade chocolate and coffee.
S: Fair wages for farmers matter to me when I shop.
Q: Which beans should I get for the new grinder?
Q: What should I put in an easter basket?

# books
= graphic-novels | like | comics and graphic novels
S: Graphic novels are most of what I read these days.
S: I've got shelves of comics; Maus and Persepolis changed my life.
Q: What should I pick up at the bookstore for a long flight?
Q: What should I do in Angoulême in January?

= short-stories !fantasy | like | short stories, not long novels
S: Short stories suit me; I rarely finish anything over three hundred pages.
S: Give me a collection of tight little tales over a doorstopper.
Q: What should I take to the beach this summer?
Q: Which author should I try next?

= cookbooks | habit | collects and reads cookbooks
S: I read cookbooks like novels, cover to cover.
S: My kitchen shelf holds over a hundred recipe books.
Q: What should I look for at the flea market on Saturday?
Q: What should I do with a slow Sunday?

# values
= animal-welfare | constraint | cruelty-free products
S: I only buy cruelty-free cosmetics and cleaning products.
S: Brands that test on animals are off my list.
Q: Which shampoo should I get?
Q: What moisturizer should I try?

= politics-avoid | dislike | avoids political talk
S: I stay out of political debates; they stress me out.
S: Arguments about elections ruin my mood for days.
Q: What should I talk about at the family reunion?
Q: Should I go to my uncle's barbecue on the Fourth?

= local-volunteer | habit | tutors kids on Thursday evenings
S: I tutor kids in reading at the public library on Thursday evenings.
S: Helping children with homework at the neighborhood center is my weekly commitment.
Q: When should we hold the book launch party?
Q: Can I sign up for the weeknight cooking class?

# transport
= train-commute @commute !carsick-backseat | habit | commutes by train
S: I take the train to work every day, about forty minutes.
S: My commute is a regional rail line, so I have time to read.
Q: Where should I look for a new apartment?
Q: What should I do during my ride in?

= cargo-bike | like | cargo bike for errands
S: We do all our errands on a cargo bike.
S: Our big family bike with a box on the front replaced the second car.
Q: How should I do the monthly grocery haul this weekend?
Q: Should we buy a house in the suburbs?

= carsick-backseat | constraint | can't read in a moving vehicle
S: Reading in a moving car or bus makes me queasy.
S: If I look at my phone on the road, I'm nauseous in minutes.
Q: What should I do on a five-hour coach ride?
Q: How should I prepare for the drive to the coast with my in-laws?

# social
= game-night | habit | plays pub quiz every Monday
S: I'm on a pub quiz team that plays every Monday.
S: Trivia night at our local pub is my weekly ritual.
Q: What should I do to get better at general knowledge?
Q: Can we hold the staff dinner on the first evening after the weekend?

= pen-pal | habit | writes letters by hand
S: I still write letters by hand to a handful of friends.
S: Handwritten correspondence is my favorite way to stay in touch.
Q: What should I get with the stationery gift card?
Q: My old roommate just moved to Japan; how can we remain close?

= mentor | habit | mentors junior colleagues
S: I mentor three junior developers in my spare time.
S: Coaching people early in their careers is really rewarding for me.
Q: What should I read this quarter?
Q: How should I use my Friday afternoons?

# learning
= adult-lessons !instrument | plan | takes music lessons as an adult
S: I started taking music lessons at fifty and I'm loving it.
S: Learning an instrument later in life has been a joy for me.
Q: How should I spend my evenings this winter?
Q: What should I ask for this birthday?

= cooking-class | habit | takes cooking classes
S: I take a cooking class every month to learn a new cuisine.
S: Culinary workshops are my favorite way to spend a Saturday.
Q: What should I do on my trip to Bologna?
Q: What should I give myself as a treat after exams?

= podcasts-learning | habit | learns from educational podcasts on walks
S: I learn most things from educational podcasts on my walks.
S: History and science shows in my earbuds are my classroom.
Q: How should I brush up on economics?
Q: What should I do on my lunch break?

# clothing
= sensory-tags | constraint | sensitive to tags and scratchy fabrics
S: Clothing tags and scratchy seams drive me up the wall.
S: My skin is super sensitive to rough fabrics and labels.
Q: What t-shirts should I buy?
Q: Which pajamas should I get?

= bright-colors !all-black | like | bright, bold colors
S: I dress in bright colors; neon and neutrals are not the same thing to me.
S: Loud prints and bold colors make me feel like myself.
Q: What should I wear to the summer wedding?
Q: Which raincoat should I buy?

= cycling-clothes @commute | habit | bikes to work, needs bike-friendly clothing
S: I bike to the office, so my clothes have to survive the ride.
S: Pedaling to work every day means I need things that don't crease.
Q: What trousers should I buy for my job?
Q: What bag should I get for my laptop?

# holidays
= new-year-quiet !extrovert | like | quiet New Year's Eve at home
S: New Year's Eve for me is pajamas, a movie and bed by midnight.
S: Big countdown parties aren't my thing; a calm night in is.
Q: What should I do on December 31st?
Q: Should I go to the rooftop bash my friend is throwing on the 31st?

= birthday-trip | habit | travels on every birthday
S: Every birthday, I take a trip somewhere new.
S: My tradition is spending my birthday abroad.
Q: How should I celebrate turning thirty-five in May?
Q: How should I plan my time off this year?

= easter-baker !gluten !keto | habit | bakes for Easter every year
S: Easter for me means baking hot cross buns and a big braided loaf.
S: Every spring holiday I spend two days in the kitchen baking for the family.
Q: What should I do with my long weekend in April?
Q: What flour should I order ahead?

# home
= gas-stove !induction | like | cooks on gas
S: I'd never give up cooking over a real flame.
S: A proper gas hob is non-negotiable in any kitchen of mine.
Q: Which apartment should I pick, the new build or the older one?
Q: What wok should I get?

= quiet-neighborhood !light-sleeper | constraint | needs a quiet neighborhood
S: I need a quiet street; city noise at night wrecks me.
S: Sirens and traffic outside the window keep me up.
Q: Which part of {city} should I stay in?
Q: Should I rent the apartment above the busy market?

= robot-vacuum !hate-cleaning | habit | robot vacuum runs daily (no shaggy rugs or thick carpet)
S: My robot vacuum runs every day while I'm out.
S: I let machines do the floors so I never have to.
Q: Should we get the shaggy rug for the living room?
Q: Should we put thick carpet in the hallway?

= fireplace | like | cozy fireplace evenings
S: Nothing beats an evening by the fire with a good blanket.
S: The wood stove is the heart of our house in winter.
Q: Which cabin should I book for February?
Q: What should I do on a snowy Saturday night?

# pets
= dog-walker !dog-fear | identity | walks dogs for money on weekends
S: I walk dogs for neighbors on weekends to earn extra cash.
S: My side job is taking other people's pups out for exercise.
Q: What shoes should I buy?
Q: How should I spend my Saturday mornings?

= cat-sitter !cat-allergy !puppy-plan | habit | pet-sits for friends
S: I pet-sit for friends all the time; there's always someone's animal staying over.
S: People leave me their pets when they go on vacation.
Q: Should I get the white sofa?
Q: Can I go away for the long weekend in June?

# tech
= linux-terminal | like | command line over GUI tools
S: I do everything I can from the terminal.
S: Graphical interfaces slow me down; give me a shell.
Q: How should I manage my photo library?
Q: What's the quickest way to rename a folder of files?

= e-ink | like | e-ink devices
S: I love e-ink screens; they're so easy on my eyes.
S: Paper-like displays are my favorite way to take notes.
Q: Which tablet should I get for meetings?
Q: What should I use to study my lecture slides?

= backup-paranoid | habit | backs up everything obsessively
S: I back up everything three times, one copy off-site.
S: Losing data is my nightmare, so I keep redundant copies of all my files.
Q: What should I do before updating my laptop?
Q: Which external drive should I buy?

# finance
= renter-forever !house-savings !renovating | identity | happy to rent, not buy
S: I've decided I'll rent forever; owning property isn't for me.
S: Buying a home doesn't appeal to me at all.
Q: What should I do with the money I've saved?
Q: Should I look at mortgages now that rates dropped?

= frugal-travel-hacks | habit | uses price alerts for everything
S: I set price alerts for every flight and wait for the dip.
S: I track fares for weeks before I book anything.
Q: When should I buy tickets to Lisbon for the summer?
Q: Should I grab the Rome tickets I saw today?

= insurance-max | constraint | very risk-averse, wants full coverage
S: I'm extremely risk-averse; I always take full insurance coverage.
S: I'd rather overpay for protection than risk a big loss.
Q: Should I add the rental company's collision waiver?
Q: Which phone plan should I choose?

# communication
= step-by-step | like | step-by-step instructions
S: Numbered steps work best for me; I follow them one at a time.
S: Walk me through things in order, one instruction after another.
Q: How do I set up my new router?
Q: How do I change a flat tire?

= visual-answers | like | tables and comparisons
S: I like comparisons laid out in tables.
S: Side-by-side grids make decisions easier for me.
Q: Which of the three phone plans should I choose?
Q: Should I buy or lease my next car?

= voice-notes | habit | prefers voice messages
S: I prefer sending voice memos to typing.
S: Talking is faster for me than writing, so I record audio messages.
Q: How should I keep my sister updated while I travel?
Q: What's a good way to capture ideas on my walks?

# schedule
= early-lunch !fasting | habit | eats lunch at 11:30
S: I eat lunch at half past eleven every day like clockwork.
S: My stomach runs on an early schedule, food before noon.
Q: What time should we reserve the team's midday meal?
Q: What time works for our meeting with the client?

= gym-evenings !lunch-workout !no-gym | habit | gym every weekday evening at 6
S: Weekday evenings at six I'm at the gym.
S: After work I go straight to my workout, Monday to Friday.
Q: When should we schedule the parent-teacher conference?
Q: Can I make the 6:30 dinner reservation on Thursday?

= weekly-call-mom !elder-care | habit | calls mom every Sunday
S: I call my mom every Sunday at noon.
S: My weekly catch-up with my mother is sacred.
Q: Can we start the hike early on the weekend?
Q: When should I schedule the family video chat?
"""

_CHAT = """
U: How do I reverse a list in Python?
A: Use my_list[::-1] for a reversed copy, or my_list.reverse() to reverse it in place.

U: My Python script says "IndexError: list index out of range". What does that mean?
A: You're reading a position past the end of the list. Check the loop bounds; range(len(x)) \
stops at len(x) - 1.
U: It's inside a while loop that increments i.
A: Then the condition probably uses <= instead of <. Change it to while i < len(items).

U: What's the difference between a tuple and a list in Python?
A: Lists are mutable and tuples are not, so tuples can be dict keys and signal fixed data.

U: How do I read a CSV file in Python without pandas?
A: Use the csv module: open the file with newline="" and loop over csv.DictReader(f).

U: Why does my Python function keep the items from the last call in its default list?
A: Default arguments are evaluated once. Use None as the default and create the list inside.

U: What does "git rebase" actually do?
A: It replays your commits on top of another branch, giving a linear history instead of a \
merge commit.
U: Is it safe on a shared branch?
A: Not really; rewriting commits others have pulled causes conflicts. Rebase local work only.

U: How do I undo my last git commit but keep the changes?
A: git reset --soft HEAD~1 moves the branch back and leaves your changes staged.

U: What's a race condition?
A: A bug where the result depends on the timing of threads or processes touching shared \
state; locks or atomic operations prevent it.

U: Can you explain big-O notation in one sentence?
A: It describes how an algorithm's cost grows with input size, ignoring constant factors.

U: What's the SQL to count rows per category?
A: SELECT category, COUNT(*) FROM items GROUP BY category;

U: Why is my SQL join returning duplicate rows?
A: The joined table probably has several rows per key. Check the join condition or \
aggregate before joining.

U: How do I center a div in CSS?
A: On the parent: display: flex; justify-content: center; align-items: center.

U: What's the difference between == and === in JavaScript?
A: === compares without type conversion; == converts types first, so "1" == 1 is true.

U: My JavaScript fetch call returns a Promise instead of data. Why?
A: fetch is asynchronous. Await it, then await response.json() to get the parsed body.

U: What is a Docker container, roughly?
A: A packaged process with its own filesystem and dependencies, isolated from the host \
but sharing its kernel.

U: What does a 404 error mean?
A: The server was reached but couldn't find the requested page or resource.

U: And a 503?
A: Service unavailable: the server is overloaded or down for maintenance.

U: How do regular expressions match an email address, roughly?
A: Something like [^@\\s]+@[^@\\s]+\\.[^@\\s]+ catches most; full validation is famously messy.

U: What's the difference between RAM and storage?
A: RAM is fast, temporary working memory; storage keeps data when the power is off.

U: Why does my laptop fan get loud when I open lots of browser tabs?
A: Each tab uses CPU and memory; the processor heats up and the fan spins faster to cool it.

U: What's recursion?
A: A function calling itself on a smaller piece of the problem until it reaches a base case.

U: Can you explain what an API is to a non-programmer?
A: It's a menu one program offers another: a list of requests it accepts and what it \
sends back.

U: My Excel VLOOKUP returns #N/A even though the value is there.
A: Often it's stray spaces or numbers stored as text. Try TRIM, or check the cell format.

U: How do I make a Python virtual environment?
A: python -m venv .venv, then activate it with source .venv/bin/activate.

U: What is a hash map?
A: A structure that stores key-value pairs and finds a key in constant time on average \
by hashing it to a bucket.

U: Why would a Python for loop over a dict give me only the keys?
A: Iterating a dict yields keys. Use .items() for pairs or .values() for values.

U: What does "HTTP" stand for?
A: Hypertext Transfer Protocol.

U: Who founded Rome, according to legend?
A: Romulus, after a quarrel with his twin brother Remus; the traditional date is 753 BC.

U: Why did the Western Roman Empire fall?
A: Historians point to many causes: overstretched borders, political instability, \
economic trouble and pressure from migrating peoples. 476 AD is the usual end date.

U: How long did it take to build the Colosseum?
A: About eight to ten years; it opened in 80 AD under Emperor Titus.
U: How many people did it hold?
A: Estimates range from 50,000 to 80,000 spectators.

U: When did the Berlin Wall fall?
A: On 9 November 1989.

U: Who was the first person to walk on the Moon?
A: Neil Armstrong, on 20 July 1969, with Buzz Aldrin following shortly after.

U: What started World War I?
A: The assassination of Archduke Franz Ferdinand in Sarajevo in June 1914 set off a chain \
of alliances and mobilizations.

U: When was the printing press invented?
A: Gutenberg developed his movable-type press around 1440 in Mainz.

U: What was the Silk Road?
A: A network of trade routes linking China with Central Asia, the Middle East and Europe \
for centuries.

U: Who built Machu Picchu?
A: The Inca, around the middle of the fifteenth century, probably as an estate for \
the emperor Pachacuti.

U: Why is the Magna Carta famous?
A: Signed in 1215, it limited the English king's power and became a symbol of the rule \
of law.

U: How old are the pyramids of Giza?
A: The Great Pyramid is about 4,500 years old, built around 2560 BC.

U: What was the Renaissance?
A: A cultural revival in Europe, roughly the fourteenth to seventeenth centuries, \
starting in Italy, with a renewed interest in classical art and learning.

U: Who was Cleopatra?
A: The last active ruler of Ptolemaic Egypt, who allied with Julius Caesar and later \
Mark Antony.

U: When did the Titanic sink?
A: In the early hours of 15 April 1912, after hitting an iceberg.

U: What was the Marshall Plan?
A: A US program after World War II that gave Western Europe about 13 billion dollars \
to rebuild.

U: How did Pompeii get preserved?
A: Mount Vesuvius erupted in 79 AD and buried it under metres of volcanic ash.

U: Who invented the telephone?
A: Alexander Graham Bell got the first patent in 1876, though others worked on similar \
devices.

U: When did women get the vote in the UK?
A: Some women in 1918, and on equal terms with men in 1928.

U: Why is the sky blue?
A: Air molecules scatter short blue wavelengths of sunlight much more than red ones.

U: How far away is the Moon?
A: About 384,000 kilometers on average.

U: Why do we have seasons?
A: Earth's axis is tilted about 23.5 degrees, so each hemisphere gets more direct sunlight \
for part of the year.

U: What is a black hole?
A: A region where gravity is so strong that nothing, not even light, can escape it.

U: How do vaccines work?
A: They show the immune system a harmless piece or version of a pathogen so it learns \
to recognize it.

U: What's the speed of light?
A: About 299,792 kilometers per second in a vacuum.

U: Why do onions make people cry?
A: Cutting them releases a sulfur compound that irritates the eyes and triggers tears.

U: How do plants make oxygen?
A: Photosynthesis: they use sunlight to turn carbon dioxide and water into sugar, \
releasing oxygen.

U: What causes thunder?
A: Lightning heats the air so fast it expands explosively, creating a shock wave we hear.

U: Why does ice float?
A: Water expands when it freezes, so ice is less dense than liquid water.

U: How many bones are in the human body?
A: An adult has 206.

U: What's the tallest mountain in the world?
A: Everest, at 8,849 meters above sea level.
U: And the tallest measured from base to peak?
A: Mauna Kea in Hawaii, over 10,000 meters from the ocean floor.

U: Why do cats purr?
A: Nobody is completely sure; it seems to signal contentment but also self-soothing.

U: How do bees make honey?
A: They collect nectar, add enzymes and fan it with their wings until enough water \
evaporates.

U: What is DNA?
A: The molecule that carries genetic instructions, a double helix of four bases.

U: Why is the ocean salty?
A: Rivers carry dissolved minerals from rocks into the sea, and evaporation leaves \
the salt behind.

U: How long does light from the Sun take to reach Earth?
A: About eight minutes and twenty seconds.

U: What's the difference between weather and climate?
A: Weather is day-to-day conditions; climate is the long-term average over decades.

U: Why do leaves change color in autumn?
A: Trees stop making chlorophyll, revealing yellow and orange pigments that were there \
all along.

U: Is a tomato a fruit or a vegetable?
A: Botanically a fruit, culinarily treated as a vegetable.

U: Why does bread go stale?
A: The starch recrystallizes and pushes water out, which makes it firm; it's not just \
drying.

U: What makes a soufflé rise?
A: Air beaten into the egg whites expands in the oven's heat.

U: What's the difference between baking soda and baking powder?
A: Baking soda needs an acid to react; baking powder already contains one.

U: How long should I boil pasta?
A: Most dried pasta takes 8 to 12 minutes; the package time is a good start, then taste.

U: Why do recipes say to rest meat after cooking?
A: Resting lets the juices redistribute so less runs out when you cut it.

U: What's the Maillard reaction?
A: The browning of proteins and sugars under heat that gives seared and toasted food \
its flavor.

U: How do I keep avocados from browning?
A: Limit air contact: press plastic wrap onto the surface or add lemon juice.

U: Why is risotto rice different?
A: Varieties like arborio have lots of amylopectin starch, which makes the dish creamy.

U: What temperature does water boil at on a mountain?
A: Lower than 100 °C; at 3,000 meters it's about 90 °C.

U: How does a pressure cooker speed things up?
A: Trapped steam raises the pressure, so water boils at a higher temperature.

U: Where did pizza margherita get its name?
A: The story says it was named for Queen Margherita of Savoy on an 1889 visit to Naples.

U: What's umami?
A: The savory taste from glutamates, found in things like tomatoes, parmesan and soy \
sauce.

U: Why do you salt pasta water?
A: It seasons the pasta from the inside; it barely changes the boiling point.

U: How long do eggs keep in the fridge?
A: Usually three to five weeks past the packing date.

U: What's the difference between a latte and a cappuccino?
A: A cappuccino has more foam and less steamed milk; a latte is milkier.

U: Where does espresso come from?
A: Italy; Luigi Bezzera and Desiderio Pavoni developed the first machines around 1900.

U: What's the origin of sushi?
A: It began as fish preserved in fermented rice in Southeast Asia and evolved in Japan.

U: Why is Parmigiano-Reggiano so expensive?
A: It is aged at least twelve months under strict rules in a small region of Italy.

U: What's the weather usually like in Lisbon in spring?
A: Mild, around 17 to 22 °C in the afternoon, with occasional showers.

U: Is it true it rains every day in London?
A: No; London gets less annual rain than Rome or Sydney, it's just frequently overcast.

U: How does a hurricane form?
A: Over warm ocean water, rising moist air creates low pressure and the Earth's rotation \
spins it up.

U: Why are airplane windows round?
A: Rounded corners spread stress evenly; square windows caused cracks in early jets.

U: Why do my ears pop on a plane?
A: Cabin pressure changes faster than the air in your middle ear can equalize.

U: How do trains stay on the tracks?
A: The wheels are cone-shaped and joined by an axle, which self-centers them on the rails.

U: What's the longest flight in the world right now?
A: Singapore to New York, around eighteen to nineteen hours.

U: Why is the Leaning Tower of Pisa leaning?
A: It was built on soft, unstable soil, and it began to tilt during construction.

U: How many countries are in the European Union?
A: Twenty-seven, since the UK left in 2020.

U: What's the time difference between London and Tokyo?
A: Tokyo is eight hours ahead in British summer and nine hours ahead in winter.

U: What currency does Switzerland use?
A: The Swiss franc.

U: Which is the largest desert in the world?
A: Antarctica, if you count cold deserts; the Sahara is the largest hot desert.

U: How long is the Great Wall of China?
A: All its branches together measure about 21,000 kilometers.

U: Why does Venice flood?
A: High tides called acqua alta push water into a city that is slowly sinking.

U: How many languages are spoken in India?
A: Hundreds; the constitution recognizes 22 scheduled languages.

U: What's the fastest land animal?
A: The cheetah, reaching about 100 to 120 km/h in short bursts.

U: What's the longest river in the world?
A: The Nile or the Amazon depending on how you measure; both are around 6,500 km.

U: How is a marathon's length decided?
A: 42.195 km was fixed after the 1908 London Olympics route, from Windsor Castle to \
the royal box.

U: Who has won the most Olympic medals?
A: Michael Phelps, with 28, 23 of them gold.

U: How many players are on a soccer team?
A: Eleven on the field per side, including the goalkeeper.

U: What's a hat-trick?
A: Three goals by one player in a single game.

U: Why is golf scored so that lower is better?
A: You count strokes taken; fewer strokes means you played the hole more efficiently.

U: When were the first modern Olympics?
A: Athens, 1896.

U: How does compound interest work, in one line?
A: You earn interest on your interest, so growth speeds up over time.

U: What's an index fund?
A: A fund that buys every stock in an index, like the S&P 500, instead of picking some.

U: What's inflation?
A: The general rise in prices over time, which lowers what a unit of money can buy.

U: What does APR mean?
A: Annual percentage rate: the yearly cost of borrowing, including some fees.

U: What is a prime number?
A: A whole number above 1 that can only be divided by 1 and itself.

U: Is zero even or odd?
A: Even: it's divisible by 2 with no remainder.

U: What's the Pythagorean theorem?
A: In a right triangle, a² + b² = c², where c is the hypotenuse.

U: How do I calculate the area of a circle?
A: π times the radius squared.

U: What's a standard deviation?
A: A measure of how spread out values are around the average.

U: What's the probability of rolling two sixes with two dice?
A: 1 in 36.

U: What does "serendipity" mean?
A: Finding something good by chance when you weren't looking for it.

U: What's the difference between "affect" and "effect"?
A: Usually "affect" is the verb and "effect" is the noun: the rain affected the game; \
its effect was a delay.

U: Where does the word "salary" come from?
A: From Latin salarium, linked to salt; the story that soldiers were paid in salt is \
probably a myth.

U: Is it "fewer" or "less" for people?
A: "Fewer" for countable things, so fewer people; "less" for amounts, like less water.

U: What's a palindrome?
A: A word or phrase that reads the same backwards, like "level" or "racecar".

U: What's the plural of "octopus"?
A: "Octopuses" is standard; "octopodes" exists but is rare.

U: Can you give me a word that means "very happy"?
A: Elated, ecstatic, overjoyed or jubilant.

U: What does "RSVP" stand for?
A: Répondez s'il vous plaît, French for "please reply".

U: What's the origin of the word "robot"?
A: Karel Čapek's 1920 play R.U.R.; it comes from the Czech word for forced labor.

U: Who wrote "Pride and Prejudice"?
A: Jane Austen, published in 1813.

U: Who painted the Mona Lisa?
A: Leonardo da Vinci, in the early 1500s.

U: What's the best-selling book of all time?
A: Probably the Bible; among novels, Don Quixote and A Tale of Two Cities are often cited.

U: Who composed "The Four Seasons"?
A: Antonio Vivaldi, around 1720.

U: How many keys does a standard piano have?
A: Eighty-eight: 52 white and 36 black.

U: What's the oldest known musical instrument?
A: Bone flutes from Germany, around 40,000 years old.

U: Who directed "Jaws"?
A: Steven Spielberg, in 1975.

U: What film won the first Academy Award for Best Picture?
A: "Wings", in 1929.

U: Ugh, it's been raining all week here.
A: That gets tiring. Hopefully the weekend clears up.

U: Happy Friday!
A: Happy Friday to you too! Anything fun coming up?
U: Not really, just catching up on errands.
A: Sometimes a quiet weekend is exactly what's needed.

U: Can you tell me a joke?
A: Why don't skeletons fight each other? They don't have the guts.

U: Give me a fun fact.
A: Octopuses have three hearts and blue blood.
U: Another one?
A: Honey never spoils; edible honey has been found in ancient Egyptian tombs.

U: Why do leap years exist?
A: A year is about 365.24 days, so an extra day every four years keeps the calendar in \
step with the seasons.

U: Can you write a haiku about autumn?
A: Red leaves drift and turn / the river carries them south / cold light on the stones.

U: Can you suggest a name for a team project about data cleanup?
A: How about "Project Broom", "Tidy Tables" or "Clean Slate"?

U: Help me come up with a subject line for a meeting reminder.
A: "Reminder: Thursday sync at 10, agenda inside."

U: What's a polite way to decline a meeting invite?
A: "Thanks for including me. I can't make this one; could you share the notes afterward?"

U: How do I write a good thank-you note?
A: Be specific about what you're thankful for, say how it helped, and keep it short.

U: What's a good icebreaker question for a workshop?
A: "What's one small thing that made your week better?" works well.

U: How many seconds are in a day?
A: 86,400.

U: Can you turn "we need to reduce spending" into something more diplomatic?
A: "Let's look for ways to use our budget more efficiently this quarter."

U: What's the difference between a crocodile and an alligator?
A: Alligators have wider U-shaped snouts; crocodiles have narrower V-shaped ones and \
show more teeth.

U: Do goldfish really have a three-second memory?
A: No, they can remember things for months.

U: How long do tortoises live?
A: Many species live over a hundred years.

U: Why do dogs tilt their heads?
A: Possibly to hear better or see our faces around their muzzles; the reason isn't settled.

U: What's the largest animal ever?
A: The blue whale, up to about 30 meters long.

U: How do I fix a squeaky door hinge?
A: Lift out the pin, wipe it, coat it with a little oil or petroleum jelly, and put it \
back.

U: Why does my bathroom mirror fog up?
A: Warm, moist air condenses on the cooler glass.

U: How often should smoke alarm batteries be changed?
A: At least once a year, and test the alarm monthly.

U: What's the right way to fold a fitted sheet?
A: Tuck the corners into each other in pairs, then fold it into a rectangle.

U: How do I get wax off a tablecloth?
A: Scrape off what you can, then iron it through a paper towel to lift the rest.

U: Why does my Wi-Fi slow down in the evening?
A: More neighbors and devices share the network and the airwaves at peak times.

U: What does VPN stand for?
A: Virtual private network.

U: How long should a phone battery last before it degrades?
A: Most keep about 80 percent of capacity after 500 full charge cycles.

U: What's two-factor authentication?
A: Logging in with a password plus a second proof, like a code from your phone.

U: Can you explain what a blockchain is?
A: A shared ledger where each block of records is linked to the previous one by a hash, \
so past entries are hard to change.

U: What does GDP measure?
A: The total value of goods and services produced in a country in a given period.

U: What is the Mediterranean diet?
A: A pattern heavy in vegetables, legumes, whole grains, olive oil and fish, with \
little red meat.

U: How much sleep do adults need?
A: Most need seven to nine hours a night.

U: Why do muscles get sore a day or two after exercise?
A: Delayed onset soreness comes from tiny muscle damage and the repair that follows.

U: What's a normal resting heart rate?
A: Between 60 and 100 beats per minute for most adults.

U: Is it true we only use ten percent of our brains?
A: No, that's a myth; brain scans show activity across nearly all regions.

U: What's the capital of Australia again? Not Sydney, right?
A: Right, it's Canberra.

U: Who was the first woman to win a Nobel Prize?
A: Marie Curie, in physics in 1903; she won chemistry in 1911 too.

U: When did the Roman Republic become an empire?
A: Usually dated to 27 BC, when Octavian became Augustus.

U: What language did ancient Romans speak?
A: Latin, though Greek was widely used by the educated and in the East.

U: Why did the Vikings raid England?
A: Wealthy, lightly defended monasteries, land pressures at home and trade ambitions \
all played a part.

U: What was the Cold War?
A: A rivalry from about 1947 to 1991 between the US and the Soviet Union, fought through \
proxies, arms races and politics rather than direct war.

U: How does a refrigerator keep things cold?
A: A refrigerant absorbs heat inside as it evaporates and releases it outside as it's \
compressed.

U: Why does a microwave heat food?
A: Microwaves make water molecules vibrate, and that motion becomes heat.

U: What's a light year?
A: The distance light travels in a year, about 9.46 trillion kilometers.

U: How many moons does Jupiter have?
A: Over ninety confirmed, and the count keeps growing.

U: What's the hottest planet?
A: Venus, because its thick carbon dioxide atmosphere traps heat.

U: Do I need an umbrella if the forecast says 30% chance of rain?
A: It means rain on about three days out of ten like this one; a small umbrella is a safe \
bet.

U: What's the difference between a virus and bacteria?
A: Bacteria are living cells that can reproduce alone; viruses need a host cell to copy \
themselves.

U: What's the best way to memorize a speech?
A: Learn it in chunks, rehearse out loud, and anchor each section to a key image.

U: How do I convert a string to an integer in JavaScript?
A: Number("42") or parseInt("42", 10).

U: My Python code says "TypeError: 'NoneType' object is not subscriptable". Help?
A: Something you're indexing is None, often a function that forgot to return a value.
U: The function does return a dict at the end.
A: Check early exits: any path that hits return without a value, or none at all, gives None.

U: What's the quickest way to find duplicates in a Python list?
A: collections.Counter(items), then keep the keys whose count is above 1.

U: How do I schedule a cron job every Monday at 9?
A: 0 9 * * 1 command

U: What's a Python decorator?
A: A function that wraps another function to add behavior, applied with @name above it.

U: Why does 0.1 + 0.2 not equal 0.3 in most languages?
A: Floats are stored in binary, and 0.1 and 0.2 have no exact binary representation.

U: How do I merge two dictionaries in Python?
A: merged = a | b in Python 3.9+, or {**a, **b} in older versions.
"""


_HEADER = re.compile(
    r"^= (?P<key>[\w-]+)(?P<tags>(?: [@!][\w-]+)*) \| (?P<kind>\w+) \| (?P<answer>.+)$"
)


def _parse_preferences(text: str) -> tuple[PrefItem, ...]:
    """Items of the ``_PREFERENCES`` block (format in the module docstring)."""
    items: list[PrefItem] = []
    domain = ""
    current: dict[str, list[str]] | None = None
    header: re.Match[str] | None = None

    def close() -> None:
        if header is not None and current is not None:
            tags = header["tags"].split()
            groups = [t[1:] for t in tags if t[0] == "@"] or [header["key"]]
            clashes = [t[1:] for t in tags if t[0] == "!"]
            items.append(
                PrefItem(
                    key=header["key"],
                    group=groups[0],
                    conflicts=tuple(groups[1:] + clashes),
                    domain=domain,
                    kind=header["kind"],
                    answer=header["answer"].strip(),
                    statements=tuple(current["S"]),
                    questions=tuple(current["Q"]),
                )
            )

    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# "):
            close()
            header, current, domain = None, None, line[2:].strip()
        elif line.startswith("= "):
            close()
            header = _HEADER.match(line)
            if header is None:
                raise ValueError(f"bad preference header: {line!r}")
            if header["kind"] not in KINDS:
                raise ValueError(f"unknown kind in {line!r}")
            current = {"S": [], "Q": []}
        elif line[:3] in ("S: ", "Q: ") and current is not None:
            current[line[0]].append(line[3:].strip())
        else:
            raise ValueError(f"unexpected line in preference bank: {line!r}")
    close()
    return tuple(items)


def _parse_chat(text: str) -> tuple[Exchange, ...]:
    """Exchanges of the ``_CHAT`` block: ``U:`` / ``A:`` pairs, blank lines between."""
    out: list[Exchange] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if len(lines) % 2 or not all(
            line.startswith("U: " if i % 2 == 0 else "A: ") for i, line in enumerate(lines)
        ):
            raise ValueError(f"bad chat exchange: {block!r}")
        texts = [line[3:].strip() for line in lines]
        out.append(Exchange(tuple(zip(texts[::2], texts[1::2], strict=True))))
    return tuple(out)


PREFERENCES = _parse_preferences(_PREFERENCES)
"""All preference items, in bank order."""
CHAT = _parse_chat(_CHAT)
"""All hand-written unrelated exchanges."""
