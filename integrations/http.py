"""The one HTTP session every connector uses: timeouts, bounded retries, limits, safe writes.

`create_session(vendor, ...)` returns a `VendorSession`, a `requests.Session` whose `send`
wraps each call in the policy of DESIGN.md §7:

- every call has a (connect, read) timeout, even when the caller passes none;
- 429, 500, 502, 503, 504, connection errors, timeouts and truncated bodies (and a JSON
  response that does not parse) are retried with exponential backoff and jitter, up to a
  bounded number of attempts; then `RetriesExhaustedError` names the vendor, method, path and
  last status — never the query string (it may carry a token) and never a header;
- `Retry-After` (seconds or an HTTP-date) is honoured, capped at `RetryPolicy.retry_after_max`;
  a 429 also holds back every other thread sharing the vendor's limiter;
- a client-side `ClientRateLimiter` keeps the vendor under its configured rate;
- writes (POST, PATCH) are resent only when that cannot apply them twice: after a 429 or when
  the connection was never made. After an ambiguous failure (the request went out, then the
  connection dropped, the read timed out, or a 5xx came back) they raise
  `AmbiguousWriteError`, unless the caller marks the call idempotent (`idempotent=True`, or
  an `Idempotency-Key` header, which the vendor uses to deduplicate);
- `stats` counts requests sent, retries (by reason), rate-limit waits and time waited.

Why plain `requests` and not dlt's `dlt.sources.helpers.requests.Client`: that client wraps
`Session.send` in a tenacity loop whose backoff has no jitter, which retries every method on a
dropped connection or read timeout (a blind POST resend), and which has no client-side limiter
and no counters; on exhaustion it re-raises the raw `requests` exception, whose message holds
the full URL with its query string. Each gap would need a patch over its internals. A
`requests.Session` subclass is small, and it is still what dlt's `RESTClient(session=...)`
accepts: that client calls `session.send`, so its paginators get all of the above.
"""

from __future__ import annotations

import contextvars
import email.utils
import json
import logging
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from integrations.ratelimit import ClientRateLimiter, RateLimit

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 60.0)          # (connect, read) seconds
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A status that says "not processed": resending cannot apply a write twice.
NOT_PROCESSED_STATUSES = frozenset({429})
RETRY_EXCEPTIONS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError)
NOT_RETRIED_EXCEPTIONS = (requests.exceptions.SSLError,)   # a bad certificate stays bad
USER_AGENT = "customer-success-pipelines"



class _RedactUrls(logging.Filter):
    """Masks what urllib3's debug lines ("POST /v1/x?api_key=... HTTP/1.1") would reveal: query
    strings (they may carry a token) and paths that are secrets themselves (a Slack incoming
    webhook), which sessions made with `secret_path=True` register here. DEBUG logging is one
    setting away in any deployment; this costs nothing while it is off."""

    _QUERY = re.compile(r"\?[^\s\"']*")

    def __init__(self) -> None:
        super().__init__()
        self._secret_paths: set[str] = set()
        self._lock = threading.Lock()

    def hide(self, path: str) -> None:
        with self._lock:
            self._secret_paths.add(path)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._QUERY.sub("?***", message) if "?" in message else message
        with self._lock:
            secret_paths = tuple(self._secret_paths)
        for path in secret_paths:
            redacted = redacted.replace(path, "/***")
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_URL_REDACTOR = _RedactUrls()
logging.getLogger("urllib3.connectionpool").addFilter(_URL_REDACTOR)

# Set by VendorSession.request for the duration of one call; read by send (same thread).
_IDEMPOTENT: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "csp_http_idempotent", default=None)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try and how long to wait between tries."""

    max_attempts: int = 6
    backoff_initial: float = 0.5        # ceiling of the first backoff, doubled each retry
    backoff_max: float = 30.0
    retry_after_max: float = 120.0      # never wait longer than this, whatever the vendor says
    retry_after_jitter: float = 0.1     # up to this fraction added on top of a Retry-After
    retry_statuses: frozenset[int] = RETRY_STATUSES

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Seconds before retry `retry_number` (1-based): "equal jitter" exponential backoff.

        Half the exponential ceiling is fixed (the wait still grows), half is random, so
        clients that failed together do not come back together.
        """
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** (retry_number - 1))
        return rng.uniform(ceiling / 2, ceiling)

    def after_retry_after(self, retry_after: float, rng: random.Random) -> float:
        """Seconds to wait after `Retry-After: retry_after`: at least that, within the cap."""
        jittered = retry_after * (1 + rng.uniform(0, self.retry_after_jitter))
        return min(jittered, self.retry_after_max)


