"""A fake of Anthropic's Messages API on 127.0.0.1, speaking the subset the plugin
uses. Every test of the plugin talks to it.

POST /v1/messages requires, like the real API, the x-api-key and anthropic-version
headers, max_tokens, and turns that alternate from user on. A streamed reply is the
documented event sequence: message_start; per content block content_block_start,
content_block_delta... and content_block_stop (a ping after the first start);
message_delta; message_stop. The last message decides the reply:

- a tool result: "The tool said: <output>"
- tools offered: a tool_use block for the first tool, its input the first JSON
  object in the prompt (or {})
- a JSON schema asked for: an object with an example value per property
- "status 429" (any code): that HTTP error with the API's error body
- "think": a thinking block (with its signature) first, then the answer
- "count 5": the numbers 1 to 5, one token each
- "cached": usage with cache token counts; "odd usage": counts that are not ints
- "slow": waits `slow_seconds` before answering
- "truncate" (the connection drops), "no done" (no message_stop), "malformed",
  "not object", "wrong type", "bad tool call", "error event" (`event: error`):
  a broken stream, after two words (see BROKEN_EVENTS)
- anything else: "You said: <text>", plus the types of any images and documents

GET /v1/models lists `models` (ids, or whole objects), or sends `model_list` as it
is when that is set. There is no embeddings endpoint. A wrong key gets 401 (quoting
the key, which the plugin must never show), an unknown model 404. Every request is
kept in `requests`; `turns(body)` reads a request's messages as (role, text) pairs,
the same for every protocol.
"""

import itertools
import json
import re
import time
from typing import Any

from loopback import FakeProviderServer, JsonHandler, example

JsonDict = dict[str, Any]
VERSION = "2023-06-01"
TROUBLES = ("truncate", "no done", "malformed", "not object", "wrong type")
TROUBLES += ("bad tool call", "error event", "slow")


class FakeAPI(FakeProviderServer):
    key_header = "x-api-key"

    def __init__(self, api_key: str, model: str):
        super().__init__(Handler, api_key, model)

    @staticmethod
    def turns(body: JsonDict) -> list[tuple[str, str]]:
        """The messages of a chat request as (role, text): roles system, user,
        assistant and tool (whose text is the tool's output)."""
        turns = [("system", body["system"])] if body.get("system") else []
        for message in body["messages"]:
            results = tool_results(message["content"])
            if results:
                turns += [("tool", result) for result in results]
            else:
                turns.append((message["role"], text_of(message["content"])[0]))
        return turns


def blocks_of(content: str | list) -> list[JsonDict]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def text_of(content: str | list) -> tuple[str, list[str]]:
    """The text of a message's content, and the media types of its attachments."""
    blocks = blocks_of(content)
    text = " ".join(block["text"] for block in blocks if block["type"] == "text")
    media = [
        block["source"]["media_type"]
        for block in blocks
        if block["type"] in ("image", "document")
    ]
    return text, media


def tool_results(content: str | list) -> list[str]:
    blocks = blocks_of(content)
    return [block["content"] for block in blocks if block["type"] == "tool_result"]


def reply_for(request: JsonDict) -> tuple[list[JsonDict], str]:
    """The content blocks of the reply to a request, and what to do with the
    stream. A block's "pieces" are its deltas when it streams."""
    content = request["messages"][-1]["content"]
    if results := tool_results(content):
        return [words(f"The tool said: {results[0]}")], ""
    text, media = text_of(content)
    if request.get("tools"):
        name = request["tools"][0]["name"]
        found = re.search(r"\{[^{}]*\}", text)
        call = {"id": "call_1", "name": name}
        call["input"] = json.loads(found[0]) if found else {}
        arguments = json.dumps(call["input"])
        half = len(arguments) // 2
        return [
            {"type": "tool_use", **call, "pieces": [arguments[:half], arguments[half:]]}
        ], ""
    if "output_config" in request:
        schema = request["output_config"]["format"]["schema"]
        return [text_block([json.dumps(example(schema))])], ""
    if "think" in text:
        thought = {"type": "thinking", "thinking": "Let me think.", "signature": "sig"}
        thought["pieces"] = ["Let me ", "think."]
        return [thought, words("Thought about it.")], ""
    if match := re.search(r"count (\d+)", text):
        return [text_block([f"{n} " for n in range(1, int(match[1]) + 1)])], ""
    for trouble in TROUBLES:
        if trouble in text:
            return [words("You said: " + text)], trouble
    suffix = f" (images: {', '.join(media)})" if media else ""
    return [words(f"You said: {text}{suffix}")], ""


def text_block(pieces: list[str]) -> JsonDict:
    return {"type": "text", "text": "".join(pieces), "pieces": pieces}


def words(text: str) -> JsonDict:
    """A text block that streams one word (with its leading space) per delta."""
    return text_block(re.findall(r"\s*\S+", text))


def error(kind: str, message: str) -> JsonDict:
    return {"type": "error", "error": {"type": kind, "message": message}}


def request_error(body: JsonDict) -> str | None:
    """What the real API would refuse in a request body, if anything."""
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    roles = [message["role"] for message in body["messages"]]
    if roles[:1] != ["user"] or any(a == b for a, b in itertools.pairwise(roles)):
        return f"messages: roles must alternate from user on, not {roles}"
    return None


