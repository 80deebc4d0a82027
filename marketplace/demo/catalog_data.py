"""What the demo catalog holds. Plain data; seeding reads it."""

from __future__ import annotations

from dataclasses import dataclass, field

DEMO_PASSWORD = "clearmix-demo"  # noqa: S105 - printed for the demo, never used in production


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    roles: tuple[str, ...]
    handle: str  # the public name; the email is only the login


@dataclass(frozen=True)
class DemoTrack:
    title: str
    isrc: str
    work_title: str
    iswc_digits: str  # nine digits; the check digit is computed
    main_artists: tuple[str, ...]
    featured: tuple[str, ...]
    writers: tuple[tuple[str, str], ...]
    master_split: tuple[tuple[str, int], ...]
    publishing_split: tuple[tuple[str, int], ...]
    genre: str
    moods: tuple[str, ...]
    bpm: int
    key: str
    duration_s: float
    seed: int
    # Per-recording consent (artist, terms overrides); catalog-wide consents
    # are in CATALOG_WIDE_CONSENT.
    recording_consent: tuple[tuple[str, dict], ...] = field(default_factory=tuple)


USERS = (
    DemoUser("fan@clearmix.demo", "Frankie Fan", ("fan",), "frankie"),
    DemoUser("artist@clearmix.demo", "Nova Lane", ("artist",), "novalane"),
    DemoUser("tidewater@clearmix.demo", "Tess of The Tidewater", ("artist",), "tidewater"),
    DemoUser("mira@clearmix.demo", "Mira", ("artist",), "mira_music"),
    DemoUser("songwriter@clearmix.demo", "June Okafor", ("songwriter",), "june_okafor"),
    DemoUser("auditor@clearmix.demo", "Avery Auditor", ("auditor",), "avery_audits"),
)

# artist party name -> the demo login that claims it
ARTIST_OWNERS = {
    "Nova Lane": "artist@clearmix.demo",
    "The Tidewater": "tidewater@clearmix.demo",
    "Mira": "mira@clearmix.demo",
}
SONGWRITER_OWNERS = {"June Okafor": "songwriter@clearmix.demo"}

ARTISTS = ("Nova Lane", "The Tidewater", "Kairo Beats", "Mira", "Sol")
SONGWRITERS = ("June Okafor", "Theo Brandt", "Lena Ruiz")
LABELS = ("Clearwater Records",)
PUBLISHERS = ("Brightline Publishing",)

# Nova Lane opted in for her whole catalog; Mira for hers; Kairo Beats and Sol never did.
CATALOG_WIDE_CONSENT = ("Nova Lane", "Mira")
# Terms beyond the defaults in those catalog-wide grants: Nova Lane lets fans sing
# covers of her tracks (off by default), so the demo shows "Sing your own cover".
CATALOG_WIDE_TERMS = {"Nova Lane": {"covers": True}}

TRACKS = (
    DemoTrack(
        "Neon Tide",
        "QZCLM2600001",
        "Neon Tide",
        "101000001",
        ("Nova Lane",),
        (),
        (("June Okafor", "composer_lyricist"), ("Theo Brandt", "composer")),
        (("Nova Lane", 7000), ("Clearwater Records", 3000)),
        (("June Okafor", 6000), ("Theo Brandt", 2500), ("Brightline Publishing", 1500)),
        "Electronic",
        ("energetic", "night"),
        122,
        "A minor",
        32,
        11,
    ),
    DemoTrack(
        "Paper Lanterns",
        "QZCLM2600002",
        "Paper Lanterns",
        "101000002",
        ("Nova Lane",),
        ("The Tidewater",),
        (("June Okafor", "composer_lyricist"),),
        (("Nova Lane", 10000),),
        (("June Okafor", 10000),),
        "Lo-fi",
        ("chill", "warm"),
        84,
        "D major",
        30,
        12,
    ),
    DemoTrack(
        "Harbor Lights",
        "QZCLM2600003",
        "Harbor Lights",
        "101000003",
        ("The Tidewater",),
        (),
        (("Lena Ruiz", "lyricist"), ("June Okafor", "composer")),
        (("The Tidewater", 8000), ("Clearwater Records", 2000)),
        (("Lena Ruiz", 5000), ("June Okafor", 5000)),
        "Indie",
        ("uplifting", "focus"),
        100,
        "G major",
        28,
        13,
        recording_consent=(("The Tidewater", {"vocals_isolated": False}),),
    ),
    DemoTrack(
        "Concrete Bloom",
        "QZCLM2600004",
        "Concrete Bloom",
        "101000004",
        ("Kairo Beats",),
        (),
        (("Theo Brandt", "composer_lyricist"),),
        (("Kairo Beats", 10000),),
        (("Theo Brandt", 10000),),
        "Hip-hop",
        ("dark", "focus"),
        90,
        "F minor",
        26,
        14,
    ),
    DemoTrack(
        "Sunline",
        "QZCLM2600005",
        "Sunline",
        "101000005",
        ("Mira", "Sol"),
        (),
        (("Lena Ruiz", "composer_lyricist"),),
        (("Mira", 5000), ("Sol", 5000)),
        (("Lena Ruiz", 10000),),
        "Pop",
        ("happy", "workout"),
        112,
        "E minor",
        30,
        15,
    ),
    DemoTrack(
        "Glass Orchard",
        "QZCLM2600006",
        "Glass Orchard",
        "101000006",
        ("Nova Lane",),
        (),
        (("June Okafor", "composer"), ("Lena Ruiz", "lyricist")),
        (("Nova Lane", 10000),),
        # Deliberately missing: the publishers have not registered the
        # publishing split yet, so the track is not remixable.
        (),
        "House",
        ("club", "energetic"),
        126,
        "C major",
        34,
        16,
    ),
    DemoTrack(
        "Slow Comet",
        "QZCLM2600007",
        "Slow Comet",
        "101000007",
        ("Mira",),
        (),
        (("Lena Ruiz", "composer_lyricist"), ("Theo Brandt", "composer")),
        (("Mira", 9000), ("Clearwater Records", 1000)),
        (("Lena Ruiz", 7000), ("Theo Brandt", 3000)),
        "Ambient",
        ("calm", "focus"),
        72,
        "B minor",
        36,
        17,
    ),
)


def iswc_with_check_digit(nine_digits: str) -> str:
    """T + nine digits + check digit C = (10 - (1 + Σ i·dᵢ) mod 10) mod 10."""
    total = 1 + sum(index * int(digit) for index, digit in enumerate(nine_digits, start=1))
    return f"T{nine_digits}{(10 - total % 10) % 10}"
