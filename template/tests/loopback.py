"""A real HTTP server on 127.0.0.1, in a thread, for fake APIs: tests/fake_api.py
defines what it answers; this module serves it and keeps what every fake API
keeps (the key it accepts, its models, the requests it got) and answers the
same way (a value that fits a JSON schema)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer:
    """Serves `handler` (a JsonHandler subclass that gets this object as its
    `api`) on a free port of 127.0.0.1 while in a `with` block, and keeps every
    request it gets in `requests`."""

    def __init__(self, handler: type["JsonHandler"], path: str = "/v1"):
        # Each server has its own handler class, which knows the server's state.
        handler = type(handler.__name__, (handler,), {"api": self})
        self.server = Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        self.requests: list[dict[str, Any]] = []

    @property
    def last_body(self) -> Any:
        return self.requests[-1]["body"]

    def __enter__(self) -> Self:
        # A short poll interval makes shutdown() quick.
        serve = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        serve.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeProviderServer(LoopbackServer):
    """A LoopbackServer with a provider's state: the one key it accepts, the model
    it serves, the model list it sends (`models`, or `model_list` sent as it is when
    set) and how long "slow" waits. A subclass says where a request carries its key
    (`key_header`, after `key_prefix`)."""

    key_header = "authorization"
    key_prefix = ""

    def __init__(self, handler: type["JsonHandler"], api_key: str, model: str):
        super().__init__(handler)
        self.api_key = api_key
        self.model = model
        self.models: list[str | dict[str, Any]] = [model, "another-model"]
        self.model_list: Any = None
        self.slow_seconds = 1.0

    @classmethod
    def key_of(cls, request: dict[str, Any]) -> str:
        """The key a recorded request carried."""
        headers = {name.lower(): value for name, value in request["headers"].items()}
        return headers.get(cls.key_header, "").removeprefix(cls.key_prefix)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's backlog of 5 would reset connections beyond the fifth that
    # arrive at once, as many concurrent async prompts do.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-stream (after an error) is no problem


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs do
    api: Any

    def log_message(self, format, *args):
        pass  # keep test output clean

    def record(self, body: Any) -> dict[str, Any]:
        """Keep the request in the server's `requests`, and return it."""
        request = {"path": self.path, "headers": dict(self.headers), "body": body}
        self.api.requests.append(request)
        return request

    def read_json(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_events(self) -> None:
        """Start a 200 reply of server-sent events, sent in chunks."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def send_event(self, data: str, event: str | None = None) -> None:
        prefix = f"event: {event}\n" if event else ""
        self.send_chunk(f"{prefix}data: {data}\n\n".encode())

    def send_chunk(self, data: bytes) -> None:
        """One chunk of the body; an empty one ends it."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def break_stream(self) -> None:
        """End the reply without its last chunk: the client sees a broken body."""
        self.close_connection = True


def example(schema: dict[str, Any]) -> Any:
    """A value that fits a simple JSON schema."""
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example(value) for name, value in properties.items()}
    if kind == "array":
        return [example(schema.get("items", {}))]
    return {"integer": 42, "number": 1.5, "boolean": True}.get(kind, "example")
