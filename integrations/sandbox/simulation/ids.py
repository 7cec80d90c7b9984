"""Vendor-style identifiers derived from (seed, kind, key): stable across runs, new per seed.

Two constructions, chosen by how much room the real id format leaves:
- long random-looking tokens (Stripe's `cus_…`, `sub_…`) are a keyed hash of the key; at 14+
  base-62 characters a collision is not a practical concern;
- short or numeric ids (HubSpot, Zendesk, Salesforce bodies, Slack user ids) are a bijection
  `(key * multiplier + offset) mod space`, so two keys can never share an id: the multiplier
  is coprime with the space, which makes the map one-to-one, and near `space / golden ratio`,
  which spreads consecutive keys over all digits instead of counting up in the last ones.
"""

from __future__ import annotations

import functools
import hashlib
import math
import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
BASE36_UPPER = string.digits + string.ascii_uppercase
_GOLDEN_FRACTION = (math.sqrt(5) - 1) / 2
_SALESFORCE_SUFFIX = string.ascii_uppercase + "012345"


def encode(number: int, alphabet: str, length: int) -> str:
    """`number` written in `alphabet`'s base, left-padded to exactly `length` characters."""
    base = len(alphabet)
    chars = []
    for _ in range(length):
        number, digit = divmod(number, base)
        chars.append(alphabet[digit])
    return "".join(reversed(chars))


@functools.cache
def multiplier(space: int) -> int:
    """The bijection's multiplier for `space`: coprime with it, near space × 0.618."""
    candidate = int(space * _GOLDEN_FRACTION)
    while math.gcd(candidate, space) != 1:
        candidate += 1
    return candidate


def salesforce_suffix(id15: str) -> str:
    """The 3-character case-safe suffix Salesforce appends to a 15-character id."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SALESFORCE_SUFFIX[bits]
    return suffix


class IdFactory:
    """Makes every id of one simulated world; the seed makes another world's ids differ."""

    def __init__(self, seed: int) -> None:
        self._seed = seed

    def _digest(self, kind: str, key: int, size: int) -> int:
        data = f"{self._seed}:{kind}:{key}".encode()
        return int.from_bytes(hashlib.blake2b(data, digest_size=size).digest(), "big")

    def bijective(self, kind: str, key: int, space: int) -> int:
        """A number in [0, space) unique to `key` among keys below `space`."""
        if not 0 <= key < space:
            raise ValueError(f"key {key} does not fit an id space of {space}")
        return (key * multiplier(space) + self._digest(kind, 0, 8)) % space

    def token(self, kind: str, key: int, length: int, alphabet: str = BASE62) -> str:
        """A random-looking token (hash of seed, kind and key), one hash byte per character."""
        data = f"{self._seed}:{kind}:{key}".encode()
        digest = hashlib.blake2b(data, digest_size=max(length, 1)).digest()
        size = len(alphabet)
        return "".join([alphabet[byte % size] for byte in digest[:length]])

    def stripe(self, prefix: str, key: int, length: int = 24) -> str:
        """A Stripe-style id such as `cus_NffrFeUfNV2Hib` (`length` characters after `_`)."""
        return f"{prefix}_{self.token(prefix, key, length)}"

    def number(self, kind: str, key: int, low: int, space: int) -> int:
        """A unique integer id in [low, low + space)."""
        return low + self.bijective(kind, key, space)

    def hubspot(self, kind: str, key: int) -> str:
        """A HubSpot object id: an 11-digit numeric string (owners: 8 digits)."""
        if kind == "owner":
            return str(self.number(kind, key, 10_000_000, 90_000_000))
        return str(self.number(kind, key, 10_000_000_000, 90_000_000_000))

    def zendesk(self, kind: str, key: int) -> int:
        """A Zendesk organization/user/rating id: a 12-digit integer; kinds never overlap."""
        low = {"organization": 360_000_000_000, "user": 370_000_000_000,
               "agent": 380_000_000_000, "rating": 390_000_000_000}[kind]
        return self.number(kind, key, low, 10_000_000_000)

    def salesforce(self, key_prefix: str, key: int) -> str:
        """An 18-character Salesforce id: object prefix, pod, body and case-safe suffix."""
        body = encode(self.bijective(f"sf{key_prefix}", key, 62 ** 8), BASE62, 8)
        id15 = f"{key_prefix}8d00{body}"
        return id15 + salesforce_suffix(id15)

    def slack_user(self, key: int) -> str:
        """A Slack user id such as `U04B7C9DXYZ`."""
        return "U0" + encode(self.bijective("slack", key, 36 ** 9), BASE36_UPPER, 9)

    def workspace(self, key: int) -> str:
        """The product's own account id, `ws_` and 12 lower-case characters."""
        alphabet = string.digits + string.ascii_lowercase
        return "ws_" + encode(self.bijective("workspace", key, 36 ** 12), alphabet, 12)

    def invoice_prefix(self, key: int) -> str:
        """A customer's invoice-number prefix, 8 upper-case hex characters like Stripe's."""
        return self.token("invoice_prefix", key, 8, "0123456789ABCDEF")

    def survey_response(self, key: int) -> str:
        """A survey tool's response id, `resp_` and 20 characters."""
        return "resp_" + self.token("resp", key, 20)
