"""Slack's Web API and incoming webhooks as the sandbox serves them (vendor prefix `/slack`).

Web API methods (under `/api/`; arguments in the query string, a form body, or a JSON body):
- POST `chat.postMessage`: `channel` (C…, a `#name`, D… or a U… user id, which posts to the
  DM), `text` and/or `blocks` (Block Kit, checked: see `slack_blocks`), `attachments`,
  `thread_ts`, `unfurl_links`…; answers `{"ok":true,"channel","ts","message"}` with a unique,
  increasing `ts`. Errors: `channel_not_found`, `no_text`, `msg_too_long` (> 40,000
  characters), `invalid_blocks` / `invalid_blocks_format`, `invalid_thread_ts`.
- GET/POST `users.lookupByEmail` -> `{"ok":true,"user":{…}}` or `users_not_found`.
- POST `conversations.open` (`users=U…[,U…]` or `channel=D…`) -> the same D id for the same
  user every time (`already_open` on repeats); several users get a group DM (G…).
- GET/POST `conversations.history` (`channel`, `oldest`, `latest`, `limit`,
  `include_all_metadata`): the conversation's messages, newest first, with the `metadata` a
  sender attached when asked; `has_more` when `limit` cut the page (page on with `latest`).
- GET/POST `auth.test`; GET/POST `conversations.list` (`types`, `exclude_archived`,
  `limit`, `cursor`; `response_metadata.next_cursor` is "" on the last page).
- GET/POST `_sandbox.messages` — **sandbox only, not a Slack method**: every message received
  (Web API and webhook), oldest first, optionally for one `channel`.
Incoming webhook: POST `/services/{T}/{B}/{secret}` with JSON (or form `payload=`) holding
`text` or `blocks` -> 200 `ok` (text/plain), posted to `#cs-leads`; an unknown path -> 404
`no_service`; a bad payload -> 400 `invalid_payload` / `no_text` / `invalid_blocks`.

Auth: `Authorization: Bearer <bot token>` or a `token` argument (not inside JSON bodies, as on
Slack). Failures answer HTTP 200 `{"ok":false,"error":"not_authed"|"invalid_auth"}`.
Rate limits: chat.postMessage and the webhook count per channel (the configured limit,
Slack's ≈1 message per second per channel); other methods per method and token at their
Slack tier, scaled by how far the configured limit departs from the default.
Every message received is recorded with `world.record_push("slack", "message", …)`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from integrations.sandbox import domain
from integrations.sandbox.routing import (
    BadRequest,
    RateLimit,
    Request,
    Response,
    Route,
    Vendor,
    json_response,
)
from integrations.sandbox.store import Renderer, Sink, VendorObject, register_renderer
from integrations.sandbox.vendors import register_vendor
from integrations.sandbox.vendors import slack_render as render
from integrations.sandbox.vendors.slack_blocks import (
    BlocksFormatError,
    block_errors,
    parse_blocks,
)
from integrations.sandbox.vendors.zendesk_wire import (
    bearer_token,
    decode_token,
    encode_token,
    retry_after_header,
    secret_equals,
)

VENDOR = render.VENDOR
MAX_TEXT = 40_000
MAX_GROUP_DM_USERS = 8
LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 100, 1000
WEBHOOK_CHANNEL = "cs-leads"
WEBHOOK_PREFIX = "/services/"
POST_MESSAGE = "chat.postMessage"
# Per-minute limits of Slack's tiers for the methods served (docs.slack.dev rate limits):
# users.lookupByEmail and conversations.open are Tier 3, conversations.list Tier 2,
# auth.test is "special" (well above Tier 4).
METHOD_TIERS_PER_MINUTE = {"users.lookupByEmail": 50, "conversations.open": 50,
                           "conversations.list": 20, "conversations.history": 50,
                           "auth.test": 100,
                           "_sandbox.messages": 100}
UNKNOWN_METHOD_PER_MINUTE = 20
THREAD_TS = re.compile(r"^\d{10}\.\d{6}$")
BAD_ARGUMENT_CODES = {"invalid_json": "invalid_json"}
SERVER_ERRORS = {500: "internal_error", 503: "service_unavailable"}
FIXTURE_KINDS = (render.USERS, render.CHANNELS)

register_renderer(domain.CSM, cast(Renderer, render.render_csm))


class _SlackError(Exception):
    """A Web API failure: Slack answers HTTP 200 with `{"ok": false, "error": code}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def _method(request: Request) -> str:
    return request.path.removeprefix("/api/")


def _args(request: Request) -> dict[str, Any]:
    """The call's arguments: query string, then a form or JSON body (Slack accepts all)."""
    args: dict[str, Any] = {name: values[0] for name, values in request.query.items() if values}
    content_type = (request.header("Content-Type") or "").lower()
    if not request.body:
        return args
    if content_type.startswith("application/json"):
        body = request.json()
        if not isinstance(body, dict):
            raise _SlackError("json_not_object")
        args.update(body)
    else:
        try:
            form = request.form()
        except ValueError:
            raise _SlackError("invalid_form_data") from None
        args.update({name: values[0] for name, values in form.items() if values})
    return args


def _token(request: Request) -> str | None:
    """The bot token from the Authorization header, or a `token` argument outside JSON."""
    header_token = bearer_token(request)
    if header_token:
        return header_token
    if request.arg("token"):
        return request.arg("token")
    if (request.header("Content-Type") or "").lower().startswith("application/json"):
        return None
    return next(iter(request.form().get("token", [])), None) if request.body else None


def _digest(text: str) -> str:
    """A short digest for rate-limit bucket names, so no token is held in memory twice."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _target_key(channel: str) -> str:
    """The conversation a `channel` argument names, without the store (for rate limiting)."""
    if channel[:1] in ("U", "W"):
        return render.dm_id(channel)
    if channel.startswith("#") or not re.fullmatch(r"[CDG][A-Z0-9]{8,}", channel):
        return render.channel_id(channel)
    return channel


class _Timestamps:
    """Unique, strictly increasing message timestamps (`1700000000.000100`), thread-safe."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(int(time.time() * 1_000_000), self._last + 1)
            seconds, micros = divmod(self._last, 1_000_000)
        return f"{seconds}.{micros:06d}"


def _attachments(raw: Any) -> list[dict[str, Any]] | None:
    """Legacy attachments (a JSON array, or a string holding one), numbered as Slack echoes
    them (`id` 1, 2, …)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _SlackError("invalid_attachments") from None
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise _SlackError("invalid_attachments")
    return [{**item, "id": number} for number, item in enumerate(raw, 1)] or None


def _content(payload: dict[str, Any],
             ) -> tuple[str, list[Any] | None, list[dict[str, Any]] | None]:
    """(text, blocks, attachments) of a message; raises _SlackError when Slack would refuse."""
    text = payload.get("text") or ""
    if not isinstance(text, str):
        raise _SlackError("invalid_arguments")
    try:
        blocks = parse_blocks(payload.get("blocks"))
    except BlocksFormatError:
        raise _SlackError("invalid_blocks_format") from None
    if blocks is not None and (errors := block_errors(blocks)):
        raise _SlackError("invalid_blocks", errors=errors)
    attachments = _attachments(payload.get("attachments") or None)
    if not text and not blocks and not attachments:
        raise _SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise _SlackError("msg_too_long")
    return text, blocks or None, attachments


@register_vendor
class Slack(Vendor):
    """The sandbox's Slack workspace."""

    name = VENDOR
    default_rate_limit = RateLimit(1, 1.0)

    def __init__(self, secrets: Mapping[str, str]) -> None:
        super().__init__(secrets)
        self._timestamps = _Timestamps()

    def routes(self) -> list[Route]:
        web = self._web_method
        return [
            Route("POST", r"/api/chat\.postMessage", web(self._post_message), POST_MESSAGE,
                  write=True),
            *(Route(method, r"/api/users\.lookupByEmail", web(self._lookup_by_email),
                    "users.lookupByEmail") for method in ("GET", "POST")),
            Route("POST", r"/api/conversations\.open", web(self._open), "conversations.open",
                  write=True),
            *(Route(method, r"/api/auth\.test", web(self._auth_test), "auth.test")
              for method in ("GET", "POST")),
            *(Route(method, r"/api/conversations\.list", web(self._list_conversations),
                    "conversations.list") for method in ("GET", "POST")),
            *(Route(method, r"/api/conversations\.history", web(self._history),
                    "conversations.history") for method in ("GET", "POST")),
            *(Route(method, r"/api/_sandbox\.messages", web(self._messages),
                    "_sandbox.messages") for method in ("GET", "POST")),
            Route("POST", r"/services/(?P<webhook>.+)", self._webhook, "webhook", write=True),
        ]

    @staticmethod
    def _web_method(handler: Callable[[Request, dict[str, Any]], dict[str, Any]],
                    ) -> Callable[[Request], Response]:
        """Wraps a method: parses arguments, turns _SlackError into HTTP 200 ok:false."""
        def answer(request: Request) -> Response:
            try:
                return json_response({"ok": True, **handler(request, _args(request))})
            except _SlackError as exc:
                return json_response({"ok": False, "error": exc.code, **exc.extra})
        return answer

    # -- Web API methods --------------------------------------------------------------------

    def _post_message(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(request, str(args.get("channel") or ""))
        text, blocks, attachments = _content(args)
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and not THREAD_TS.match(str(thread_ts)):
            raise _SlackError("invalid_thread_ts")
        ts = self._timestamps.next()
        message: dict[str, Any] = {"type": "message", "text": text, "ts": ts,
                                   "user": render.BOT_USER_ID, "bot_id": render.BOT_ID,
                                   "app_id": render.APP_ID, "team": render.TEAM_ID}
        optional = {"blocks": blocks, "attachments": attachments, "thread_ts": thread_ts}
        message.update({name: value for name, value in optional.items() if value is not None})
        recorded = {name: value for name, value in args.items() if name != "token"}
        self._record(request, channel, ts, {**recorded, **optional, "text": text}, "api")
        return {"channel": channel, "ts": ts, "message": message}

    def _resolve_channel(self, request: Request, channel: str) -> str:
        """The conversation id a `channel` argument names, or channel_not_found."""
        if not channel:
            raise _SlackError("channel_not_found")
        if channel[:1] in ("U", "W"):
            return self._open_conversation(request, [channel])[0]
        conversation = request.world.get(VENDOR, render.CHANNELS, _target_key(channel))
        if conversation is None:
            raise _SlackError("channel_not_found")
        return str(conversation["id"])

    def _record(self, request: Request, channel: str, ts: str, payload: dict[str, Any],
                via: str) -> None:
        body = {**payload, "channel": channel, "ts": ts, "via": via}
        request.world.record_push(VENDOR, "message", f"{channel}:{ts}", time.time(), body)

    def _lookup_by_email(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").strip().lower()
        if not email:
            raise _SlackError("invalid_arguments")
        for user in request.world.iter_objects(VENDOR, render.USERS):
            if str(user["profile"].get("email", "")).lower() == email:
                return {"user": user}
        raise _SlackError("users_not_found")

    def _open(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            conversation = request.world.get(VENDOR, render.CHANNELS, str(args["channel"]))
            if conversation is None:
                raise _SlackError("channel_not_found")
            return {"no_op": True, "already_open": True, "channel": {"id": conversation["id"]}}
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise _SlackError("users_list_not_supplied")
        if len(users) > MAX_GROUP_DM_USERS:
            raise _SlackError("too_many_users")
        conversation_id, created = self._open_conversation(request, users)
        channel: dict[str, Any] = {"id": conversation_id}
        if str(args.get("return_im")).lower() in ("true", "1"):
            channel = request.world.get(VENDOR, render.CHANNELS, conversation_id) or channel
        if created:
            return {"channel": channel}
        return {"no_op": True, "already_open": True, "channel": channel}

    def _open_conversation(self, request: Request, users: list[str]) -> tuple[str, bool]:
        """The DM (one user) or group DM with `users`, created when new: (id, created now)."""
        for user in users:
            if request.world.get(VENDOR, render.USERS, user) is None:
                raise _SlackError("user_not_found" if len(users) > 1 else "channel_not_found")
        single = len(users) == 1
        conversation_id = render.dm_id(users[0]) if single else render.mpim_id(users)
        if request.world.get(VENDOR, render.CHANNELS, conversation_id) is not None:
            return conversation_id, False
        now = float(int(time.time()))
        body: dict[str, Any] = {"id": conversation_id, "created": int(now), "is_im": single,
                                "is_mpim": not single, "is_channel": False, "is_group": False,
                                "is_private": True, "is_org_shared": False, "is_open": True,
                                "priority": 0, "members": [render.BOT_USER_ID, *users]}
        if single:
            body["user"] = users[0]
        request.world.write_object(VendorObject(VENDOR, render.CHANNELS, conversation_id, now,
                                                now, body))
        return conversation_id, True

    def _auth_test(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": render.TEAM_URL, "team": render.TEAM_NAME, "user": render.BOT_NAME,
                "team_id": render.TEAM_ID, "user_id": render.BOT_USER_ID,
                "bot_id": render.BOT_ID, "is_enterprise_install": False}

    def _list_conversations(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        """One page of conversations; like Slack, a page may hold fewer than `limit` after
        type filtering, and `next_cursor` is "" only when nothing is left."""
        try:
            limit = int(args.get("limit") or LIST_LIMIT_DEFAULT)
        except ValueError:
            raise _SlackError("invalid_limit") from None
        if not 1 <= limit <= LIST_LIMIT_MAX:
            raise _SlackError("invalid_limit")
        types = set(str(args.get("types") or "public_channel").split(","))
        exclude_archived = str(args.get("exclude_archived")).lower() in ("true", "1")
        after = self._cursor_position(str(args.get("cursor") or ""))
        rows = request.world.scan(VENDOR, render.CHANNELS, order="created", after=after,
                                  limit=limit + 1)
        page, more = rows[:limit], len(rows) > limit
        channels = [body for _, _, body in page if _conversation_type(body) in types
                    and not (exclude_archived and body.get("is_archived"))]
        next_cursor = (encode_token(f"channel:{page[-1][0]!r}:{page[-1][1]}")
                       if more and page else "")
        return {"channels": channels, "response_metadata": {"next_cursor": next_cursor}}

    def _history(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: what was posted to one conversation, newest first."""
        channel = self._resolve_channel(request, str(args.get("channel") or ""))
        try:
            limit = int(args.get("limit") or LIST_LIMIT_DEFAULT)
            oldest = float(args.get("oldest") or 0)
            latest = float(args.get("latest") or "inf")
        except ValueError:
            raise _SlackError("invalid_arguments") from None
        with_metadata = str(args.get("include_all_metadata")).lower() in ("true", "1")
        posted = [push["body"] for push in request.world.pushed(VENDOR, "message")
                  if push["body"].get("channel") == channel
                  and oldest <= float(push["body"]["ts"]) < latest]
        posted.sort(key=lambda body: float(body["ts"]), reverse=True)
        messages = []
        for body in posted[:limit]:
            message = {"type": "message", "user": render.BOT_USER_ID, "bot_id": render.BOT_ID,
                       "text": body.get("text", ""), "ts": body["ts"]}
            if body.get("blocks"):
                message["blocks"] = body["blocks"]
            if with_metadata and isinstance(body.get("metadata"), dict):
                message["metadata"] = body["metadata"]
            messages.append(message)
        return {"messages": messages, "has_more": len(posted) > limit,
                "pin_count": 0, "response_metadata": {"next_cursor": ""}}

    @staticmethod
    def _cursor_position(cursor: str) -> tuple[float, str] | None:
        if not cursor:
            return None
        try:
            kind, created, conversation_id = decode_token(cursor, code="invalid_cursor").split(
                ":", 2)
            if kind != "channel":
                raise ValueError(kind)
            return float(created), conversation_id
        except (BadRequest, ValueError):
            raise _SlackError("invalid_cursor") from None

    def _messages(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        messages = [{**push["body"], "received_at": push["received_at"], "seq": push["seq"]}
                    for push in request.world.pushed(VENDOR, "message")
                    if channel is None or push["body"].get("channel") == channel]
        return {"messages": messages}

    # -- incoming webhook -------------------------------------------------------------------

    def _webhook(self, request: Request) -> Response:
        if not secret_equals(request.params["webhook"], self.secrets["slack_webhook_path"]):
            return _plain(404, "no_service")
        payload = self._webhook_payload(request)
        if payload is None:
            return _plain(400, "invalid_payload")
        try:
            text, blocks, attachments = _content(payload)
        except _SlackError as exc:
            code = "invalid_blocks" if exc.code == "invalid_blocks_format" else exc.code
            return _plain(400, code)
        channel = render.channel_id(WEBHOOK_CHANNEL)
        optional = {"blocks": blocks, "attachments": attachments}
        self._record(request, channel, self._timestamps.next(),
                     {**payload, **optional, "text": text}, "webhook")
        return _plain(200, "ok")

    @staticmethod
    def _webhook_payload(request: Request) -> dict[str, Any] | None:
        """The JSON payload of a webhook call (a JSON body, or a form's `payload` field)."""
        raw: bytes | str = request.body
        if not (request.header("Content-Type") or "").lower().startswith("application/json"):
            raw = next(iter(request.form().get("payload", [])), "")
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    # -- auth, limits, errors ---------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        if request.path.startswith(WEBHOOK_PREFIX):
            return None                 # a webhook's secret is its path, checked by the route
        try:
            token = _token(request)
        except ValueError:          # a body that is not form data carries no token
            token = None
        if token is None:
            return json_response({"ok": False, "error": "not_authed"})
        if not secret_equals(token, self.secrets["slack_bot_token"]):
            return json_response({"ok": False, "error": "invalid_auth"})
        return None

    def rate_limit_key(self, request: Request) -> str:
        if request.path.startswith(WEBHOOK_PREFIX):
            return "webhook:" + _digest(request.path)
        method = _method(request)
        if method == POST_MESSAGE:
            try:
                channel = str(_args(request).get("channel") or "")
            except (_SlackError, BadRequest, ValueError):
                channel = ""
            return f"{POST_MESSAGE}:{_target_key(channel) if channel else ''}"
        try:
            token = _token(request) or ""
        except ValueError:
            token = ""
        return f"{method}:{_digest(token)}"

    def rate_limit_for(self, request: Request, configured: RateLimit) -> RateLimit:
        """postMessage/webhook: the configured per-channel rate; others: their Slack tier.

        Tier limits scale by configured ÷ default rate, so a test that speeds Slack up (or
        slows it down) moves every method in proportion.
        """
        if request.path.startswith(WEBHOOK_PREFIX) or _method(request) == POST_MESSAGE:
            return configured
        per_minute = METHOD_TIERS_PER_MINUTE.get(_method(request), UNKNOWN_METHOD_PER_MINUTE)
        default = self.default_rate_limit
        scale = (configured.limit / configured.window) / (default.limit / default.window)
        return RateLimit(max(1, round(per_minute * scale)), 60.0)

    def rate_limited(self, retry_after: float, limit: RateLimit) -> Response:
        return json_response({"ok": False, "error": "ratelimited"}, status=429,
                             headers={"Retry-After": retry_after_header(retry_after)})

    def error(self, status: int, message: str, code: str = "error") -> Response:
        if status == 404:
            return json_response({"ok": False, "error": "unknown_method"}, status=404)
        if status < 500:
            return json_response({"ok": False,
                                  "error": BAD_ARGUMENT_CODES.get(code, "invalid_arguments")})
        return json_response({"ok": False, "error": SERVER_ERRORS.get(status, "fatal_error")},
                             status=status)

    def records(self, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict):
            return []
        for key in ("channels", "messages", "members"):
            if isinstance(body.get(key), list):
                return [item for item in body[key] if isinstance(item, dict)]
        return [body[key] for key in ("user", "message") if isinstance(body.get(key), dict)]

    def load_fixture(self, kind: str, body: dict[str, Any], sink: Sink) -> None:
        """Users (`users.list` members) and channels (`conversations.list` channels).

        Loading users also seeds the alert channels, as rendering CSMs does.
        """
        if kind not in FIXTURE_KINDS:
            raise ValueError(f"slack fixtures hold {', '.join(FIXTURE_KINDS)}; not {kind!r}")
        if "id" not in body:
            raise ValueError("slack fixture object lacks 'id'")
        stamp_field = "updated" if kind == render.USERS else "created"
        if not isinstance(body.get(stamp_field), int | float):
            raise ValueError(f"slack fixture object lacks {stamp_field!r}")
        stamp = float(body[stamp_field])
        sink.upsert(VendorObject(VENDOR, kind, str(body["id"]), stamp, stamp, body,
                                 deleted=bool(body.get("deleted"))))
        if kind == render.USERS:
            render.seed_channels(sink, stamp, str(body["id"]))


def _conversation_type(body: dict[str, Any]) -> str:
    if body.get("is_im"):
        return "im"
    if body.get("is_mpim"):
        return "mpim"
    return "private_channel" if body.get("is_private") else "public_channel"


def _plain(status: int, text: str) -> Response:
    """Webhooks answer in plain text, not JSON."""
    return Response(status=status, body=text, content_type="text/plain; charset=utf-8")
