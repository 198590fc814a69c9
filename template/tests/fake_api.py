"""A fake OpenAI-compatible API on 127.0.0.1, speaking the subset the plugin uses.
Every test of the plugin talks to it.

POST /v1/chat/completions answers like a real API, streamed (server-sent events
ending in [DONE]) or not. The last message decides the reply:

- a tool result: "The tool said: <output>"
- tools were offered: a call of the first tool, with the JSON object at the end of
  the prompt (or {}) as its arguments
- a JSON schema was asked for: an object with an example value per property
- "status 429" (any code): that HTTP error with a JSON error body
- "think": reasoning text first, then the answer
- "count 5": the numbers 1 to 5, one token each
- "slow": waits `slow_seconds` before answering
- "truncate": the connection drops in the middle of the stream
- "no done": the stream ends cleanly but without [DONE]
- "malformed": an event that is not JSON
- anything else: "You said: <text>", plus the types of any images

POST /v1/embeddings turns each text into 26 numbers, how often each letter a to z
occurs in it, so texts that share words come out similar. They are sent in reverse
order, each with its index, as APIs may do. A text holding "status 500" (any code)
gets that HTTP error.

GET /v1/models lists `models`.

A wrong key gets 401 (quoting the key, as some real APIs do), an unknown model 404.
Every request is kept in `requests` for the tests to inspect.
"""

import json
import re
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

JsonDict = dict[str, Any]


class FakeAPI:
    def __init__(self, api_key: str, model: str):
        self.api_key = api_key
        self.model = model
        self.models = [model, "another-model"]
        self.slow_seconds = 1.0
        self.requests: list[JsonDict] = []
        # Each server has its own handler class, which knows the server's state.
        handler = type("FakeHandler", (Handler,), {"api": self})
        self.server = Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"

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

    @property
    def last_body(self) -> JsonDict:
        return self.requests[-1]["body"]


def reply_for(request: JsonDict) -> tuple[list[JsonDict], str]:
    """The deltas of the reply to a request body, and what to do with the stream."""
    last = request["messages"][-1]
    if last["role"] == "tool":
        return words(f"The tool said: {last['content']}"), ""
    text, images = text_and_images(last.get("content"))
    if request.get("tools"):
        name = request["tools"][0]["function"]["name"]
        arguments = text[text.index("{") :] if "{" in text else "{}"
        half = len(arguments) // 2
        return [
            {"tool_calls": [tool_call(0, name, arguments[:half], call_id="call_1")]},
            {"tool_calls": [tool_call(0, "", arguments[half:])]},
        ], ""
    if "response_format" in request:
        schema = request["response_format"]["json_schema"]["schema"]
        return [{"content": json.dumps(example(schema))}], ""
    if "think" in text:
        thoughts = [{"reasoning_content": word} for word in ["Let me ", "think."]]
        return thoughts + words("Thought about it."), ""
    if match := re.search(r"count (\d+)", text):
        return [{"content": f"{n} "} for n in range(1, int(match[1]) + 1)], ""
    for trouble in ("truncate", "no done", "malformed", "slow"):
        if trouble in text:
            return words("You said: " + text), trouble
    suffix = f" (images: {', '.join(images)})" if images else ""
    return words(f"You said: {text}{suffix}"), ""


def words(text: str) -> list[JsonDict]:
    """Text as one delta per word, each word with its leading space."""
    return [{"content": word} for word in re.findall(r"\s*\S+", text)]


def tool_call(index: int, name: str, arguments: str, call_id=None) -> JsonDict:
    call: JsonDict = {"index": index, "function": {"arguments": arguments}}
    if call_id:
        call.update(id=call_id, type="function")
        call["function"]["name"] = name
    return call


def text_and_images(content: str | list | None) -> tuple[str, list[str]]:
    if not isinstance(content, list):
        return content or "", []
    text = " ".join(item["text"] for item in content if item["type"] == "text")
    images = [
        item["image_url"]["url"].split(";")[0].removeprefix("data:")
        for item in content
        if item["type"] == "image_url"
    ]
    return text, images


