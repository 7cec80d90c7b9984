"""Slack workspace objects of the sandbox: CSMs as Slack users, the seeded channels, DM ids.

Channels are seeded by the CSM renderer (the first CSM written creates them, later ones find
them present), so a world that has CSMs always has the channels alerts are routed to: one per
segment plus `cs-leads`, `sales-expansion` and `data-quality`. A fixture world gets them from
its users fixture through `seed_channels` as well. Conversation ids are derived from names
and user ids by hashing, so they are stable across runs and computable without the store
(the rate limiter keys postMessage by channel before any handler runs).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from integrations.sandbox import domain
from integrations.sandbox.store import Sink, VendorObject

VENDOR = "slack"
USERS = "users"
CHANNELS = "channels"              # public channels, and the DMs/MPIMs conversations.open makes
TEAM_ID = "T0SANDBOX"
TEAM_NAME = "CSP Sandbox"
TEAM_URL = "https://csp-sandbox.slack.com/"
BOT_USER_ID = "U0SANDB0T"
BOT_ID = "B0SANDB0T1"
APP_ID = "A0SANDB0X1"
BOT_NAME = "csp-alerts"
SEGMENT_CHANNELS = {"enterprise": "cs-enterprise", "mid_market": "cs-mid-market",
                    "smb": "cs-smb"}
SEEDED_CHANNELS: dict[str, str] = {
    "cs-enterprise": "Health alerts for enterprise accounts",
    "cs-mid-market": "Health alerts for mid-market accounts",
    "cs-smb": "Health alerts for SMB accounts",
    "cs-leads": "Digests and escalations for CS leadership",
    "sales-expansion": "CS-sourced expansion leads for sales",
    "data-quality": "Data-quality gate results that held alerts back",
}
TIME_ZONES = (("America/New_York", "Eastern Standard Time", -18_000),
              ("Europe/London", "Greenwich Mean Time", 0),
              ("America/Los_Angeles", "Pacific Standard Time", -28_800))
TEAM_TITLES = {"enterprise": "Enterprise CSM", "mid_market": "Mid-Market CSM",
               "smb": "Scaled CSM", "onboarding": "Onboarding Manager", "lead": "Head of CS"}


def _hashed_id(prefix: str, seed: str) -> str:
    """A Slack-looking id: prefix + 10 upper-case base32 characters of a hash of `seed`."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return prefix + base64.b32encode(digest).decode("ascii")[:10]


def channel_id(name: str) -> str:
    """The id of the public channel called `name` (C…)."""
    return _hashed_id("C", f"channel:{name.lstrip('#')}")


def dm_id(user_id: str) -> str:
    """The id of the bot's direct-message conversation with `user_id` (D…), always the same."""
    return _hashed_id("D", f"im:{user_id}")


def mpim_id(user_ids: list[str]) -> str:
    """The id of the bot's group DM with these users (G…), independent of their order."""
    return _hashed_id("G", "mpim:" + ",".join(sorted(user_ids)))


def user_body(csm: domain.Csm) -> dict[str, Any]:
    """A CSM as Slack's user object (`users.lookupByEmail`, `users.info`)."""
    real_name = f"{csm['first_name']} {csm['last_name']}"
    display = f"{csm['first_name'].lower()}.{csm['last_name'].lower()}"
    avatar = hashlib.md5(csm["email"].lower().encode("utf-8"), usedforsecurity=False).hexdigest()
    tz, tz_label, tz_offset = TIME_ZONES[csm["key"] % len(TIME_ZONES)]
    image = f"https://secure.gravatar.com/avatar/{avatar}.jpg?s="
    return {
        "id": csm["slack_user_id"],
        "team_id": TEAM_ID,
        "name": display,
        "deleted": False,
        "color": avatar[:6],
        "real_name": real_name,
        "tz": tz,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "profile": {
            "title": TEAM_TITLES[csm["team"]],
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display,
            "display_name_normalized": display,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": avatar[:12],
            "email": csm["email"],
            "first_name": csm["first_name"],
            "last_name": csm["last_name"],
            "image_24": image + "24",
            "image_48": image + "48",
            "image_72": image + "72",
            "team": TEAM_ID,
        },
        "is_admin": csm["team"] == "lead",
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": int(csm["created_at"]),
        "is_email_confirmed": True,
    }


def channel_body(name: str, purpose: str, created: float, creator: str) -> dict[str, Any]:
    """A public channel as `conversations.list` returns it."""
    return {
        "id": channel_id(name),
        "name": name,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": False,
        "created": int(created),
        "creator": creator,
        "is_archived": False,
        "is_general": False,
        "unlinked": 0,
        "name_normalized": name,
        "is_shared": False,
        "is_org_shared": False,
        "is_ext_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "shared_team_ids": [TEAM_ID],
        "context_team_id": TEAM_ID,
        "parent_conversation": None,
        "is_member": True,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": purpose, "creator": creator, "last_set": int(created)},
        "previous_names": [],
    }


def seed_channels(sink: Sink, created: float, creator: str) -> None:
    """Create the seeded channels that do not exist yet (idempotent)."""
    for name, purpose in SEEDED_CHANNELS.items():
        if sink.previous(VENDOR, CHANNELS, channel_id(name)) is None:
            body = channel_body(name, purpose, created, creator)
            stamp = float(body["created"])
            sink.upsert(VendorObject(VENDOR, CHANNELS, body["id"], stamp, stamp, body))


def render_csm(csm: domain.Csm, sink: Sink) -> None:
    """CSM -> Slack user; the first CSM also seeds the workspace's channels."""
    body = user_body(csm)
    stamp = float(body["updated"])     # whole seconds, as the body states it
    sink.upsert(VendorObject(VENDOR, USERS, body["id"], stamp, stamp, body))
    seed_channels(sink, stamp, body["id"])