class Handler(JsonHandler):
    api: FakeAPI

    def do_GET(self):
        if not self.record_and_authorize(body=None):
            return
        if self.path.split("?")[0] != "/v1/models":
            return self.send_json(404, error("not_found_error", f"No {self.path}"))
        if self.api.model_list is not None:
            return self.send_json(200, self.api.model_list)
        models = [
            item
            if isinstance(item, dict)
            else {"type": "model", "id": item, "display_name": item.title()}
            for item in self.api.models
        ]
        ids = [model.get("id") for model in models] or [None]
        page = {"first_id": ids[0], "last_id": ids[-1], "has_more": False}
        self.send_json(200, {"data": models, **page})

    def do_POST(self):
        body = self.read_json()
        if not self.record_and_authorize(body):
            return
        if self.path != "/v1/messages":
            return self.send_json(404, error("not_found_error", f"No {self.path}"))
        if problem := request_error(body):
            return self.send_json(400, error("invalid_request_error", problem))
        self.chat(body)

    def record_and_authorize(self, body) -> bool:
        request = self.record(body)
        if self.headers.get("anthropic-version") != VERSION:
            message = "anthropic-version: header is required"
            self.send_json(400, error("invalid_request_error", message))
            return False
        key = self.api.key_of(request)
        if key != self.api.api_key:
            message = f"invalid x-api-key: {key}"
            self.send_json(401, error("authentication_error", message))
            return False
        return True

    def chat(self, body: JsonDict):
        api = self.api
        if body["model"] != api.model:
            message = f"No model {body['model']}"
            return self.send_json(404, error("not_found_error", message))
        text, _ = text_of(body["messages"][-1]["content"])
        if status := re.search(r"status (\d{3})", text):
            message = f"Fake error {status[1]}"
            return self.send_json(int(status[1]), error("api_error", message))
        blocks, trouble = reply_for(body)
        if trouble == "slow":
            time.sleep(api.slow_seconds)
        words_in = sum(len(text_of(m["content"])[0].split()) for m in body["messages"])
        pieces = sum(len(block["pieces"]) for block in blocks)
        usage: JsonDict = {"input_tokens": words_in, "output_tokens": pieces}
        if "cached" in text or "odd usage" in text:
            odd = "odd usage" in text
            usage["cache_read_input_tokens"] = "3" if odd else 3
            usage["cache_creation_input_tokens"] = None if odd else 2
        stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
        message: JsonDict = {"id": "msg_1", "type": "message", "role": "assistant"}
        message |= {"model": f"{api.model}-2026-01-01", "stop_sequence": None}
        content = [whole(block) for block in blocks]
        message |= {"content": content, "stop_reason": stop, "usage": usage}
        if not body["stream"]:
            return self.send_json(200, message)
        self.stream(message, blocks, trouble)

    def stream(self, message: JsonDict, blocks: list[JsonDict], trouble: str):
        self.start_events()
        start = {**message, "content": [], "stop_reason": None}
        start["usage"] = {**message["usage"], "output_tokens": 1}
        self.event("message_start", message=start)
        self.sent = 0  # deltas so far: the troubles start at the third
        for index, block in enumerate(blocks):
            if not self.send_block(index, block, trouble):
                return self.break_stream()
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        usage = {"output_tokens": message["usage"]["output_tokens"]}
        self.event("message_delta", delta=delta, usage=usage)
        if trouble != "no done":
            self.event("message_stop")
        self.send_chunk(b"")

    def send_block(self, index: int, block: JsonDict, trouble: str) -> bool:
        """One content block as its start, deltas and stop events; False when
        the connection is to break instead."""
        kind = block["type"]
        start = {"type": "text", "text": ""}
        if kind == "tool_use":
            start = {**whole(block), "input": {}}
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
        self.event("content_block_start", index=index, content_block=start)
        if index == 0:
            self.event("ping")
        for piece in block["pieces"]:
            self.sent += 1
            if self.sent == 3 and trouble == "truncate":
                return False
            if self.sent == 3 and trouble in BROKEN_EVENTS:
                self.send_event(*BROKEN_EVENTS[trouble])
            delta = DELTAS[kind](piece)
            self.event("content_block_delta", index=index, delta=delta)
        if kind == "thinking":
            delta = {"type": "signature_delta", "signature": block["signature"]}
            self.event("content_block_delta", index=index, delta=delta)
        self.event("content_block_stop", index=index)
        return True

    def event(self, kind: str, **fields: Any) -> None:
        self.send_event(json.dumps({"type": kind, **fields}), event=kind)


def whole(block: JsonDict) -> JsonDict:
    """A content block as a whole reply holds it."""
    return {key: value for key, value in block.items() if key != "pieces"}


# The delta of a piece of each kind of content block.
DELTAS = {
    "text": lambda piece: {"type": "text_delta", "text": piece},
    "thinking": lambda piece: {"type": "thinking_delta", "thinking": piece},
    "tool_use": lambda piece: {"type": "input_json_delta", "partial_json": piece},
}

# The event (data, event type) sent before the third delta of a broken stream.
DELTA, START = "content_block_delta", "content_block_start"
BAD_TOOL_CALL = {"type": START, "content_block": {"type": "tool_use", "id": 7}}
BROKEN_EVENTS = {
    "malformed": ("{not json", DELTA),
    "not object": ("[1, 2]", DELTA),
    "wrong type": (json.dumps({"type": DELTA, "delta": ""}), DELTA),
    "bad tool call": (json.dumps(BAD_TOOL_CALL), START),
    "error event": (json.dumps(error("overloaded_error", "Fake overload")), "error"),
}
