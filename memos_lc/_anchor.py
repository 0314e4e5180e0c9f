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
