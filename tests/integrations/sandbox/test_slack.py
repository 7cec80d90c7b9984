"""The sandbox's Slack: Web API methods, webhooks, auth, per-channel limits, recorded messages.

Responses are validated against the success schemas of Slack's published OpenAPI spec (with
extra fields allowed, see the vendor-specs README), and the official `slack_sdk` client is
used as a connector would use it, including its rate-limit retry handler.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import DividerBlock, HeaderBlock, SectionBlock
from slack_sdk.webhook import WebhookClient

from integrations.sandbox import domain
from integrations.sandbox.credentials import DEFAULT_SECRETS
from integrations.sandbox.routing import RateLimit
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import Sink, WorldReader, WorldWriter, connect
from integrations.sandbox.vendors.slack import Slack
from integrations.sandbox.vendors.slack_render import SEEDED_CHANNELS, channel_id, dm_id
from tests.vendor_specs import VENDOR_SPECS

SPECS = VENDOR_SPECS / "slack"
TOKEN = DEFAULT_SECRETS["slack_bot_token"]
WEBHOOK_PATH = DEFAULT_SECRETS["slack_webhook_path"]
FAST = {"slack": RateLimit(1000, 1.0)}
T0 = 1_709_251_200.0


def make_csm(key: int, team: str = "smb") -> domain.Csm:
    return {"key": key, "first_name": "Grace", "last_name": f"Hopper{key}",
            "email": f"grace{key}@vendor.example", "team": team,  # type: ignore[typeddict-item]
            "created_at": T0 + key, "hubspot_owner_id": str(52_550_000 + key),
            "salesforce_user_id": f"005{key:015d}", "slack_user_id": f"U0CSM{key:05d}",
            "zendesk_agent_id": 800_000 + key}


@pytest.fixture()
def world_path(tmp_path: Path) -> Path:
    path = tmp_path / "world.sqlite"
    writer = WorldWriter(path)
    for key, team in ((1, "enterprise"), (2, "smb"), (3, "lead")):
        writer.put(domain.CSM, dict(make_csm(key, team)))
    writer.close()
    return path


@pytest.fixture()
def server(world_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(world_path, rate_limits=FAST) as running:
        yield running


def client(server: SandboxServer, token: str = TOKEN) -> WebClient:
    return WebClient(token=token, base_url=server.url("slack") + "/api/", timeout=10)


# -- spec validation ------------------------------------------------------------------------

def _relaxed(schema: Any) -> Any:
    """The spec's schema with extra fields allowed and `items: [..]` read as anyOf.

    Slack's spec forbids fields real responses carry, and writes "one of these" as a list
    under `items` (tuple validation, which ignores non-arrays and so would check nothing).
    """
    if isinstance(schema, list):
        return [_relaxed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    relaxed = {key: _relaxed(value) for key, value in schema.items()}
    if relaxed.get("additionalProperties") is False:
        relaxed["additionalProperties"] = True
    if isinstance(relaxed.get("items"), list) and relaxed.get("type") != "array":
        relaxed["anyOf"] = relaxed.pop("items")
    return relaxed


@pytest.fixture(scope="module")
def slack_spec() -> dict[str, Any]:
    return json.loads((SPECS / "slack_web_openapi_v2.json").read_text())


def assert_matches_spec(spec: dict[str, Any], method: str, body: dict[str, Any]) -> None:
    operations = spec["paths"][f"/{method}"]
    operation = operations.get("post") or operations["get"]
    schema = copy.deepcopy(operation["responses"]["200"]["schema"])
    schema = {**_relaxed(schema), "definitions": _relaxed(spec["definitions"])}
    jsonschema.Draft4Validator(schema).validate(body)


def test_responses_match_slacks_published_success_schemas(server: SandboxServer,
                                                          slack_spec: dict[str, Any]) -> None:
    slack = client(server)
    posted = slack.chat_postMessage(channel="#cs-leads", text="hello",
                                    attachments=[{"fallback": "f", "text": "t"}])
    found = slack.users_lookupByEmail(email="grace1@vendor.example")
    opened = slack.conversations_open(users="U0CSM00001")
    listed = slack.conversations_list(types="public_channel,im")
    tested = slack.auth_test()
    for method, response in (("chat.postMessage", posted), ("users.lookupByEmail", found),
                             ("conversations.open", opened), ("conversations.list", listed),
                             ("auth.test", tested)):
        assert_matches_spec(slack_spec, method, response.data)  # type: ignore[arg-type]
    assert posted["message"]["attachments"][0]["id"] == 1
    assert {c["id"] for c in listed["channels"]} >= {dm_id("U0CSM00001")}
    broken = copy.deepcopy(posted.data)
    broken["ts"] = "yesterday"  # type: ignore[index]
    with pytest.raises(jsonschema.ValidationError):
        assert_matches_spec(slack_spec, "chat.postMessage", broken)  # type: ignore[arg-type]


# -- chat.postMessage -----------------------------------------------------------------------

def test_post_message_records_block_kit_and_gives_increasing_ts(server: SandboxServer) -> None:
    slack = client(server)
    blocks = [HeaderBlock(text="Health dropped: Acme"), DividerBlock(),
              SectionBlock(text="*Score* 54 (was 71)", block_id="score")]
    answers = [slack.chat_postMessage(channel=channel_id("cs-smb"), text="Acme at risk",
                                      blocks=blocks, unfurl_links=False) for _ in range(5)]
    stamps = [answer["ts"] for answer in answers]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    reply = slack.chat_postMessage(channel="cs-smb", text="detail", thread_ts=stamps[0])
    assert reply["message"]["thread_ts"] == stamps[0]
    messages = requests.get(server.url("slack") + "/api/_sandbox.messages",
                            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
    assert messages["ok"] is True and len(messages["messages"]) == 6
    first = messages["messages"][0]
    assert first["blocks"] == [block.to_dict() for block in blocks]
    assert (first["channel"], first["via"], first["unfurl_links"]) == (
        channel_id("cs-smb"), "api", False)
    assert "token" not in first
    pushed = WorldReader(server.world.path).pushed("slack", "message")
    assert pushed[0]["key"] == f"{channel_id('cs-smb')}:{stamps[0]}"


def test_post_message_to_a_user_goes_to_their_stable_dm(server: SandboxServer) -> None:
    slack = client(server)
    opened = slack.conversations_open(users="U0CSM00002")
    again = slack.conversations_open(users="U0CSM00002")
    assert opened["channel"]["id"] == again["channel"]["id"] == dm_id("U0CSM00002")
    assert "already_open" not in opened.data and again["already_open"] is True  # type: ignore[operator]
    posted = slack.chat_postMessage(channel="U0CSM00002", text="your digest")
    by_dm = slack.chat_postMessage(channel=dm_id("U0CSM00002"), text="second")
    assert posted["channel"] == by_dm["channel"] == dm_id("U0CSM00002")
    group = slack.conversations_open(users="U0CSM00001,U0CSM00002")
    assert group["channel"]["id"].startswith("G")


@pytest.mark.parametrize(("arguments", "error"), [
    ({"channel": "C0NOSUCHCHAN", "text": "x"}, "channel_not_found"),
    ({"channel": "U0NOBODY00", "text": "x"}, "channel_not_found"),
    ({"channel": "#cs-leads"}, "no_text"),
    ({"channel": "#cs-leads", "text": "x" * 40_001}, "msg_too_long"),
    ({"channel": "#cs-leads", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
    ({"channel": "#cs-leads", "blocks": [{"text": "no type"}]}, "invalid_blocks"),
    ({"channel": "#cs-leads", "blocks": [{"type": "header", "text": {"type": "mrkdwn",
                                                                     "text": "*x*"}}]},
     "invalid_blocks"),
    ({"channel": "#cs-leads", "blocks": "[not json"}, "invalid_blocks_format"),
    ({"channel": "#cs-leads", "text": "x", "thread_ts": "soon"}, "invalid_thread_ts"),
])
def test_post_message_errors_are_slacks(server: SandboxServer, arguments: dict[str, Any],
                                        error: str) -> None:
    answer = requests.post(server.url("slack") + "/api/chat.postMessage", json=arguments,
                           headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["ok"] is False and answer.json()["error"] == error
    if error == "invalid_blocks":
        assert answer.json()["errors"]
    assert server.world.pushed("slack", "message") == []


def test_form_encoded_post_with_token_argument(server: SandboxServer) -> None:
    blocks = json.dumps([{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}])
    answer = requests.post(server.url("slack") + "/api/chat.postMessage",
                           data={"token": TOKEN, "channel": "#data-quality", "blocks": blocks},
                           timeout=10).json()
    assert answer["ok"] is True and answer["channel"] == channel_id("data-quality")
    assert answer["message"]["blocks"][0]["type"] == "section"


# -- auth, lookups, listing -----------------------------------------------------------------

def test_auth_failures_answer_http_200_ok_false(server: SandboxServer) -> None:
    url = server.url("slack") + "/api/auth.test"
    missing = requests.post(url, timeout=10)
    wrong = requests.post(url, headers={"Authorization": "Bearer xoxb-wrong"}, timeout=10)
    in_json = requests.post(url, json={"token": TOKEN}, timeout=10)
    assert [r.status_code for r in (missing, wrong, in_json)] == [200, 200, 200]
    assert missing.json() == {"ok": False, "error": "not_authed"}
    assert wrong.json() == {"ok": False, "error": "invalid_auth"}
    assert in_json.json()["error"] == "not_authed"
    with pytest.raises(SlackApiError) as raised:
        client(server, token="xoxb-nope").auth_test()
    assert raised.value.response["error"] == "invalid_auth"
    assert "xoxb-nope" not in json.dumps(raised.value.response.data)


def test_lookup_by_email_and_unknown_method(server: SandboxServer) -> None:
    slack = client(server)
    user = slack.users_lookupByEmail(email="GRACE3@vendor.example")["user"]
    assert (user["id"], user["is_bot"], user["deleted"], user["is_admin"]) == (
        "U0CSM00003", False, False, True)
    assert user["profile"]["email"] == "grace3@vendor.example" and user["tz"]
    with pytest.raises(SlackApiError) as raised:
        slack.users_lookupByEmail(email="nobody@vendor.example")
    assert raised.value.response["error"] == "users_not_found"
    unknown = requests.post(server.url("slack") + "/api/chat.frobnicate",
                            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_method"


def test_conversations_list_pages_with_cursor(server: SandboxServer) -> None:
    slack = client(server)
    names: list[str] = []
    cursors: list[str] = []
    for page in slack.conversations_list(limit=4):
        names += [channel["name"] for channel in page["channels"]]
        cursors.append(page["response_metadata"]["next_cursor"])
    assert sorted(names) == sorted(SEEDED_CHANNELS)
    assert cursors[-1] == "" and all(cursors[:-1])
    bad = requests.get(server.url("slack") + "/api/conversations.list",
                       params={"cursor": "bm9wZQ=="},
                       headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
    assert bad == {"ok": False, "error": "invalid_cursor"}


# -- rate limits ----------------------------------------------------------------------------

def test_post_message_is_limited_per_channel_and_lookups_by_tier(world_path: Path) -> None:
    with SandboxServer(world_path) as server:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        url = server.url("slack") + "/api/chat.postMessage"
        first = requests.post(url, json={"channel": "#cs-smb", "text": "1"}, headers=headers,
                              timeout=10)
        second = requests.post(url, json={"channel": channel_id("cs-smb"), "text": "2"},
                               headers=headers, timeout=10)
        other = requests.post(url, json={"channel": "#cs-leads", "text": "3"},
                              headers=headers, timeout=10)
        lookups = [requests.get(server.url("slack") + "/api/users.lookupByEmail",
                                params={"email": "grace1@vendor.example"}, headers=headers,
                                timeout=10).json()["ok"] for _ in range(5)]
        retried = client(server)
        retried.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
        after_retry = retried.chat_postMessage(channel="#cs-smb", text="patient")
    assert first.json()["ok"] is True and other.json()["ok"] is True
    assert second.status_code == 429
    assert second.json() == {"ok": False, "error": "ratelimited"}
    assert second.headers["Retry-After"] == "1"
    assert lookups == [True] * 5
    fixture = json.loads((SPECS / "sdk-fixtures/web_response_ratelimited_only_once.json")
                         .read_text())
    assert fixture.items() <= after_retry.data.items()  # type: ignore[union-attr]
    assert len(server.world.pushed("slack", "message")) == 3


def test_tier_limits_scale_with_the_configured_rate() -> None:
    vendor = Slack(DEFAULT_SECRETS)
    request = _request("/api/users.lookupByEmail")
    assert vendor.rate_limit_for(request, RateLimit(1, 1.0)) == RateLimit(50, 60.0)
    assert vendor.rate_limit_for(request, RateLimit(10, 1.0)) == RateLimit(500, 60.0)
    post = _request("/api/chat.postMessage", b'{"channel":"U0CSM00001","text":"x"}')
    assert vendor.rate_limit_for(post, RateLimit(1, 1.0)) == RateLimit(1, 1.0)
    assert vendor.rate_limit_key(post) == f"chat.postMessage:{dm_id('U0CSM00001')}"


def _request(path: str, body: bytes = b"") -> Any:
    from email.message import Message

    from integrations.sandbox.routing import Request

    headers = Message()
    headers["Content-Type"] = "application/json"
    return Request("POST", path, {}, headers, body, None, "http://x/slack")  # type: ignore[arg-type]


# -- incoming webhooks ----------------------------------------------------------------------

def test_incoming_webhook_accepts_text_and_blocks(server: SandboxServer) -> None:
    hook = WebhookClient(f"{server.url('slack')}/services/{WEBHOOK_PATH}", timeout=10)
    sent = hook.send(text="Daily digest", blocks=[SectionBlock(text="3 accounts at risk")])
    assert (sent.status_code, sent.body) == (200, "ok")
    url = f"{server.url('slack')}/services/{WEBHOOK_PATH}"
    assert (requests.post(url, data="{oops", timeout=10).text, requests.post(
        url, json={}, timeout=10).text) == ("invalid_payload", "no_text")
    bad_blocks = requests.post(url, json={"blocks": [{"nope": 1}]}, timeout=10)
    assert (bad_blocks.status_code, bad_blocks.text) == (400, "invalid_blocks")
    wrong = requests.post(f"{server.url('slack')}/services/T0/B0/guess", json={"text": "x"},
                          timeout=10)
    assert (wrong.status_code, wrong.text) == (404, "no_service")
    assert wrong.headers["Content-Type"].startswith("text/plain")
    messages = client(server).api_call("_sandbox.messages", http_verb="GET")["messages"]
    assert [(m["via"], m["channel"], m["text"]) for m in messages] == [
        ("webhook", channel_id("cs-leads"), "Daily digest")]


# -- fixtures and drift hooks ---------------------------------------------------------------

def test_load_fixture_stores_sdk_channels_and_seeds_alert_channels(tmp_path: Path) -> None:
    conn = connect(tmp_path / "fixture.sqlite")
    vendor, sink = Slack(DEFAULT_SECRETS), Sink(conn)
    listed = json.loads((SPECS / "sdk-fixtures/web_response_conversations_list.json")
                        .read_text())
    for channel in listed["channels"]:
        vendor.load_fixture("channels", channel, sink)
    user = {"id": "U0FIXTURE1", "updated": 1_700_000_000, "profile": {"email": "f@x.example"}}
    vendor.load_fixture("users", user, sink)
    with pytest.raises(ValueError, match="updated"):
        vendor.load_fixture("users", {"id": "U0BROKEN01"}, sink)
    conn.close()
    world = WorldReader(tmp_path / "fixture.sqlite")
    stored = {body["id"] for body in world.iter_objects("slack", "channels")}
    assert {"C111", channel_id("cs-leads")} <= stored
    assert vendor.records({"channels": [{"id": "C1"}]}) == [{"id": "C1"}]
    assert vendor.records({"ok": True, "user": {"id": "U1"}}) == [{"id": "U1"}]


def test_every_generated_csm_is_a_slack_user(sandbox: SandboxServer) -> None:
    """On the generated small company: each CSM is found by email, and alerts can be routed
    to every seeded channel."""
    slack = WebClient(token=TOKEN, base_url=sandbox.url("slack") + "/api/", timeout=10)
    users = list(sandbox.world.iter_objects("slack", "users"))
    assert users
    for user in users[:5]:
        found = slack.users_lookupByEmail(email=user["profile"]["email"])["user"]
        assert found["id"] == user["id"]
    names = {c["name"] for c in slack.conversations_list(limit=100)["channels"]}
    assert names == set(SEEDED_CHANNELS)
