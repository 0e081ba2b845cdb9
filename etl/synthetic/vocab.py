"""Per-category vocabularies: tags, titles, sentences, venues, prices, schedules, names.

Why so much hand-written text: the GNN's event features include text features of title and
description, and the evaluation wants text to *carry* signal the way real listings do. Titles and
descriptions are built from the event's tags, and tags are chosen from the event's latent style
(see `catalog.py`), so a model that reads text can recover part of the taste structure, but not
all of it (templates and venues add noise, as in real listings).

Time-of-week slots (used by users' preferences and events' schedules):
0 = weekday daytime, 1 = weekday evening (start >= 17:00 local, Friday included),
2 = weekend daytime, 3 = weekend evening.
"""

from __future__ import annotations

from dataclasses import dataclass

SLOT_NAMES: tuple[str, ...] = ("weekday_day", "weekday_evening", "weekend_day", "weekend_evening")
EVENING_HOUR = 17


@dataclass(frozen=True)
class Category:
    """What events of one category look like.

    `popularity` is the global share of interest; `free_share` the share of free events;
    `price_eur` the median paid price in euros; `capacity` the median venue capacity;
    `slot_weights` how events spread over the four time-of-week slots and `hours` the usual local
    start hours per slot; `duration_h` the typical length.
    """

    name: str
    popularity: float
    free_share: float
    price_eur: float
    capacity: int
    slot_weights: tuple[float, float, float, float]
    hours: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], tuple[float, ...]]
    duration_h: float
    venue_kinds: tuple[str, ...]
    tags: tuple[str, ...]
    titles: tuple[str, ...]
    sentences: tuple[str, ...]
    person_prefix: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "music", 0.16, 0.25, 15.0, 150, (0.02, 0.40, 0.08, 0.50),
        ((12, 14), (19, 20, 21, 22), (13, 15, 16), (19, 20, 21, 22)), 3.0,
        ("bar", "club", "hall"),
        ("indie", "jazz", "techno", "house", "hip-hop", "classical", "folk", "rock", "soul",
         "electronic", "open-mic", "karaoke", "choir", "dj-set", "live-band", "latin"),
        ("{Tag} Night at {venue}", "{Tag} Sessions: Live at {venue}", "{Tag} Showcase #{n}",
         "Sunday {Tag} Brunch at {venue}", "{area} {Tag} Social", "Late-Night {Tag} at {venue}",
         "{Tag} & {Tag2}: A Night at {venue}"),
        ("An evening of {tag} with local artists and a few surprises.",
         "Doors open half an hour before the first set.",
         "Resident selectors play {tag} and {tag2} until late.",
         "Expect a relaxed crowd and a good sound system.",
         "Newcomers to the {tag} scene are very welcome.",
         "Bring friends; earplugs optional."),
        "DJ",
    ),
    Category(
        "tech", 0.12, 0.55, 10.0, 80, (0.08, 0.80, 0.10, 0.02),
        ((9, 10, 13), (18, 18.5, 19), (10, 11, 13), (18,)), 2.5,
        ("cowork", "cafe", "hall"),
        ("python", "javascript", "data-science", "machine-learning", "ai", "devops", "cloud",
         "security", "startups", "product", "ux-design", "rust", "open-source", "blockchain",
         "mobile", "hardware"),
        ("{Tag} Meetup #{n}", "Intro to {Tag}", "{city} {Tag} Night", "{Tag} Lightning Talks",
         "Hands-on {Tag} Workshop", "{Tag} & Pizza at {venue}", "{Tag} meets {Tag2}"),
        ("Three short talks followed by questions and networking.",
         "Bring a laptop if you want to follow along.",
         "Speakers from local teams share what worked with {tag} and what didn't.",
         "Beginners are welcome; the first half is an introduction to {tag}.",
         "We close with an open discussion on {tag2}.",
         "Pizza and drinks kindly provided by our sponsor."),
        "",
    ),
    Category(
        "sports", 0.10, 0.35, 12.0, 30, (0.05, 0.35, 0.55, 0.05),
        ((7, 12), (18, 18.5, 19, 19.5), (8, 9, 10, 11), (17, 18)), 2.0,
        ("park", "hall", "studio"),
        ("running", "cycling", "football", "basketball", "climbing", "swimming", "tennis",
         "volleyball", "table-tennis", "rowing", "5k", "boxing", "ultimate-frisbee", "skating"),
        ("{area} {Tag} Club", "Weekly {Tag} Session", "Social {Tag} at {venue}",
         "{Tag} for Beginners", "{city} {Tag} League: Match Day", "Morning {Tag} in {area}"),
        ("All levels welcome; we split into groups by pace.",
         "Meet at the entrance ten minutes early.",
         "A friendly {tag} session followed by drinks nearby.",
         "Bring water and suitable shoes.",
         "Coaches are on hand for anyone new to {tag}.",
         "We finish with a cool-down and some {tag2} chat."),
        "Coach",
    ),
    Category(
        "arts", 0.10, 0.30, 14.0, 60, (0.10, 0.35, 0.40, 0.15),
        ((11, 14), (18.5, 19, 19.5), (11, 14, 15), (18, 19)), 2.0,
        ("studio", "gallery", "cafe"),
        ("painting", "drawing", "photography", "pottery", "sculpture", "street-art", "gallery",
         "theatre", "poetry", "dance", "crafts", "design", "life-drawing", "writing"),
        ("{Tag} Workshop at {venue}", "Open {Tag} Evening", "{Tag} Walk: {area}",
         "{Tag} Club #{n}", "The {Tag} Sessions", "{Tag} and Wine at {venue}"),
        ("All materials are provided.",
         "A relaxed {tag} session for every level of experience.",
         "Our guest artist introduces their approach to {tag}.",
         "Stay afterwards to share work and talk {tag2}.",
         "Small group, so places are limited.",
         "No experience needed, just curiosity."),
        "",
    ),
    Category(
        "food", 0.12, 0.15, 30.0, 40, (0.05, 0.35, 0.35, 0.25),
        ((12,), (18.5, 19, 19.5, 20), (11, 12, 13), (19, 20)), 2.5,
        ("restaurant", "bar", "cafe"),
        ("wine-tasting", "craft-beer", "cooking-class", "street-food", "vegan", "brunch",
         "supper-club", "coffee", "baking", "cheese", "cocktails", "ramen", "tapas", "food-tour"),
        ("{Tag} Evening at {venue}", "{Tag} Supper Club", "{area} {Tag} Tour",
         "{Tag} Masterclass", "{Tag} & {Tag2} Pairing", "Saturday {Tag} at {venue}"),
        ("A guided {tag} tasting with plenty of time to chat.",
         "Dietary requirements can be catered for if you tell us in advance.",
         "Our host walks you through the best of {tag} and {tag2}.",
         "Seats are shared, so come ready to meet new people.",
         "Tickets include all tastings.",
         "Arrive hungry."),
        "Chef",
    ),
    Category(
        "outdoors", 0.09, 0.55, 10.0, 25, (0.05, 0.10, 0.80, 0.05),
        ((9, 10), (18, 18.5), (8, 9, 10), (17, 19)), 4.0,
        ("park",),
        ("hiking", "camping", "kayaking", "birdwatching", "nature-walk", "foraging",
         "stargazing", "trail-running", "picnic", "gardening", "beach-cleanup",
         "mountain-biking"),
        ("{Tag} near {area}", "Weekend {Tag} Trip", "{Tag} for Everyone", "{area} {Tag} Day",
         "Sunrise {Tag}", "{Tag} Adventure #{n}"),
        ("We meet at the station and set off together.",
         "Wear sturdy shoes and bring a packed lunch.",
         "A gentle {tag} outing with a few stops along the way.",
         "Our leader knows the area and its {tag2} spots well.",
         "We go ahead in light rain.",
         "Dogs on leads are welcome."),
        "",
    ),
    Category(
        "business", 0.08, 0.25, 35.0, 120, (0.35, 0.55, 0.08, 0.02),
        ((8, 8.5, 9, 12.5), (18, 18.5, 19), (10,), (18,)), 3.0,
        ("cowork", "hall", "bar"),
        ("networking", "entrepreneurship", "marketing", "finance", "leadership", "careers",
         "freelancing", "investing", "sales", "women-in-business", "real-estate", "pitch-night"),
        ("{city} {Tag} Breakfast", "{Tag} Summit {city}", "{Tag} Evening at {venue}",
         "{Tag} Masterclass", "{Tag} Roundtable #{n}", "Founders' {Tag} Night"),
        ("Meet peers and hear practical advice on {tag}.",
         "A panel of local founders shares lessons on {tag2}.",
         "Structured networking in the second half.",
         "Coffee and pastries are included.",
         "Bring business cards, or just your questions.",
         "Seats are limited and fill up fast."),
        "",
    ),
    Category(
        "wellness", 0.08, 0.30, 15.0, 20, (0.15, 0.45, 0.35, 0.05),
        ((7, 7.5, 12.5), (18, 19, 19.5), (8, 9, 10, 11), (17, 18)), 1.5,
        ("studio", "park", "hall"),
        ("yoga", "meditation", "mindfulness", "breathwork", "pilates", "sound-bath",
         "mental-health", "nutrition", "tai-chi", "sleep", "self-care"),
        ("Morning {Tag} in {area}", "{Tag} for Beginners", "{Tag} Circle at {venue}",
         "Slow Sunday {Tag}", "{Tag} & {Tag2} Retreat", "Lunchtime {Tag}"),
        ("A calm {tag} session suitable for all levels.",
         "Mats are available, but feel free to bring your own.",
         "We close with a short {tag2} practice.",
         "Please arrive ten minutes early to settle in.",
         "Wear comfortable clothes.",
         "Our teacher has years of experience with {tag}."),
        "",
    ),
    Category(
        "film", 0.07, 0.20, 11.0, 80, (0.03, 0.45, 0.17, 0.35),
        ((14,), (19, 19.5, 20, 20.5), (14, 16), (19, 20, 21)), 2.5,
        ("cinema", "bar", "hall"),
        ("documentary", "indie-film", "classic-cinema", "horror", "anime", "short-films",
         "film-club", "screenwriting", "sci-fi", "arthouse", "outdoor-cinema"),
        ("{Tag} Screening at {venue}", "{Tag} Night #{n}", "{area} {Tag} Club",
         "{Tag} Double Bill", "{Tag} Q&A Evening", "Late Show: {Tag}"),
        ("A screening followed by a discussion.",
         "Our programmer introduces each {tag} film.",
         "Snacks and drinks available at the bar.",
         "Subtitled where needed.",
         "A rare chance to see {tag} on the big screen.",
         "Stick around for a chat about {tag2} afterwards."),
        "",
    ),
    Category(
        "community", 0.08, 0.75, 6.0, 50, (0.10, 0.40, 0.40, 0.10),
        ((10, 14), (18.5, 19, 19.5), (10, 11, 14), (18, 19)), 2.5,
        ("hall", "cafe", "bar"),
        ("volunteering", "language-exchange", "board-games", "book-club", "trivia", "parenting",
         "lgbtq", "newcomers", "neighbourhood", "sustainability", "charity", "pub-quiz"),
        ("{area} {Tag} Meetup", "{Tag} Night at {venue}", "{city} {Tag} Social",
         "{Tag} Afternoon", "{Tag} Club #{n}", "{Tag} & Coffee"),
        ("Everyone is welcome, whether you are new in town or a local.",
         "A friendly {tag} get-together.",
         "We usually head somewhere nearby afterwards.",
         "Bring a friend, or come alone and meet new ones.",
         "This month we also talk {tag2}.",
         "Look for the sign at the entrance."),
        "",
    ),
)

CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)

#: Tags any event may carry on top of its category tags (chosen independently of style, so they
#: are weak signal, as generic tags are on real platforms).
GENERIC_TAGS: tuple[str, ...] = ("beginner-friendly", "family-friendly", "english-speaking",
                                 "18-plus", "accessible", "drop-in", "outdoor", "after-work")

GENERIC_SENTENCES_FREE: tuple[str, ...] = ("Free entry, but please register so we can plan.",
                                           "It's free; donations are welcome.")
GENERIC_SENTENCES_PAID: tuple[str, ...] = ("Tickets {price} {currency}.",
                                           "Your ticket ({price} {currency}) includes a drink.")

VENUE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "bar": ("The {Adj} {Animal}", "The {Noun} & {Noun2}", "The {Noun} Tap"),
    "club": ("{Noun} Club", "Club {Noun}", "The {Noun} Rooms"),
    "hall": ("{area} Community Hall", "{area} Town Hall", "St {Saint}'s Hall"),
    "park": ("{area} Park", "{area} Common", "{area} Riverside", "{area} Fields"),
    "studio": ("Studio {Noun}", "{Noun} Studios", "The {Adj} Studio"),
    "cafe": ("Café {Noun}", "The {Adj} Bean", "{Noun} Coffee House"),
    "cowork": ("{Noun} Hub", "Campus {area}", "{Noun}works", "The {Noun} Building"),
    "cinema": ("The {Adj} Picturehouse", "{area} Cinema", "Kino {Noun}"),
    "gallery": ("{Noun} Gallery", "Gallery {Noun}", "The {Adj} Room"),
    "restaurant": ("{Noun} Kitchen", "Casa {Noun}", "{Noun} Canteen", "The {Adj} Table"),
}
VENUE_NOUNS: tuple[str, ...] = ("Lexington", "Harbour", "Foundry", "Lantern", "Arcade", "Granary",
                                "Orchard", "Signal", "Compass", "Beacon", "Atlas", "Meridian",
                                "Copper", "Ember", "Juniper", "Marigold", "Quarry", "Tannery",
                                "Mill", "Yard", "Anchor", "Crown", "Mercury", "Vault")
