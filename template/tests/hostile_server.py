"""A hostile HTTP server on 127.0.0.1: it answers each request as the test scripts
it (any status, headers and body, a dropped connection, a reply cut short, no
answer at all) and otherwise relays the request to the fake API of fake_api.py.
It knows nothing of the wire protocol, so it stays when the protocol changes.

It also serves as an HTTP proxy (a request line with the whole URL) and, given a
TLS context, over HTTPS. Every request is kept in `requests`.
"""

import http.client
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass
class Reply:
    """One scripted answer; `relay` sends the request on to the fake API and
    answers with its reply (cut to `cut` bytes of body, if set)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    relay: bool = False
    cut: int | None = None
    hang: bool = False  # accept the request, never answer
    drop: bool = False  # close the connection without a word


RELAY = Reply(relay=True)


class HostileServer:
    def __init__(self, relay_to: str, tls: ssl.SSLContext | None = None):
        self.relay_to = urlsplit(relay_to)
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.stop = threading.Event()
        handler = type("HostileHandler", (Handler,), {"hostile": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.origin = f"{scheme}://127.0.0.1:{self.server.server_port}"
        self.url = self.origin + self.relay_to.path

    def answer(self, *replies: Reply) -> None:
        """Answer the next requests with `replies`, then relay again."""
        self.replies = list(replies)
        self.requests.clear()

    def __enter__(self) -> Self:
        thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        thread.daemon = True
        thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hostile: HostileServer

    def log_message(self, format, *args):
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError):
            self.close_connection = True  # the client hung up: no matter

    def do_GET(self):
        self.respond(None)

    def do_POST(self):
        self.respond(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    def respond(self, body: bytes | None) -> None:
        hostile = self.hostile
        hostile.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers)}
        )
        reply = hostile.replies.pop(0) if hostile.replies else RELAY
        if reply.hang:
            hostile.stop.wait(30)
            self.close_connection = True
            return
        if reply.drop:
            self.close_connection = True
            return
        status, headers, content = reply.status, dict(reply.headers), reply.body
        if reply.relay:
            status, headers, content = self.relay(body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if reply.cut is not None:
            content = content[: reply.cut]
            self.close_connection = True
        self.wfile.write(content)

    def relay(self, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        """The fake API's answer to this request (a proxy's request line names the
        whole URL: only its path is relayed)."""
        target = self.hostile.relay_to
        connection = http.client.HTTPConnection(target.netloc)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        connection.request(self.command, urlsplit(self.path).path, body, headers)
        answer = connection.getresponse()
        content = answer.read()
        connection.close()
        kept = {"Content-Type": answer.getheader("Content-Type", "")}
        return answer.status, kept, content
