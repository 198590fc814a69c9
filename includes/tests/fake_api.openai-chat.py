"""A fake OpenAI-compatible API on 127.0.0.1, speaking the subset the plugin uses.
Every test of the plugin talks to it.

POST /v1/chat/completions answers like a real API, streamed (server-sent events
ending in [DONE]) or not. The last message decides the reply:

- a tool result: "The tool said: <output>"
- tools were offered: a call of the first tool, with the first JSON object in the
  prompt (or {}) as its arguments
- a JSON schema was asked for: an object with an example value per property
- "status 429" (any code): that HTTP error with a JSON error body
- "think": reasoning text first, then the answer
- "count 5": the numbers 1 to 5, one token each
- "cached": usage that reports cached input and reasoning tokens
- "odd usage": usage whose detail counts are not integers
- "slow": waits `slow_seconds` before answering
- "truncate": the connection drops in the middle of the stream
- "no done": the stream ends cleanly but without [DONE]
- "malformed": an event that is not JSON
- "not object": an event that is JSON but not an object
- "wrong type": a chunk whose `choices` is a string
- "bad tool call": a tool call whose `function` is a list
- "error event": an error object in the stream, after two words
- anything else: "You said: <text>", plus the types of any images

POST /v1/embeddings turns each text into 26 numbers, how often each letter a to z
occurs in it, so texts that share words come out similar. They are sent in reverse
order, each with its index, as APIs may do. A text holding "status 500" (any code)
gets that HTTP error.

GET /v1/models lists `models` (ids, or whole objects), or sends `model_list` as it
is when that is set.

A wrong key gets 401 (quoting the key, as some real APIs do), an unknown model 404.
Every request is kept in `requests` for the tests to inspect; `turns(body)` reads
a request's messages as (role, text) pairs, the same for every protocol.
"""

import json
import re
import string
import time
from typing import Any

from loopback import FakeProviderServer, JsonHandler, example

JsonDict = dict[str, Any]
TROUBLES = (
    "truncate",
    "no done",
    "malformed",
    "not object",
    "wrong type",
    "bad tool call",
    "error event",
    "slow",
)


class FakeAPI(FakeProviderServer):
    key_header, key_prefix = "authorization", "Bearer "

    def __init__(self, api_key: str, model: str):
        super().__init__(Handler, api_key, model)

    @staticmethod
    def turns(body: JsonDict) -> list[tuple[str, str]]:
        """The messages of a chat request as (role, text): roles system, user,
        assistant and tool (whose text is the tool's output)."""
        return [
            (message["role"], text_and_images(message.get("content"))[0])
            for message in body["messages"]
        ]


def reply_for(request: JsonDict) -> tuple[list[JsonDict], str]:
    """The deltas of the reply to a request body, and what to do with the stream."""
    last = request["messages"][-1]
    if last["role"] == "tool":
        return words(f"The tool said: {last['content']}"), ""
    text, images = text_and_images(last.get("content"))
    if request.get("tools"):
        name = request["tools"][0]["function"]["name"]
        found = re.search(r"\{[^{}]*\}", text)
        arguments = found[0] if found else "{}"
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
    for trouble in TROUBLES:
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


def usage_of(body: JsonDict, deltas: list[JsonDict]) -> JsonDict:
    text, _ = text_and_images(body["messages"][-1].get("content"))
    words_in = sum(len(str(m.get("content")).split()) for m in body["messages"])
    usage: JsonDict = {"prompt_tokens": words_in, "completion_tokens": len(deltas)}
    if "cached" in text or "odd usage" in text:
        odd = "odd usage" in text
        usage["prompt_tokens_details"] = {"cached_tokens": "1" if odd else 1}
        usage["completion_tokens_details"] = {"reasoning_tokens": None if odd else 2}
    return usage


class Handler(JsonHandler):
    api: FakeAPI

    def do_GET(self):
        if not self.record_and_authorize(body=None):
            return
        if self.path != "/v1/models":
            return self.send_json(404, error(f"Unknown path {self.path}"))
        if self.api.model_list is not None:
            return self.send_json(200, self.api.model_list)
        models = [
            item if isinstance(item, dict) else {"id": item, "object": "model"}
            for item in self.api.models
        ]
        self.send_json(200, {"object": "list", "data": models})

    def do_POST(self):
        body = self.read_json()
        if not self.record_and_authorize(body):
            return
        if self.path == "/v1/embeddings":
            return self.embeddings(body["input"])
        if self.path != "/v1/chat/completions":
            return self.send_json(404, error(f"Unknown path {self.path}"))
        self.chat(body)

    def record_and_authorize(self, body) -> bool:
        request = self.record(body)
        key = self.api.key_of(request)
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
        usage = usage_of(body, deltas)
        if not body.get("stream"):
            reply = {**served, **whole_reply(deltas), "usage": usage}
            return self.send_json(200, reply)
        self.stream(served, deltas, usage, trouble)

    def stream(self, served: JsonDict, deltas: list[JsonDict], usage, trouble: str):
        self.start_events()
        finish = "tool_calls" if "tool_calls" in deltas[0] else "stop"
        for index, delta in enumerate(deltas):
            if index == 2 and trouble == "truncate":
                return self.break_stream()
            if index == 2 and trouble in BROKEN_EVENTS:
                self.send_event(BROKEN_EVENTS[trouble])
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            self.send_event(json.dumps({**served, "choices": [choice]}))
        last = {"index": 0, "delta": {}, "finish_reason": finish}
        self.send_event(json.dumps({**served, "choices": [last]}))
        self.send_event(json.dumps({**served, "choices": [], "usage": usage}))
        if trouble != "no done":
            self.send_event("[DONE]")
        self.send_chunk(b"")


# The event sent in place of the third delta, for each kind of broken stream.
BROKEN_EVENTS = {
    "malformed": "{not json",
    "not object": "[1, 2]",
    "wrong type": json.dumps({"choices": "oops"}),
    "bad tool call": json.dumps(
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": []}]}}]}
    ),
    "error event": json.dumps({"error": {"message": "Fake overload"}}),
}


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