VENUE_ADJS: tuple[str, ...] = ("Red", "Golden", "Old", "Little", "Blue", "Crooked", "Silver",
                               "Green", "Black", "Royal", "Wild", "Hidden")
VENUE_ANIMALS: tuple[str, ...] = ("Lion", "Fox", "Stag", "Swan", "Hare", "Crow", "Bear", "Owl",
                                  "Horse", "Heron")
VENUE_SAINTS: tuple[str, ...] = ("Mary", "John", "Luke", "Peter", "Anne", "George")

ORG_TEMPLATES: tuple[str, ...] = ("{city} {Tag} Collective", "{area} {Tag} Club",
                                  "{Tag} Society {city}", "The {Tag} Project",
                                  "{city} {Category} Network", "{Tag} Lab {city}",
                                  "{area} {Category} Hub", "{Noun} {Category}")

#: First names (female, male) and last names per language. Locales map to a language below.
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("Olivia", "Emma", "Amelia", "Sophie", "Isla", "Grace", "Chloe", "Emily", "Hannah",
         "Lucy", "Ava", "Mia", "Zoe", "Ella", "Ruby", "Priya", "Aisha", "Maya", "Leah", "Nora"),
        ("Oliver", "James", "Jack", "Harry", "Noah", "Leo", "Thomas", "Daniel", "Samuel",
         "Ethan", "Liam", "Lucas", "Adam", "Ryan", "Ben", "Omar", "Arjun", "Kai", "Max", "Owen"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
         "Patel", "Walker", "Wright", "Thompson", "Evans", "Robinson", "Clarke", "Khan",
         "Murphy", "Nguyen", "Garcia", "Kim", "Martin", "Lee", "Hall", "Young"),
    ),
    "de": (
        ("Anna", "Lena", "Lea", "Hannah", "Mia", "Laura", "Julia", "Sarah", "Lisa", "Katharina",
         "Marie", "Sophie", "Johanna", "Clara", "Emma", "Paula", "Greta", "Leonie"),
        ("Lukas", "Jonas", "Leon", "Felix", "Paul", "Maximilian", "Tim", "Jan", "Niklas",
         "David", "Moritz", "Simon", "Tobias", "Florian", "Elias", "Ben", "Emil", "Anton"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz",
         "Braun", "Zimmermann", "Krüger", "Hartmann", "Yilmaz", "Lange"),
    ),
    "fr": (
        ("Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Jade", "Louise",
         "Juliette", "Zoé", "Alice", "Clara", "Lucie", "Margaux", "Nina", "Anaïs", "Yasmine"),
        ("Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Nathan", "Théo", "Mathis",
         "Raphaël", "Paul", "Antoine", "Maxime", "Thomas", "Adam", "Karim", "Noé", "Julien"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
         "Bertrand", "Roux", "Vincent", "Fournier", "Benali", "Girard"),
    ),
    "es": (
        ("Lucía", "María", "Paula", "Sofía", "Laura", "Marta", "Alba", "Carmen", "Sara",
         "Julia", "Irene", "Elena", "Claudia", "Noa", "Andrea", "Nerea", "Carla", "Ana"),
        ("Hugo", "Daniel", "Pablo", "Alejandro", "Álvaro", "Adrián", "David", "Mario", "Javier",
         "Diego", "Sergio", "Carlos", "Marcos", "Jorge", "Iván", "Lucas", "Manuel", "Raúl"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
         "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno",
         "Álvarez", "Romero", "Navarro", "Torres", "Domínguez", "Vázquez", "Castro"),
    ),
    "nl": (
        ("Emma", "Julia", "Sophie", "Tess", "Anna", "Fleur", "Sanne", "Lotte", "Eva", "Noor",
         "Lisa", "Isa", "Femke", "Iris", "Roos", "Maud", "Yara", "Saar"),
        ("Daan", "Sem", "Lucas", "Levi", "Finn", "Bram", "Thijs", "Jesse", "Ruben", "Lars",
         "Sven", "Tim", "Joris", "Koen", "Stijn", "Milan", "Mohamed", "Niels"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
         "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
         "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "Yildiz", "Kok"),
    ),
}

#: Locales the generator assigns; expats get one of these at random instead of their metro's.
LOCALES: tuple[str, ...] = ("en-GB", "en-US", "en-CA", "en-AU", "de-DE", "fr-FR", "es-ES",
                            "nl-NL", "fr-CA")


def language_of(locale: str) -> str:
    """The name list a locale draws from (`fr-CA` -> `fr`)."""
    return locale.split("-", 1)[0]


def title_case_tag(tag: str) -> str:
    """`hip-hop` -> `Hip-Hop`, `ai` -> `AI`, `ux-design` -> `UX Design` for titles."""
    special = {"ai": "AI", "ux-design": "UX Design", "5k": "5K", "dj-set": "DJ Set",
               "lgbtq": "LGBTQ+", "18-plus": "18+", "devops": "DevOps", "javascript": "JavaScript"}
    if tag in special:
        return special[tag]
    if tag == "hip-hop":
        return "Hip-Hop"
    return " ".join(part.capitalize() for part in tag.split("-"))
