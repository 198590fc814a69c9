"""Sending one request: the shared TLS set-up, an async transport that never holds
up the event loop, and the loops that try again before a reply has begun."""

import asyncio
import json
import os
import re
import time
from collections.abc import Callable, Generator
from contextlib import aclosing, closing, contextmanager
from functools import cache
from typing import Any

import httpx2

from .protocol import error_text
from .retries import RETRY_ERRORS, should_retry, wait_before_retry
from .turns import FairStream, take_turn

# Says why and how long it waits: (reason, seconds, retry) -> None.
OnWait = Callable[[str, float, int], None]
ERROR_BODY_LIMIT = 65536  # bytes of an error reply read for its message
BODY_LIMIT = 64 << 20  # bytes of a whole reply: a server cannot fill memory


@cache
def tls_context(cert_file: str | None, cert_dir: str | None) -> Any:
    """httpx2's own TLS set-up (it reads SSL_CERT_FILE and SSL_CERT_DIR, so a
    private certificate authority works), made once per process and setting:
    loading the certificate authorities takes tens of milliseconds."""
    return httpx2.create_ssl_context()


def shared_tls_context() -> Any:
    return tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


def connections() -> httpx2.AsyncClient:
    """The async client's connections, made in a worker thread by DeferredTransport
    with everything its first request would otherwise do on the event loop: the TLS
    set-up (certificate authorities), and importing anyio's asyncio backend (tens of
    milliseconds, which the first connection needs). A throwaway event loop here
    has anyio import it, once per process. Proxies come from HTTPS_PROXY,
    HTTP_PROXY, ALL_PROXY and NO_PROXY."""
    client = httpx2.AsyncClient(verify=shared_tls_context())
    # Deferred: anyio is httpx2's own dependency, and importing it with the plugin
    # would cost every llm command a few milliseconds; most never prompt async.
    import anyio

    anyio.run(anyio.sleep, 0)
    return client


class DeferredTransport(httpx2.AsyncBaseTransport):
    """The async client's connections, set up in a worker thread on first use: the
    TLS set-up would otherwise hold up the event loop, and every prompt on it. Each
    reply is read in turns (FairStream)."""

    def __init__(self) -> None:
        self.pool: asyncio.Future[httpx2.AsyncClient] | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self.pool is None:
            self.pool = asyncio.ensure_future(asyncio.to_thread(connections))
        if not self.pool.done():  # the first prompts wait for it all together
            await asyncio.shield(self.pool)
            await take_turn()  # and go on as the loop has time for them
        response = await self.pool.result().send(request, stream=True)
        response.stream = FairStream(response.stream)
        return response

    async def aclose(self) -> None:
        if self.pool is not None and self.pool.done() and not self.pool.exception():
            await self.pool.result().aclose()


class RetryPlan:
    """The tries of one request, for send() and async_send() alike: they do the
    I/O (sending, reading, sleeping), the plan decides after each try whether
    there is another and how long to wait for it."""

    def __init__(self, retries: int, on_wait: OnWait) -> None:
        self.retries, self.on_wait = retries, on_wait
        self.retry = 0  # tries so far: also the number of the retry that may follow
        self.wait = 0.0  # seconds before the next try

    @contextmanager
    def attempt(self) -> Generator[None]:
        """Around one try: a failure below HTTP is raised as it is, unless it is
        worth another try, which then follows the wait."""
        self.retry += 1
        try:
            yield
        except httpx2.TransportError as error:
            wait = wait_for(self.retry, self.retries, self.on_wait, error=error)
            if wait is None:
                raise
            self.wait = wait

    def replied(self, response: httpx2.Response) -> bool:
        """Whether `response` is the one to give (a success, or a failure with no
        try left); otherwise the wait before the next try is set."""
        wait = wait_for(self.retry, self.retries, self.on_wait, response)
        if wait is None:
            return True
        self.wait = wait
        return False


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


# The two loops below differ only in how they wait for I/O. A failed reply is
# read (a little) before it is closed, so that its connection can be used again.


def send(
    client: httpx2.Client, request: httpx2.Request, retries: int, on_wait: OnWait
) -> httpx2.Response:
    """The response to `request`, its body not yet read, after up to `retries`
    more tries; never tried again once the response is given."""
    plan = RetryPlan(retries, on_wait)
    while True:
        with plan.attempt():
            response = client.send(request, stream=True)
            if plan.replied(response):
                return response
            with closing(response):
                read_some(response)
        time.sleep(plan.wait)


async def async_send(
    client: httpx2.AsyncClient, request: httpx2.Request, retries: int, on_wait: OnWait
) -> httpx2.Response:
    """send() for the async client: it waits without holding up the event loop."""
    plan = RetryPlan(retries, on_wait)
    while True:
        with plan.attempt():
            response = await client.send(request, stream=True)
            if plan.replied(response):
                return response
            async with aclosing(response):
                await async_read_some(response)
        await asyncio.sleep(plan.wait)


def read_some(response: httpx2.Response, limit: int = ERROR_BODY_LIMIT) -> bytes:
    """The start of a response's body, up to `limit` bytes: a server cannot make
    the client read (or decompress) without end."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


async def async_read_some(
    response: httpx2.Response, limit: int = ERROR_BODY_LIMIT
) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def read_reply(response: httpx2.Response) -> str:
    """A whole (not streamed) reply's text, never over BODY_LIMIT bytes."""
    return text_of(response, read_some(response, BODY_LIMIT + 1))


async def async_read_reply(response: httpx2.Response) -> str:
    return text_of(response, await async_read_some(response, BODY_LIMIT + 1))


def text_of(response: httpx2.Response, body: bytes) -> str:
    if len(body) > BODY_LIMIT:
        where = f"{response.request.method} {response.url}"
        raise ValueError(f"{where} sent a reply over {BODY_LIMIT >> 20} MiB")
    return body.decode("utf-8", errors="replace")


def error_detail(response: httpx2.Response, body: bytes) -> str:
    """What an error body says: the API's JSON message, an HTML page's title or the
    start of the text."""
    text = body.decode(response.encoding or "utf-8", errors="replace").strip()
    try:
        return error_text(json.loads(text))
    except (ValueError, RecursionError):  # not JSON (an HTML page) or too deep
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
