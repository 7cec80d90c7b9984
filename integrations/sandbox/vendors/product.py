"""The product's own export API as the sandbox serves it (vendor prefix `/product`).

It is the simulated company's product, not a third party, so its wire format is ours to
define; it is built like common export APIs (bearer token, cursor paging, NDJSON files):
- GET `/v1/usage/partitions?since=<date>&cursor=&limit=` -> `{"partitions": [{"date",
  "path", "url", "events", "sha256", "updated_at"}], "next_cursor"}`: one partition per day
  with usage, oldest first (`limit` default 10, max 100). `sha256` is the digest of the
  NDJSON file, so a connector can verify a download and skip a file it already has; the
  listing renders the files it describes to compute it (cached for the downloads that
  follow), which is why pages are small: rendering is columnar (see `product_usage`),
  under a microsecond an event.
- GET `/v1/usage/partitions/{date}/events.ndjson` -> `application/x-ndjson`, one event per
  line (see `product_usage`); `?format=parquet` returns the same events as Parquet. An
  `ETag` carries the sha256.
- GET `/v1/survey-responses?updated_since=<ISO>&cursor=&limit=` -> `{"data": [...],
  "next_cursor", "has_more"}`: NPS and CES answers ordered by (update time, id),
  `limit` default 100, max 1000; `updated_since` is inclusive.
Auth: `Authorization: Bearer <product_token>`; otherwise 401 `{"error": "unauthorized",
"message": …}`. Rate limit 600 requests a minute per token with `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the window has fully reset,
an upper bound) on every answer; 429 with `Retry-After`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
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
from integrations.sandbox.vendors import product_usage as usage
from integrations.sandbox.vendors import register_vendor
from integrations.sandbox.vendors.zendesk_wire import (
    bearer_token,
    decode_token,
    encode_token,
    iso_utc,
    parse_iso,
    retry_after_header,
    secret_equals,
)

VENDOR = usage.VENDOR
SURVEY_RESPONSES = "survey_responses"
PARTITIONS_DEFAULT, PARTITIONS_MAX = 10, 100
RESPONSES_DEFAULT, RESPONSES_MAX = 100, 1000
NDJSON = "application/x-ndjson"
PARQUET = "application/vnd.apache.parquet"
ERROR_CODES = {400: "invalid_request", 404: "not_found", 500: "internal_error",
               502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout"}
FIXTURE_KINDS = (SURVEY_RESPONSES, usage.USERS)


def render_contact(contact: domain.Contact, sink: Sink) -> None:
    """CONTACT -> a product user on the account's roster (from creation until they leave),
    updated when they joined or, once they left, when they left."""
    user_id = usage.contact_user_id(contact["key"])
    body = {"user_id": user_id, "key": contact["key"],
            "account_key": contact["account_key"], "email": contact["email"],
            "role": contact["role"], "joined_at": contact["created_at"],
            "left_at": contact["left_at"]}
    sink.upsert(VendorObject(VENDOR, usage.USERS, user_id, contact["created_at"],
                             user_updated(body), body))


def user_updated(body: dict[str, Any]) -> float:
    """A roster user's update time: when they left, else when they joined."""
    return float(body["left_at"] if body.get("left_at") is not None else body["joined_at"])


def survey_body(response: domain.SurveyResponse) -> dict[str, Any]:
    """An NPS or CES answer as the survey export serves it."""
    return {
        "id": response["id"],
        "survey": response["survey"],
        "score": response["score"],
        "scale_min": response["scale_min"],
        "scale_max": response["scale_max"],
        "comment": response["comment"],
        "email": response["email"],
        "workspace_id": response["workspace_id"],
        "submitted_at": iso_utc(response["submitted_at"]),
        "updated_at": iso_utc(response["updated_at"]),
        "metadata": dict(response.get("extra", {})),
    }


def render_survey_response(response: domain.SurveyResponse, sink: Sink) -> None:
    """SURVEY_RESPONSE -> `survey_responses` object, indexed by the whole-second times its
    body states (so an exported world reloads with the same order and cursors)."""
    sink.upsert(VendorObject(VENDOR, SURVEY_RESPONSES, response["id"],
                             float(int(response["submitted_at"])),
                             float(int(response["updated_at"])), survey_body(response)))


register_renderer(domain.CONTACT, cast(Renderer, render_contact))
register_renderer(domain.SURVEY_RESPONSE, cast(Renderer, render_survey_response))


def _limit(request: Request, default: int, maximum: int) -> int:
    return request.int_arg("limit", default, minimum=1, maximum=maximum)


def _day_arg(request: Request, name: str) -> str | None:
    raw = request.arg(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD), got {raw!r}") from None


def _cursor(request: Request, prefix: str) -> str | None:
    """The position inside a `cursor` argument made by `_make_cursor` with this prefix."""
    token = request.arg("cursor")
    if not token:
        return None
    kind, sep, position = decode_token(token, code="invalid_cursor").partition(":")
    if kind != prefix or not sep:
        raise BadRequest("invalid cursor", code="invalid_cursor")
    return position


def _make_cursor(prefix: str, position: str) -> str:
    return encode_token(f"{prefix}:{position}")


