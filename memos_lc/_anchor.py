"""General prose that adapter training keeps the model's predictions on (see
:attr:`memos_lc.parametric.AdapterTrainingConfig.anchor_weight`).

Plain encyclopedic paragraphs on everyday topics, written for this package. While an adapter
learns facts, the adapted model's next-token distribution on this text is pulled towards the
base model's, so the adapter changes what the facts need and little else.
"""

from __future__ import annotations

ANCHOR_TEXTS: tuple[str, ...] = (
    "A volcano is an opening in the crust of a planet through which molten rock, ash and gases "
    "escape from below the surface. Most volcanoes on earth form where tectonic plates pull "
    "apart or push against each other. When the pressure of gas in the magma becomes too great, "
    "an eruption follows, and the lava that flows out cools into new rock.",
    "The human heart is a muscular organ about the size of a closed fist. It pumps blood through "
    "the body in two loops: one carries blood to the lungs to pick up oxygen, and the other "
    "carries the oxygen-rich blood to every other organ. A healthy adult heart beats roughly "
    "sixty to one hundred times a minute while at rest.",
    "Bread is made by mixing flour with water, salt and yeast, and then kneading the dough so "
    "that the gluten forms long, elastic strands. The yeast feeds on sugars in the flour and "
    "releases carbon dioxide, which makes the dough rise. After shaping, the loaf is baked in a "
    "hot oven until the crust turns brown and the inside is set.",
    "The printing press with movable type changed how knowledge spread in Europe. Before it, "
    "books were copied by hand, which was slow and expensive. Printers could now produce "
    "hundreds of identical pages in a day, so pamphlets, newspapers and books became cheaper, "
    "and more people learned to read.",
    "Many birds migrate between their breeding grounds and the places where they spend the "
    "winter. Some small songbirds fly thousands of kilometres each year. They find their way "
    "using the position of the sun and the stars, the earth's magnetic field and landmarks such "
    "as coastlines and mountain ranges.",
    "A bicycle turns the motion of the rider's legs into forward movement. The pedals turn a "
    "crank and a chainring, and a chain carries that motion to a smaller sprocket on the rear "
    "wheel. Gears let the rider choose between climbing hills with little effort and riding "
    "fast on flat roads.",
    "Tides are the regular rise and fall of the sea. They are caused mainly by the pull of the "
    "moon's gravity, with a smaller contribution from the sun. Most coasts see two high tides "
    "and two low tides every day, and the largest tides occur when the sun and the moon are "
    "lined up.",
    "Glaciers are large masses of ice that move slowly over land. They form where more snow "
    "falls in winter than melts in summer, so the snow piles up and is pressed into ice. As a "
    "glacier moves, it carves valleys, carries rocks for long distances and leaves them behind "
    "when the ice melts.",
    "A public library lends books and other materials to the people of a town or city. Besides "
    "books, many libraries offer newspapers, films, computers with internet access and quiet "
    "rooms for study. Librarians help visitors find information and often run reading groups "
    "for children and adults.",
    "Chess is a strategy game for two players on a board of sixty-four squares. Each player "
    "starts with sixteen pieces: a king, a queen, two rooks, two bishops, two knights and eight "
    "pawns. The aim of the game is to checkmate the opponent's king, so that it is attacked and "
    "has no safe square to move to.",
    "Coffee is brewed from the roasted seeds of the coffee plant, which grows in tropical "
    "regions. The beans are picked as red cherries, dried or washed, and then roasted, which "
    "develops their flavour and colour. Ground coffee is mixed with hot water, and the drink is "
    "strained from the grounds.",
    "An electric motor turns electrical energy into motion. A current flowing through coils of "
    "wire creates a magnetic field, which pushes against permanent magnets or other coils and "
    "makes the shaft spin. Motors of this kind drive fans, washing machines, trains and the "
    "tiny vibrating parts of mobile phones.",
)

# Everyday requests of several shapes (questions, instructions, statements) with short,
# plain replies. Anchored like the prose above, they keep how the model opens a reply: an
# adapter trained only on answers that restate the question otherwise learns to restate
# any request, including ones it was never trained on.
ANCHOR_CHATS: tuple[tuple[str, str], ...] = (
    (
        "How long should I boil an egg?",
        "For a soft yolk, boil it for about six minutes; for a firm yolk, nine to ten minutes. "
        "Then put it in cold water so it stops cooking and is easier to peel.",
    ),
    (
        "Give me three tips for sleeping better.",
        "Go to bed and get up at the same time every day, keep your bedroom dark and cool, "
        "and avoid screens and caffeine in the hour before you sleep.",
    ),
    (
        "I'm planning a picnic this weekend. Any ideas for food?",
        "Sandwiches, a pasta salad, fresh fruit and some cheese with crackers travel well. "
        "Bring plenty of water, and pack anything that can spoil in a cool bag.",
    ),
    (
        "Explain what a leap year is.",
        "A leap year has 366 days instead of 365: February gets a 29th day. It keeps the "
        "calendar in step with the earth's orbit, which takes about 365 and a quarter days.",
    ),
    (
        "Can you suggest a name for a small bakery?",
        'How about "The Rising Loaf"? It is short, easy to remember and says what you sell. '
        '"Crumb & Co." or "Morning Oven" would work too.',
    ),
    (
        "What should I pack for a weekend of hiking?",
        "Sturdy boots, a rain jacket, a warm layer, a map, a first-aid kit, snacks and enough "
        "water for each day. A head torch and a spare pair of socks are worth the weight.",
    ),
    (
        "How do I get a red wine stain out of a shirt?",
        "Blot it at once with a paper towel, then cover it with salt or baking soda to draw "
        "the wine out. Rinse from the back with cold water and wash it as usual.",
    ),
    (
        "Write a one-line birthday message for my brother.",
        "Happy birthday to the best brother anyone could ask for: here's to another year of "
        "laughs, adventures and terrible jokes!",
    ),
)
