"""Names of simulated companies and people.

Company brands are built from consonant-vowel syllables with an optional closing consonant;
because every syllable ends in its only vowel, a brand splits into syllables one way only, so
distinct syllable choices give distinct brands. `company_identity` maps an account key
bijectively onto that space, so names and domains never repeat inside a world (domain is the
fallback identity key downstream, so a duplicate would be a false match).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from integrations.sandbox.simulation.ids import IdFactory

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "cr",
           "dr", "fl", "gr", "kl", "pr", "st", "tr", "vr")
_VOWELS = ("a", "e", "i", "o", "u")
_ENDINGS = ("", "n", "x", "r", "s", "l", "m", "t")
_SYLLABLES = tuple(onset + vowel for onset in _ONSETS for vowel in _VOWELS)
_TWO_SYLLABLE_SPACE = len(_SYLLABLES) ** 2 * len(_ENDINGS)
_THREE_SYLLABLE_SPACE = len(_SYLLABLES) ** 3 * len(_ENDINGS)

INDUSTRIES: dict[str, tuple[str, ...]] = {
    "Software": ("Labs", "Software", "Systems", "Cloud"),
    "Financial Services": ("Capital", "Financial", "Pay", "Bank"),
    "Healthcare": ("Health", "Care", "Medical", "Clinics"),
    "Retail": ("Retail", "Stores", "Market", "Goods"),
    "Manufacturing": ("Industries", "Manufacturing", "Works", "Components"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport"),
    "Education": ("Learning", "Academy", "Education", "Schools"),
    "Media": ("Media", "Studios", "Publishing", "Network"),
    "Energy": ("Energy", "Power", "Renewables", "Utilities"),
    "Real Estate": ("Properties", "Realty", "Estates", "Homes"),
    "Hospitality": ("Hotels", "Hospitality", "Travel", "Resorts"),
    "Professional Services": ("Consulting", "Partners", "Group", "Advisors"),
}
_TLDS = (".com", ".com", ".com", ".com", ".io", ".co", ".ai", ".net")
COUNTRIES = (("US", 46), ("GB", 12), ("DE", 9), ("CA", 6), ("FR", 6), ("AU", 5), ("NL", 4),
             ("SE", 3), ("ES", 3), ("IN", 3), ("BR", 2), ("SG", 1))

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Ethan", "Harper", "Aiden", "Evelyn", "Oliver", "Abigail", "Leo",
    "Emily", "Daniel", "Ella", "Henry", "Chloe", "Samuel", "Grace", "Owen", "Nora", "Jack",
    "Priya", "Arjun", "Mei", "Hiroshi", "Fatima", "Omar", "Sofia", "Diego", "Ingrid", "Lars",
    "Chiara", "Marco", "Aisha", "Kwame", "Yuki", "Min-jun", "Elena", "Pavel", "Zoe", "Felix",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
    "Young", "Allen", "King", "Wright", "Patel", "Nguyen", "Kim", "Chen", "Sato", "Mueller",
    "Schmidt", "Rossi", "Silva", "Okafor", "Haddad", "Novak", "Johansson", "Dubois", "Kowalski",
    "Murphy", "O'Brien", "Singh", "Tanaka", "Fischer",
)
TITLES: dict[str, tuple[str, ...]] = {
    "decision_maker": ("VP of Operations", "Chief Operating Officer", "Head of Customer Success",
                       "VP of Engineering", "Chief Technology Officer", "Director of Operations"),
    "champion": ("Operations Manager", "Product Operations Lead", "Analytics Manager",
                 "Program Manager", "Team Lead, Operations"),
    "end_user": ("Analyst", "Operations Specialist", "Account Executive", "Support Specialist",
                 "Data Analyst", "Project Coordinator", "Engineer"),
    "procurement": ("Procurement Manager", "Finance Director", "Vendor Manager",
                    "Purchasing Lead"),
}


@dataclass(frozen=True)
class CompanyIdentity:
    """A company's display name, primary domain, billing domain and industry."""

    name: str
    domain: str
    billing_domain: str
    industry: str
    country: str


def _brand(index: int) -> str:
    syllables: list[str] = []
    index, ending = divmod(index, len(_ENDINGS))
    count = 2 if index < _TWO_SYLLABLE_SPACE // len(_ENDINGS) else 3
    if count == 3:
        index -= _TWO_SYLLABLE_SPACE // len(_ENDINGS)
    for _ in range(count):
        index, syllable = divmod(index, len(_SYLLABLES))
        syllables.append(_SYLLABLES[syllable])
    return "".join(syllables) + _ENDINGS[ending]


def company_identity(ids: IdFactory, key: int, rng: random.Random) -> CompanyIdentity:
    """The company of account `key`: unique brand and domain, random industry and country."""
    brand = _brand(ids.bijective("brand", key, _TWO_SYLLABLE_SPACE + _THREE_SYLLABLE_SPACE))
    industry = rng.choice(tuple(INDUSTRIES))
    name = f"{brand.capitalize()} {rng.choice(INDUSTRIES[industry])}"
    domain = brand + _TLDS[key % len(_TLDS)]
    billing_domain = domain
    if rng.random() < 0.12:
        billing_domain = rng.choice((f"{brand}hq.com", f"get{brand}.com", f"{brand}group.com"))
    country = rng.choices([c for c, _ in COUNTRIES], weights=[w for _, w in COUNTRIES])[0]
    return CompanyIdentity(name, domain, billing_domain, industry, country)


def person_name(rng: random.Random) -> tuple[str, str]:
    """A (first, last) name pair."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def email_local_part(first: str, last: str) -> str:
    """`first.last` in lower-case ASCII, as a corporate mailbox would spell it."""
    return f"{first}.{last}".lower().replace("'", "").replace(" ", "")