@register_vendor
class Product(Vendor):
    """The simulated company's product: usage partitions and survey answers."""

    name = VENDOR
    default_rate_limit = RateLimit(600, 60.0)

    def __init__(self, secrets: Mapping[str, str]) -> None:
        super().__init__(secrets)
        self._partitions = usage.PartitionCache()

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/v1/usage/partitions", self._list_partitions, "usage.partitions"),
            Route("GET", r"/v1/usage/partitions/(?P<day>\d{4}-\d{2}-\d{2})/events\.ndjson",
                  self._partition_file, "usage.partition_file"),
            Route("GET", r"/v1/survey-responses", self._survey_responses,
                  "survey_responses.list"),
        ]

    def _list_partitions(self, request: Request) -> Response:
        limit = _limit(request, PARTITIONS_DEFAULT, PARTITIONS_MAX)
        after = _cursor(request, "day")
        days = usage.partition_days(request.world, since=_day_arg(request, "since"),
                                    after=after, limit=limit + 1)
        more, days = len(days) > limit, days[:limit]
        partitions = [self._partitions.get(request.world, day, fingerprint)
                      for day, fingerprint in days]
        return json_response({
            "partitions": [usage.partition_entry(p, request.base_url) for p in partitions],
            "next_cursor": _make_cursor("day", days[-1][0]) if more else None,
        })

    def _partition_file(self, request: Request) -> Response:
        day = request.params["day"]
        fingerprint = usage.day_fingerprint(request.world, day)
        if fingerprint is None:
            return self.error(404, f"no usage partition for {day}")
        file_format = request.arg("format", "ndjson")
        if file_format == "parquet":
            return Response(body=self._partitions.render(request.world, day).parquet(),
                            content_type=PARQUET)
        if file_format != "ndjson":
            raise BadRequest("format must be ndjson or parquet")
        partition = self._partitions.get(request.world, day, fingerprint)
        return Response(body=partition.ndjson, content_type=NDJSON,
                        headers={"ETag": f'"{partition.sha256}"'})

    def _survey_responses(self, request: Request) -> Response:
        limit = _limit(request, RESPONSES_DEFAULT, RESPONSES_MAX)
        position = _cursor(request, "resp")
        after: tuple[float, str] | None = None
        if position is not None:
            updated, _, response_id = position.partition("|")
            try:
                after = (float(updated), response_id)
            except ValueError:
                raise BadRequest("invalid cursor", code="invalid_cursor") from None
        since_raw = request.arg("updated_since")
        since = parse_iso(since_raw, name="updated_since") if since_raw else None
        rows = request.world.scan(VENDOR, SURVEY_RESPONSES, order="updated", after=after,
                                  since=since, limit=limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
        next_cursor = _make_cursor("resp", f"{rows[-1][0]!r}|{rows[-1][1]}") if more else None
        return json_response({"data": [body for _, _, body in rows],
                              "next_cursor": next_cursor, "has_more": more})

    # -- auth, limits, errors ---------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        if secret_equals(bearer_token(request), self.secrets["product_token"]):
            return None
        return json_response({"error": "unauthorized",
                              "message": "missing or invalid bearer token"}, status=401)

    def rate_limited(self, retry_after: float, limit: RateLimit) -> Response:
        headers = {"Retry-After": retry_after_header(retry_after),
                   "X-RateLimit-Limit": str(limit.limit), "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": retry_after_header(retry_after)}
        return json_response({"error": "rate_limited",
                              "message": f"more than {limit.limit} requests in "
                                         f"{limit.window:g} seconds"},
                             status=429, headers=headers)

    def rate_limit_headers(self, limit: RateLimit, remaining: int) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(limit.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(math.ceil(limit.window))}

    def error(self, status: int, message: str, code: str = "error") -> Response:
        if status == 401:
            return json_response({"error": "unauthorized", "message": message}, status=401)
        default = ERROR_CODES.get(status, "internal_error")
        named = code if status == 400 and code.startswith("invalid_") else default
        return json_response({"error": named, "message": message}, status=status)

    def records(self, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict):
            return []
        return [record for key in ("data", "partitions") if isinstance(body.get(key), list)
                for record in body[key] if isinstance(record, dict)]

    def load_fixture(self, kind: str, body: dict[str, Any], sink: Sink) -> None:
        """Survey responses as served, or roster users (`user_id`, `account_key`, `email`,
        `role`, `joined_at`/`left_at` in POSIX seconds)."""
        if kind not in FIXTURE_KINDS:
            raise ValueError(f"product fixtures hold {', '.join(FIXTURE_KINDS)}; not {kind!r}")
        if kind == SURVEY_RESPONSES:
            created, updated = (_fixture_time(body, "submitted_at"),
                                _fixture_time(body, "updated_at"))
            object_id = _fixture_field(body, "id")
        else:
            for required in ("account_key", "role", "key"):
                _fixture_field(body, required)
            created, updated = float(_fixture_field(body, "joined_at")), user_updated(body)
            object_id = _fixture_field(body, "user_id")
        sink.upsert(VendorObject(VENDOR, kind, str(object_id), created, updated, body))


def _fixture_field(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        raise ValueError(f"product fixture object lacks {name!r}")
    return body[name]


def _fixture_time(body: dict[str, Any], name: str) -> float:
    try:
        return parse_iso(str(_fixture_field(body, name)), name=name)
    except BadRequest as exc:
        raise ValueError(exc.message) from None