class VendorRequestError(Exception):
    """A call to a vendor failed; the message names vendor, method, path and the last outcome.

    Deliberately carries no URL query, header, body or chained `requests` exception: those can
    hold credentials.
    """

    def __init__(self, vendor: str, method: str, path: str, *, attempts: int,
                 status: int | None, failure: str | None) -> None:
        self.vendor = vendor
        self.method = method
        self.path = path
        self.attempts = attempts
        self.status = status
        self.failure = failure
        super().__init__(self.describe())

    @property
    def last(self) -> str:
        if self.status is not None:
            return f"HTTP {self.status}" + (f", {self.failure}" if self.failure else "")
        return f"{self.failure}, no response"

    def describe(self) -> str:
        return f"{self.vendor}: {self.method} {self.path} failed (last: {self.last})"


class RetriesExhaustedError(VendorRequestError):
    """Every allowed attempt failed with a retryable outcome."""

    def describe(self) -> str:
        return (f"{self.vendor}: {self.method} {self.path} failed after {self.attempts} "
                f"attempt{'s' if self.attempts != 1 else ''} (last: {self.last})")


class AmbiguousWriteError(VendorRequestError):
    """A write may have been applied; it was not resent because that could apply it twice."""

    def describe(self) -> str:
        return (f"{self.vendor}: {self.method} {self.path} may or may not have been applied "
                f"(last: {self.last}); not resent because the call is not marked idempotent")


class VendorHTTPError(VendorRequestError, requests.HTTPError):
    """The vendor answered with an error status that retrying cannot fix (4xx, mostly).

    Also a `requests.HTTPError` (with `.response`), so code written for `requests` — dlt's
    RESTClient included — still recognises it.
    """

    def __init__(self, vendor: str, method: str, path: str, *, attempts: int,
                 status: int | None, failure: str | None,
                 response: requests.Response | None = None) -> None:
        super().__init__(vendor, method, path, attempts=attempts, status=status,
                         failure=failure)
        self.response = response

    def describe(self) -> str:
        reason = f" {self.failure}" if self.failure else ""
        return f"{self.vendor}: {self.method} {self.path} answered HTTP {self.status}{reason}"