def example(schema: JsonDict) -> Any:
    """A value that fits a simple JSON schema."""
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example(value) for name, value in properties.items()}
    if kind == "array":
        return [example(schema.get("items", {}))]
    return {"integer": 42, "number": 1.5, "boolean": True}.get(kind, "example")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-stream (after an error) is no problem


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs do
    api: FakeAPI

    def log_message(self, format, *args):
        pass  # keep test output clean

    def do_GET(self):
        if not self.record_and_authorize(body=None):
            return
        if self.path != "/v1/models":
            return self.send_json(404, error(f"Unknown path {self.path}"))
        models = [{"id": model, "object": "model"} for model in self.api.models]
        self.send_json(200, {"object": "list", "data": models})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not self.record_and_authorize(body):
            return
        if self.path == "/v1/embeddings":
            return self.embeddings(body["input"])
        if self.path != "/v1/chat/completions":
            return self.send_json(404, error(f"Unknown path {self.path}"))
        self.chat(body)

    def record_and_authorize(self, body) -> bool:
        self.api.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": body}
        )
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if key != self.api.api_key:
            self.send_json(401, error(f"Incorrect API key provided: {key}"))
            return False
        return True

    def embeddings(self, texts: list[str]):
        if status := re.search(r"status (\d{3})", " ".join(texts)):
            return self.send_json(int(status[1]), error(f"Fake error {status[1]}"))
        data = [
            {"object": "embedding", "index": index, "embedding": letter_counts(text)}
            for index, text in enumerate(texts)
        ]
        self.send_json(200, {"object": "list", "data": data[::-1]})

    def chat(self, body: JsonDict):
        api = self.api
        if body.get("model") != api.model:
            return self.send_json(404, error(f"No model {body.get('model')}"))
        text, _ = text_and_images(body["messages"][-1].get("content"))
        if status := re.search(r"status (\d{3})", text):
            return self.send_json(int(status[1]), error(f"Fake error {status[1]}"))
        deltas, trouble = reply_for(body)
        if trouble == "slow":
            time.sleep(api.slow_seconds)
        served = {"id": "chatcmpl-1", "model": f"{api.model}-2026-01-01"}
        words_in = sum(len(str(m.get("content")).split()) for m in body["messages"])
        usage = {"prompt_tokens": words_in, "completion_tokens": len(deltas)}
        if not body.get("stream"):
            reply = {**served, **whole_reply(deltas), "usage": usage}
            return self.send_json(200, reply)
        self.stream(served, deltas, usage, trouble)

    def stream(self, served: JsonDict, deltas: list[JsonDict], usage, trouble: str):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        finish = "tool_calls" if "tool_calls" in deltas[0] else "stop"
        for index, delta in enumerate(deltas):
            if trouble == "truncate" and index == 2:
                self.close_connection = True
                return  # no final chunk: the client sees a broken body
            if trouble == "malformed" and index == 2:
                self.send_event("{not json")
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            self.send_event(json.dumps({**served, "choices": [choice]}))
        last = {"index": 0, "delta": {}, "finish_reason": finish}
        self.send_event(json.dumps({**served, "choices": [last]}))
        self.send_event(json.dumps({**served, "choices": [], "usage": usage}))
        if trouble != "no done":
            self.send_event("[DONE]")
        self.send_chunk(b"")

    def send_event(self, data: str) -> None:
        self.send_chunk(f"data: {data}\n\n".encode())

    def send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def send_json(self, status: int, payload: JsonDict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def letter_counts(text: str) -> list[float]:
    return [float(text.lower().count(letter)) for letter in string.ascii_lowercase]


def error(message: str) -> JsonDict:
    return {"error": {"message": message, "type": "fake_error"}}


def whole_reply(deltas: list[JsonDict]) -> JsonDict:
    """The non-streaming form of a reply: all its deltas in one message."""
    message: JsonDict = {"role": "assistant", "content": None}
    for delta in deltas:
        for key in ("content", "reasoning_content"):
            if key in delta:
                message[key] = (message.get(key) or "") + delta[key]
        for call in delta.get("tool_calls", []):
            if "id" in call:
                function = dict(call["function"])
                message.setdefault("tool_calls", []).append(
                    {"id": call["id"], "type": "function", "function": function}
                )
            else:  # more of the last call's arguments
                function = message["tool_calls"][-1]["function"]
                function["arguments"] += call["function"]["arguments"]
    finish = "tool_calls" if "tool_calls" in message else "stop"
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish}]}
