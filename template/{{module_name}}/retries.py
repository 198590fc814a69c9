"""When a failed request is tried again, and how long to wait first: pure functions,
no I/O. The client's request loops (client.py) use them."""

import random
import time
from email.utils import parsedate_to_datetime

import httpx2

# Worth another try: a time-out or conflict on the server's side, too many
# requests, and the server's own failures.
RETRY_STATUSES = frozenset({408, 409, 429, *range(500, 600)})
# Failures before any byte of a reply came back. A read or write time-out is not
# among them: trying again would only multiply the time-out the user chose.
RETRY_ERRORS = (httpx2.NetworkError, httpx2.ConnectTimeout, httpx2.RemoteProtocolError)
FIRST_WAIT = 0.5  # seconds before the first retry; it doubles for each one after
MAX_WAIT = 60.0  # the longest wait, Retry-After included: beyond it, give up


def backoff(retry: int) -> float:
    """Seconds to wait before retry number `retry` (1, 2, ...): exponential, with
    up to as much again of random jitter, so that many clients do not come back at
    the same moment."""
    base = FIRST_WAIT * 2 ** (retry - 1)
    return min(MAX_WAIT, base + random.uniform(0, base))


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """The seconds a Retry-After header asks for, whole seconds or an HTTP date;
    None when it is missing or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are in GMT
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def wait_before_retry(retry: int, response: httpx2.Response | None) -> float | None:
    """Seconds to wait before retry number `retry`, after `response` (None after a
    connection failure); None when the wait the server asks for is too long."""
    header = None if response is None else response.headers.get("Retry-After")
    asked = retry_after(header)
    if asked is None:
        return backoff(retry)
    return asked if asked <= MAX_WAIT else None


def should_retry(response: httpx2.Response) -> bool:
    return response.status_code in RETRY_STATUSES


def waiting_line(reason: str, url: str, seconds: float, retry: int, of: int) -> str:
    """The one line on standard error that says why and how long the client waits."""
    return (
        f"{reason} from {url}: trying again in {seconds:.1f} seconds "
        f"(retry {retry} of {of})"
    )