class HttpStats:
    """Counters of one session (thread-safe), for run reports and benchmarks."""

    def __init__(self, limiter: ClientRateLimiter | None) -> None:
        self._limiter = limiter
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0
        self.statuses: Counter[int] = Counter()
        self.retry_reasons: Counter[str] = Counter()
        self.backoff_seconds = 0.0
        self.recent_waits: deque[float] = deque(maxlen=1000)   # each retry's wait, in order

    def sent(self) -> None:
        with self._lock:
            self.requests += 1

    def answered(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1

    def retried(self, reason: str, wait: float) -> None:
        with self._lock:
            self.retries += 1
            self.retry_reasons[reason] += 1
            self.backoff_seconds += wait
            self.recent_waits.append(wait)

    def snapshot(self) -> dict[str, Any]:
        """A plain dict: requests, retries, statuses, reasons, rate-limit waits, time waited."""
        limited = self._limiter.stats() if self._limiter else None
        with self._lock:
            limiter_seconds = limited.waited_seconds if limited else 0.0
            return {
                "requests": self.requests,
                "retries": self.retries,
                "statuses": dict(self.statuses),
                "retry_reasons": dict(self.retry_reasons),
                "rate_limit_waits": limited.waits if limited else 0,
                "rate_limit_wait_seconds": round(limiter_seconds, 3),
                "backoff_seconds": round(self.backoff_seconds, 3),
                "waited_seconds": round(limiter_seconds + self.backoff_seconds, 3),
            }


@dataclass(frozen=True)
class _Outcome:
    """Why an attempt is worth retrying, and whether resending it is safe for a write."""

    reason: str                  # "429", "503", "ReadTimeout", "invalid JSON body", ...
    status: int | None
    failure: str | None
    safe_to_resend: bool         # the vendor certainly did not apply it


class VendorSession(requests.Session):
    """A `requests.Session` for one vendor with the retry, limit and timeout policy built in.

    Use it directly (`session.get(url, params=...)`) or hand it to dlt's
    `RESTClient(session=...)`. One session per thread is the safe pattern (cookies are not
    thread-safe); threads of one vendor share a limiter by passing the same `limiter`.
    `check_json` parses each JSON body once to catch a page cut short with a consistent
    Content-Length; switch it off where that second parse matters more than the check.
    """

    def __init__(self, vendor: str, *, limiter: ClientRateLimiter | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, secret_path: bool = False,
                 check_json: bool = True, rng: random.Random | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self.vendor = vendor
        self.limiter = limiter
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.secret_path = secret_path
        self.check_json = check_json
        self.stats = HttpStats(limiter)
        self._rng = rng or random.Random()
        self._sleep = sleep
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method: str, url: Any, *args: Any,
                idempotent: bool | None = None, **kwargs: Any) -> requests.Response:
        """`requests.Session.request`, plus `idempotent=True` to let a write be resent."""
        token = _IDEMPOTENT.set(idempotent)
        try:
            return super().request(method, url, *args, **kwargs)
        finally:
            _IDEMPOTENT.reset(token)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send with timeout, limiter, retries; return the response or raise a clean error."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        method = (request.method or "GET").upper()
        resendable = self._resendable(request, method)
        if self.secret_path:
            _URL_REDACTOR.hide(urlsplit(request.url or "").path)
        outcome: _Outcome | None = None
        attempt = 0
        for attempt in range(1, self.retry.max_attempts + 1):
            response, outcome, hook_raised = self._attempt(request, method, resendable, kwargs)
            if outcome is None:
                assert response is not None
                if hook_raised:      # a response hook rejected a final status: keep it an error
                    self.ensure_ok(response)
                return response
            if not (resendable or outcome.safe_to_resend):
                raise self._error(AmbiguousWriteError, request, method, attempt, outcome)
            if attempt == self.retry.max_attempts:
                break
            self._wait_before_retry(request, method, attempt, outcome, response)
        assert outcome is not None
        raise self._error(RetriesExhaustedError, request, method, attempt, outcome)

    def ensure_ok(self, response: requests.Response) -> requests.Response:
        """Return `response` if it succeeded, else raise `VendorHTTPError` (no URL query)."""
        if response.status_code < 400:
            return response
        request = response.request
        method = (request.method or "GET").upper() if request is not None else "?"
        raise VendorHTTPError(self.vendor, method, self._path(request), attempts=1,
                              status=response.status_code, failure=response.reason or None,
                              response=response)

    # -- one attempt ------------------------------------------------------------------------

    def _attempt(self, request: requests.PreparedRequest, method: str, resendable: bool,
                 kwargs: dict[str, Any],
                 ) -> tuple[requests.Response | None, _Outcome | None, bool]:
        """One try: (response, why to retry or None, whether a response hook raised on it)."""
        if self.limiter is not None:
            self.limiter.acquire()
        self.stats.sent()
        hook_raised = False
        try:
            response = super().send(request, **kwargs)
        except requests.exceptions.HTTPError as exc:
            if exc.response is None:
                raise self._fatal(request, method, exc) from None
            # dlt's RESTClient installs a hook raising on error statuses; judge the status.
            response, hook_raised = exc.response, True
        except NOT_RETRIED_EXCEPTIONS as exc:
            raise self._fatal(request, method, exc) from None
        except RETRY_EXCEPTIONS as exc:
            failure = _failure_name(exc)
            return None, _Outcome(failure, None, failure, _never_sent(exc)), False
        except requests.exceptions.RequestException as exc:   # invalid URL, too many redirects
            raise self._fatal(request, method, exc) from None
        self.stats.answered(response.status_code)
        outcome = self._judge(response, method, resendable, kwargs.get("stream", False))
        return response, outcome, hook_raised

    def _fatal(self, request: requests.PreparedRequest, method: str,
               exc: Exception) -> VendorRequestError:
        """Our error for a failure retrying cannot fix; not the `requests` exception itself,
        whose message holds the URL with its query."""
        return VendorRequestError(self.vendor, method, self._path(request), attempts=1,
                                  status=None, failure=_failure_name(exc))

    def _judge(self, response: requests.Response, method: str, resendable: bool,
               stream: bool) -> _Outcome | None:
        """None when the response is final, else why it deserves another attempt."""
        status = response.status_code
        if status in self.retry.retry_statuses:
            return _Outcome(str(status), status, None, status in NOT_PROCESSED_STATUSES)
        if (self.check_json and resendable and not stream and 200 <= status < 300
                and method != "HEAD" and _is_broken_json(response)):
            # Cut short by a proxy or a crash mid-page: the vendor has a whole page for us.
            return _Outcome("invalid JSON body", status, "invalid JSON body", False)
        return None

    def _wait_before_retry(self, request: requests.PreparedRequest, method: str,
                           retry_number: int, outcome: _Outcome,
                           response: requests.Response | None) -> None:
        retry_after = (parse_retry_after(response.headers.get("Retry-After"))
                       if response is not None else None)
        if retry_after is not None:
            wait = self.retry.after_retry_after(retry_after, self._rng)
            if outcome.status == 429 and self.limiter is not None:
                self.limiter.defer(wait)
        else:
            wait = self.retry.backoff(retry_number, self._rng)
        if response is not None:
            response.close()
        log.warning("%s: %s %s -> %s; retry %d of %d in %.2fs", self.vendor, method,
                    self._path(request), outcome.reason, retry_number,
                    self.retry.max_attempts - 1, wait)
        self.stats.retried(outcome.reason, wait)
        self._sleep(wait)

    # -- helpers ----------------------------------------------------------------------------

    def _resendable(self, request: requests.PreparedRequest, method: str) -> bool:
        marked = _IDEMPOTENT.get()
        if marked is not None:
            return marked
        return method in IDEMPOTENT_METHODS or "Idempotency-Key" in request.headers

    def _path(self, request: requests.PreparedRequest | None) -> str:
        """The URL path only (no query: it may carry a token); hidden after its first segment
        when the path itself is a secret (a Slack incoming-webhook URL)."""
        path = urlsplit(request.url or "").path if request is not None else ""
        if self.secret_path:
            first = path.strip("/").split("/", 1)[0]
            return f"/{first}/***" if first else "/***"
        return path or "/"

    def _error(self, kind: type[VendorRequestError], request: requests.PreparedRequest,
               method: str, attempts: int, outcome: _Outcome) -> VendorRequestError:
        return kind(self.vendor, method, self._path(request), attempts=attempts,
                    status=outcome.status, failure=outcome.failure)


def create_session(vendor: str, *, rate_limit: RateLimit | None = None,
                   limiter: ClientRateLimiter | None = None,
                   timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                   retry: RetryPolicy | None = None,
                   headers: Mapping[str, str] | None = None, secret_path: bool = False,
                   check_json: bool = True, rng: random.Random | None = None) -> VendorSession:
    """The session factory: one call per vendor (per thread), configured from settings.

    `rate_limit` builds a new limiter for this session; pass `limiter` instead to share one
    across threads. `headers` (typically auth) are sent on every request and never logged.
    """
    if rate_limit is not None and limiter is not None:
        raise ValueError("pass either rate_limit or limiter, not both")
    if rate_limit is not None:
        limiter = ClientRateLimiter(rate_limit)
    session = VendorSession(vendor, limiter=limiter, timeout=timeout, retry=retry,
                            secret_path=secret_path, check_json=check_json, rng=rng)
    session.headers.update(headers or {})
    return session


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delay-seconds or HTTP-date), or None."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _is_broken_json(response: requests.Response) -> bool:
    if "json" not in response.headers.get("Content-Type", "").lower() or not response.content:
        return False
    try:
        json.loads(response.content)
    except ValueError:
        return True
    return False


def _failure_name(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "ChunkedEncodingError (truncated body)"
    return type(exc).__name__


def _never_sent(exc: Exception) -> bool:
    """True when the connection was never established, so the vendor never saw the request."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)  # incl. NewConnectionError
