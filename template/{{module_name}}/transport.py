"""Sending one request: the shared TLS set-up, an async transport that never holds
up the event loop, and the loops that try again before a reply has begun."""

import asyncio
import json
import os
import re
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx2

from .protocol import error_text
from .retries import RETRY_ERRORS, should_retry, wait_before_retry

# Says why and how long it waits: (reason, seconds, retry) -> None.
OnWait = Callable[[str, float, int], None]
ERROR_BODY_LIMIT = 65536  # bytes of an error reply read for its message


@cache
def tls_context(cert_file: str | None, cert_dir: str | None) -> Any:
    """httpx2's own TLS set-up (it reads SSL_CERT_FILE and SSL_CERT_DIR, so a
    private certificate authority works), made once per process and setting:
    loading the certificate authorities takes tens of milliseconds."""
    return httpx2.create_ssl_context()


def shared_tls_context() -> Any:
    return tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


def connections() -> httpx2.AsyncClient:
    # Proxies come from HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY.
    return httpx2.AsyncClient(verify=shared_tls_context())


class DeferredTransport(httpx2.AsyncBaseTransport):
    """The async client's connections, set up in a worker thread on first use: the
    TLS set-up would otherwise hold up the event loop, and every prompt on it."""

    def __init__(self) -> None:
        self.pool: asyncio.Future[httpx2.AsyncClient] | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self.pool is None:
            self.pool = asyncio.ensure_future(asyncio.to_thread(connections))
        pool = await asyncio.shield(self.pool)
        return await pool.send(request, stream=True)

    async def aclose(self) -> None:
        if self.pool is not None and self.pool.done() and not self.pool.exception():
            await self.pool.result().aclose()


def wait_for(
    retry: int,
    retries: int,
    on_wait: OnWait,
    response: httpx2.Response | None = None,
    error: Exception | None = None,
) -> float | None:
    """Seconds to wait before retry number `retry`, said through `on_wait`; None
    when there is no retry left, the failure is not worth one, or the server asks
    for too long a wait."""
    if retry > retries or (response is not None and not should_retry(response)):
        return None
    if error is not None and (
        not isinstance(error, RETRY_ERRORS) or "CERTIFICATE" in str(error)
    ):
        return None  # a refused certificate stays refused
    wait = wait_before_retry(retry, response)
    if wait is not None:
        reason = (
            f"{response.status_code} {response.reason_phrase}".strip()
            if response is not None
            else str(error) or type(error).__name__
        )
        on_wait(reason, wait, retry)
    return wait


def send(
    client: httpx2.Client, request: httpx2.Request, retries: int, on_wait: OnWait
) -> httpx2.Response:
    """The response to `request`, its body not yet read, after up to `retries`
    more tries; never tried again once the response is given."""
    for retry in range(1, retries + 2):
        try:
            response = client.send(request, stream=True)
        except httpx2.TransportError as error:
            if (wait := wait_for(retry, retries, on_wait, error=error)) is None:
                raise
        else:
            if (wait := wait_for(retry, retries, on_wait, response)) is None:
                return response
            read_some(response)
            response.close()
        time.sleep(wait)
    raise AssertionError("unreachable: the last try returns or raises")


async def async_send(
    client: httpx2.AsyncClient, request: httpx2.Request, retries: int, on_wait: OnWait
) -> httpx2.Response:
    """send() for the async client; it waits without blocking the event loop."""
    for retry in range(1, retries + 2):
        try:
            response = await client.send(request, stream=True)
        except httpx2.TransportError as error:
            if (wait := wait_for(retry, retries, on_wait, error=error)) is None:
                raise
        else:
            if (wait := wait_for(retry, retries, on_wait, response)) is None:
                return response
            await async_read_some(response)
            await response.aclose()
        await asyncio.sleep(wait)
    raise AssertionError("unreachable: the last try returns or raises")


def read_some(response: httpx2.Response) -> bytes:
    """The start of a response's body, enough for an error message: a server
    cannot make the client read (or decompress) without end."""
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= ERROR_BODY_LIMIT:
            break
    return data[:ERROR_BODY_LIMIT]


async def async_read_some(response: httpx2.Response) -> bytes:
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= ERROR_BODY_LIMIT:
            break
    return data[:ERROR_BODY_LIMIT]


def error_detail(response: httpx2.Response, body: bytes) -> str:
    """What an error body says: the API's JSON message, an HTML page's title or the
    start of the text."""
    text = body.decode(response.encoding or "utf-8", errors="replace").strip()
    try:
        return error_text(json.loads(text))
    except ValueError:  # not JSON: an HTML error page, a proxy's message
        pass
    if "html" in response.headers.get("Content-Type", "") or text.startswith("<"):
        title = re.search(r"<title[^>]*>(.*?)</title", text, re.IGNORECASE | re.DOTALL)
        return "an HTML page" + (f" titled {title[1].strip()[:100]!r}" if title else "")
    return text[:300] or response.reason_phrase


def check_reply(response: httpx2.Response) -> None:
    """A successful status is not enough: an HTML page (a login page, a proxy's)
    or an empty body is no reply. ValueError if it is not one."""
    where = f"{response.status_code} from {response.request.method} {response.url}"
    if "html" in response.headers.get("Content-Type", "").lower():
        raise ValueError(f"{where}: an HTML page, not the API's reply: wrong base URL?")
    if response.status_code == 204 or response.headers.get("Content-Length") == "0":
        raise ValueError(f"{where}: the API sent an empty reply")
