"""Loopback servers that answer the way each API's published reference says it does:
an oracle for the installed plugins that does not share a line with the fake servers
a render ships (includes/tests/fake_api.<protocol>.py), so the plugin and its own fake
cannot drift away from the real API together.

Each server replays hand-written transcripts in the shapes the reference documents
(every field a real server sends, the plugin's use of it or not), chosen by the
prompt, and refuses what the real API refuses: a missing or wrong key (401, with the
API's own error body), a missing header, an unknown model or path, a tool result that
answers no tool call. The prompt's last user text picks the reply:

- a tool result: the final answer, "The tool answered: <output>."
- tools offered: a call of the first tool (of the first two, in parallel, when two
  or more are offered), its arguments streamed in fragments that split JSON tokens
  (the transcript in TOOL_ARGUMENTS for that tool's name, or {})
- "error 429" (any code in ERRORS): that status with the documented error body
- "stream error": two text deltas, then the error the API sends inside a stream
- "refuse" (OpenAI): a refusal, streamed in the delta's `refusal` field, content null
- "think" (Anthropic): a thinking block with its signature, then the answer; with
  tools and `thinking` enabled, a thinking block before the tool call, which the
  next request must send back unchanged, or it gets the API's 400
- anything else: GREETING, whose non-ASCII piece is split mid-character across two
  writes, as any TCP segment may split it

Every request is kept in `requests` (path, headers with lower-case names, body).
"""

import json
import sys
from pathlib import Path
from typing import Any

# The base classes live beside the fakes, as in a rendered project (see fake_api.py).
sys.path.append(str(Path(__file__).resolve().parent.parent / "template" / "tests"))
from loopback import FakeProviderServer, JsonHandler

JsonDict = dict[str, Any]

GREETING_PIECES = ["Hello", "!", " How", " can", " I", " help", " you", " today"]
GREETING_PIECES += ["?", " Café", " ☕"]
GREETING = "".join(GREETING_PIECES)
THOUGHT_PIECES = ["The user wants", " me to think", ". Fine."]
THOUGHT = "".join(THOUGHT_PIECES)
THOUGHT_SIGNATURE = "EqQBCkgIARABGAIiQL4r9zW2kSb7Q0fX1v3mZt6yJc8dHn0pLwA5eRgU"
ANSWER_AFTER_THOUGHT = ["Having", " thought", " it", " over", ": yes", "."]
STREAM_ERROR_PIECES = ["Partial", " answer"]  # sent before the error
# The argument fragments of each tool's call, split where real APIs split them:
# inside keys, between a colon and its value.
TOOL_ARGUMENTS = {
    "llm_version": ["{", "}"],
    "add": ['{"a', '": 2', ', "b":', " 3}"],
}


def tool_arguments(name: str) -> list[str]:
    return TOOL_ARGUMENTS.get(name, ["{}"])


def final_answer(outputs: list[str]) -> list[str]:
    """The answer to tool results: each output in order."""
    if len(outputs) == 1:
        return ["The", " tool", " answered", ": ", outputs[0], "."]
    return ["The", " tools", " answered", ": ", " and ".join(outputs), "."]


REFUSAL_PIECES = ["I'm", " sorry", ", I", " can't", " help", " with", " that", "."]


class ReferenceServer(FakeProviderServer):
    """A loopback server with the one key it accepts (where `key_header` says) and
    the model it serves; the model it names in replies is the dated snapshot the
    alias resolves to."""

    def __init__(self, handler: type[JsonHandler], api_key: str, model: str):
        super().__init__(handler, api_key, model)
        self.served_model = f"{model}-2025-01-01"

    chat_path = ""  # of the chat endpoint, for each protocol

    def chats(self) -> list[JsonDict]:
        """The requests to the chat endpoint, in order."""
        return [r for r in self.requests if r["path"] == self.chat_path]


class ReferenceHandler(JsonHandler):
    """Replies as bytes on the wire: JSON with the API's own headers, or a stream
    of server-sent events written chunk by chunk."""

    api: ReferenceServer
    request_id = "req_0"

    def own_headers(self) -> dict[str, str]:
        return {}

    def record_request(self) -> JsonDict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = {"path": self.path, "headers": headers, "body": body}
        self.api.requests.append(request)
        return request

    def reply_json(self, status: int, payload: Any, **headers: str) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in {**self.own_headers(), **headers}.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(data)

    def reply_events(self, events: list[bytes]) -> None:
        """A 200 stream of server-sent events. An event that holds a multi-byte
        character is written in two pieces split inside that character."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        for name, value in self.own_headers().items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        for event in events:
            wide = next((i for i, byte in enumerate(event) if byte >= 0x80), None)
            pieces = [event] if wide is None else [event[: wide + 1], event[wide + 1 :]]
            for piece in pieces:
                self.send_chunk(piece)
                self.wfile.flush()
        self.send_chunk(b"")


def user_text(message: JsonDict) -> str:
    """The text of a message's content: a string or a list of text parts/blocks."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def error_code_in(text: str, codes) -> int | None:
    for word in text.split("error ")[1:]:
        code = word[:3]
        if code.isdigit() and int(code) in codes:
            return int(code)
    return None


# ---------------------------------------------------------------------------------
# OpenAI Chat Completions: POST /v1/chat/completions, Authorization: Bearer KEY.
# A stream is `data: <chunk>` events (no `event:` field), a chunk per delta, then a
# chunk with the finish_reason and an empty delta, then (with stream_options.
# include_usage) a chunk whose `choices` is [] and that alone has `usage` (every
# other chunk carries "usage": null), then `data: [DONE]`.
# ---------------------------------------------------------------------------------

OPENAI_CREATED = 1735732800
OPENAI_FINGERPRINT = "fp_5f3a2b9c1d"
OPENAI_USAGE = {
    "prompt_tokens": 19,
    "completion_tokens": 10,
    "total_tokens": 29,
    "prompt_tokens_details": {"cached_tokens": 3, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def openai_error(message: str, kind: str, code: str | None, param=None) -> JsonDict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


# The documented error bodies, by status; the prompt "error 429" picks one.
OPENAI_ERRORS = {
    400: openai_error(
        "This model's maximum context length is 128000 tokens. However, your "
        "messages resulted in 131072 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
    ),
    403: openai_error(
        "Project `proj_ref` does not have access to model `gpt-ref`",
        "invalid_request_error",
        "model_not_found",
    ),
    429: openai_error(
        "Rate limit reached for gpt-ref in organization org-ref on requests per min "
        "(RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: openai_error(
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    503: openai_error(
        "The engine is currently overloaded, please try again later.",
        "server_error",
        None,
    ),
}
# An error inside a 200 stream, as OpenAI sends one when a reply fails midway.
OPENAI_STREAM_ERROR = openai_error(
    "The server had an error while processing your request. Sorry about that!",
    "server_error",
    None,
)


def masked(key: str) -> str:
    """A key as OpenAI quotes a wrong one: its start and its last four characters."""
    return key[:3] + "*" * max(len(key) - 7, 0) + key[-4:]


class OpenAIReference(ReferenceServer):
    protocol = "openai-chat"
    chat_path = "/v1/chat/completions"
    key_header, key_prefix = "authorization", "Bearer "

    def __init__(self, api_key: str, model: str):
        super().__init__(OpenAIHandler, api_key, model)
        self.tool_call_ids = OPENAI_CALL_IDS


class OpenAIHandler(ReferenceHandler):
    api: OpenAIReference
    request_id = "req_7b1c9e0f2a3d4c5b8e6f"

    def own_headers(self) -> dict[str, str]:
        return {
            "x-request-id": self.request_id,
            "openai-organization": "org-ref",
            "openai-processing-ms": "187",
            "openai-version": "2020-10-01",
            "x-ratelimit-limit-requests": "10000",
            "x-ratelimit-remaining-requests": "9999",
            "x-ratelimit-reset-requests": "6ms",
        }

    def do_GET(self):
        self.record_request()
        self.not_found("GET")

    def not_found(self, method: str):
        message = f"Invalid URL ({method} {self.path})"
        self.reply_json(404, openai_error(message, "invalid_request_error", None))

    def do_POST(self):
        request = self.record_request()
        headers, body = request["headers"], request["body"]
        authorization = headers.get("authorization", "")
        if not authorization.startswith("Bearer ") or not authorization[7:].strip():
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                "YOUR_KEY)."
            )
            error = openai_error(message, "invalid_request_error", None)
            return self.reply_json(401, error)
        if authorization[7:] != self.api.api_key:
            message = (
                f"Incorrect API key provided: {masked(authorization[7:])}. You can "
                "find your API key at https://platform.openai.com/account/api-keys."
            )
            error = openai_error(message, "invalid_request_error", "invalid_api_key")
            return self.reply_json(401, error)
        if self.path != self.api.chat_path:
            return self.not_found("POST")
        if not headers.get("content-type", "").startswith("application/json") or (
            not isinstance(body, dict)
        ):
            message = (
                "We could not parse the JSON body of your request. (HINT: This likely "
                "means you aren't using your HTTP library correctly.)"
            )
            return self.reply_json(
                400, openai_error(message, "invalid_request_error", None)
            )
        if body.get("model") != self.api.model:
            message = (
                f"The model `{body.get('model')}` does not exist or you do not have "
                "access to it."
            )
            error = openai_error(message, "invalid_request_error", "model_not_found")
            return self.reply_json(404, error)
        if problem := openai_request_problem(body):
            error = openai_error(problem[1], "invalid_request_error", None, problem[0])
            return self.reply_json(400, error)
        self.chat(body)

    def chat(self, body: JsonDict):
        last = body["messages"][-1]
        text = user_text(last)
        if last["role"] == "user" and (code := error_code_in(text, OPENAI_ERRORS)):
            extra = {"retry_after": "20"} if code == 429 else {}
            return self.reply_json(code, OPENAI_ERRORS[code], **extra)
        calls: list[str] = []
        refusal = False
        if last["role"] == "tool":
            outputs = []
            for message in reversed(body["messages"]):
                if message["role"] != "tool":
                    break
                outputs.insert(0, str(message.get("content")))
            pieces = final_answer(outputs)
        elif body.get("tools"):
            calls = [tool["function"]["name"] for tool in body["tools"][:2]]
            pieces = []
        elif "stream error" in text:
            pieces = STREAM_ERROR_PIECES
        elif "refuse" in text:
            pieces, refusal = REFUSAL_PIECES, True
        else:
            pieces = GREETING_PIECES
        stream = body.get("stream") is True
        usage_wanted = (body.get("stream_options") or {}).get("include_usage") is True
        reply = (self.api, pieces, calls, refusal)
        if not stream:
            return self.reply_json(200, openai_completion(*reply))
        events = openai_stream(*reply, usage_wanted)
        if "stream error" in text:  # the error replaces the rest of the stream
            events = events[: 1 + len(pieces)] + [sse(OPENAI_STREAM_ERROR)]
        self.reply_events(events)


def openai_request_problem(body: JsonDict) -> tuple[str, str] | None:
    """(param, message) of what the API refuses in a request's messages."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages", "[] is too short - 'messages'"
    calls: list[str] = []  # the ids of the last assistant turn's calls
    waiting: list[str] = []  # those not answered yet
    for index, message in enumerate(messages):
        role = message.get("role")
        if role not in ("system", "developer", "user", "assistant", "tool"):
            return f"messages.[{index}].role", f"Invalid value: '{role}'."
        if role == "tool":
            if message.get("tool_call_id") not in calls:
                return (
                    f"messages.[{index}].role",
                    (
                        "Invalid parameter: messages with role 'tool' must be a "
                        "response to a preceeding message with 'tool_calls'."
                    ),
                )
            waiting = [id for id in waiting if id != message.get("tool_call_id")]
            continue
        if waiting:
            return (
                "messages",
                (
                    "An assistant message with 'tool_calls' must be followed by tool "
                    "messages responding to each 'tool_call_id'. The following "
                    f"tool_call_ids did not have response messages: "
                    f"{', '.join(waiting)}"
                ),
            )
        calls = []
        if role == "assistant":
            calls = [call["id"] for call in message.get("tool_calls") or []]
            waiting = list(calls)
    return None


def sse(payload: Any, event: str | None = None) -> bytes:
    """One server-sent event; JSON is sent as the APIs send it, UTF-8 unescaped."""
    data = (
        payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    )
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {data}\n\n".encode()


OPENAI_CALL_IDS = ["call_Xk3pQ8vR2mN7sT1wY4zA6bC9", "call_Lm5nB2vC8xZ1aS4dF7gH0jK3"]


def openai_stream(
    api: ReferenceServer,
    pieces: list[str],
    calls: list[str],
    refusal: bool,
    usage_wanted: bool,
) -> list[bytes]:
    envelope = {
        "id": "chatcmpl-B9x2Ref7kLmN0pQrS3tUvW4yZ",
        "object": "chat.completion.chunk",
        "created": OPENAI_CREATED,
        "model": api.served_model,
        "service_tier": "default",
        "system_fingerprint": OPENAI_FINGERPRINT,
    }
    if usage_wanted:
        envelope["usage"] = None

    def chunk(delta: JsonDict, finish: str | None = None, padding: str = "") -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        extra = {"obfuscation": padding} if padding else {}
        return sse({**envelope, "choices": [choice], **extra})

    first: JsonDict = {"role": "assistant", "content": "", "refusal": None}
    if calls or refusal:
        first = {"role": "assistant", "content": None, "refusal": None}
    if refusal:
        first["refusal"] = ""
    events = []
    for index, name in enumerate(calls):
        # A call's first delta holds its index, id and name, no arguments yet; then
        # its arguments in fragments; then the next call's.
        function = {"name": name, "arguments": ""}
        call = {"index": index, "id": OPENAI_CALL_IDS[index], "type": "function"}
        opening = {**(first if index == 0 else {})}
        opening["tool_calls"] = [{**call, "function": function}]
        events.append(chunk(opening, padding="Qx"))
        for piece in tool_arguments(name):
            fragment = {"index": index, "function": {"arguments": piece}}
            events.append(chunk({"tool_calls": [fragment]}, padding="z"))
    if not calls:
        events.append(chunk(first, padding="Qx"))
    field = "refusal" if refusal else "content"
    for piece in pieces:
        events.append(chunk({field: piece}, padding="k9f"[: len(piece) % 3 + 1]))
    events.append(chunk({}, "tool_calls" if calls else "stop", padding="mP"))
    if usage_wanted:
        events.append(sse({**envelope, "choices": [], "usage": OPENAI_USAGE}))
    events.append(sse("[DONE]"))
    return events


def openai_completion(
    api: ReferenceServer, pieces: list[str], calls: list[str], refusal: bool
) -> JsonDict:
    text = "".join(pieces)
    message: JsonDict = {
        "role": "assistant",
        "content": None if calls or refusal else text,
        "refusal": text if refusal else None,
        "annotations": [],
    }
    if calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": "".join(tool_arguments(name))},
            }
            for call_id, name in zip(OPENAI_CALL_IDS, calls, strict=False)
        ]
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": "tool_calls" if calls else "stop",
    }
    return {
        "id": "chatcmpl-B9x2Ref7kLmN0pQrS3tUvW4yZ",
        "object": "chat.completion",
        "created": OPENAI_CREATED,
        "model": api.served_model,
        "choices": [choice],
        "usage": OPENAI_USAGE,
        "service_tier": "default",
        "system_fingerprint": OPENAI_FINGERPRINT,
    }


# ---------------------------------------------------------------------------------
# Anthropic Messages: POST /v1/messages with x-api-key, anthropic-version and a JSON
# content-type. A stream is named events (`event: <type>` then `data: {"type":
# <type>, ...}`): message_start (the message with empty content and the input usage),
# then per content block content_block_start, content_block_delta... and
# content_block_stop (a ping may come at any point: after the first start, as the
# API's own example shows), then message_delta (stop_reason, stop_sequence and the
# output usage), then message_stop. Errors inside a stream are `event: error`.
# ---------------------------------------------------------------------------------

ANTHROPIC_VERSION = "2023-06-01"
ANTHROPIC_USAGE_START = {
    "input_tokens": 25,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 12,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 1,
    "service_tier": "standard",
}
ANTHROPIC_OUTPUT_TOKENS = 12
ANTHROPIC_REQUEST_ID = "req_011CRefA9bC8dE7fG6hJ5kL4"
ANTHROPIC_TOOL_IDS = [
    "toolu_01RefQ7xZ3vB9nM2kL5pW8sT",
    "toolu_01RefJ4hG6fD8sA0pO2iU4yT",
]
TEXT_BEFORE_TOOL = ["I'll", " check", " that", "."]


def anthropic_error(kind: str, message: str) -> JsonDict:
    return {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": ANTHROPIC_REQUEST_ID,
    }


ANTHROPIC_ERRORS = {
    400: anthropic_error(
        "invalid_request_error", "prompt is too long: 213577 tokens > 200000 maximum"
    ),
    403: anthropic_error(
        "permission_error", "Your API key does not have permission to use the model"
    ),
    413: anthropic_error("request_too_large", "Request exceeds the maximum size"),
    429: anthropic_error(
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50 "
        "requests per minute. For details, refer to the rate limits documentation.",
    ),
    500: anthropic_error("api_error", "Internal server error"),
    529: anthropic_error("overloaded_error", "Overloaded"),
}
ANTHROPIC_STREAM_ERROR = {
    "type": "error",
    "error": {"type": "overloaded_error", "message": "Overloaded"},
}


class AnthropicReference(ReferenceServer):
    protocol = "anthropic-messages"
    chat_path = "/v1/messages"
    key_header = "x-api-key"

    def __init__(self, api_key: str, model: str):
        super().__init__(AnthropicHandler, api_key, model)
        self.tool_call_ids = ANTHROPIC_TOOL_IDS


class AnthropicHandler(ReferenceHandler):
    api: AnthropicReference
    request_id = ANTHROPIC_REQUEST_ID

    def own_headers(self) -> dict[str, str]:
        return {
            "request-id": self.request_id,
            "anthropic-organization-id": "7c0f3e1a-9b2d-4c5e-8f6a-1d2c3b4a5e6f",
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "49",
            "anthropic-ratelimit-requests-reset": "2025-01-01T12:00:01Z",
        }

    def do_GET(self):
        self.record_request()
        self.reply_json(404, anthropic_error("not_found_error", "Not Found"))

    def do_POST(self):
        request = self.record_request()
        headers, body = request["headers"], request["body"]
        key = headers.get("x-api-key")
        if not key:
            error = anthropic_error(
                "authentication_error", "x-api-key header is required"
            )
            return self.reply_json(401, error)
        if key != self.api.api_key:
            return self.reply_json(
                401, anthropic_error("authentication_error", "invalid x-api-key")
            )
        if not headers.get("anthropic-version"):
            message = "anthropic-version: header is required"
            return self.reply_json(
                400, anthropic_error("invalid_request_error", message)
            )
        if self.path != self.api.chat_path:
            return self.reply_json(404, anthropic_error("not_found_error", "Not Found"))
        if not headers.get("content-type", "").startswith("application/json") or (
            not isinstance(body, dict)
        ):
            message = "The request body is not valid JSON."
            return self.reply_json(
                400, anthropic_error("invalid_request_error", message)
            )
        if body.get("model") != self.api.model:
            message = f"model: {body.get('model')}"
            return self.reply_json(404, anthropic_error("not_found_error", message))
        if problem := anthropic_request_problem(body):
            error = anthropic_error("invalid_request_error", problem)
            return self.reply_json(400, error)
        self.chat(body)

    def chat(self, body: JsonDict):
        last = body["messages"][-1]
        text = user_text(last)
        results = [
            block
            for block in last["content"]
            if isinstance(last["content"], list) and block.get("type") == "tool_result"
        ]
        if not results and (code := error_code_in(text, ANTHROPIC_ERRORS)):
            extra = {"retry_after": "20"} if code == 429 else {}
            return self.reply_json(code, ANTHROPIC_ERRORS[code], **extra)
        thinking = (body.get("thinking") or {}).get("type") == "enabled"
        blocks: list[JsonDict]
        if results:
            outputs = [tool_result_text(result) for result in results]
            blocks = [text_block(final_answer(outputs))]
        elif body.get("tools"):
            names = [tool["name"] for tool in body["tools"][:2]]
            first = thought_block() if thinking else text_block(TEXT_BEFORE_TOOL)
            blocks = [first, *map(tool_use_block, names, ANTHROPIC_TOOL_IDS)]
        elif "think" in text:
            blocks = [thought_block(), text_block(ANSWER_AFTER_THOUGHT)]
        elif "stream error" in text:
            blocks = [text_block(STREAM_ERROR_PIECES)]
        else:
            blocks = [text_block(GREETING_PIECES)]
        stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
        message = {
            "id": "msg_01RefH8kL2mN4pQ6rS8tU0vW",
            "type": "message",
            "role": "assistant",
            "model": self.api.served_model,
            "content": [whole(block) for block in blocks],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                **ANTHROPIC_USAGE_START,
                "output_tokens": ANTHROPIC_OUTPUT_TOKENS,
            },
        }
        if body.get("stream") is not True:
            return self.reply_json(200, message)
        events = anthropic_stream(message, blocks)
        if "stream error" in text:  # after the block's deltas, before its stop
            cut = next(i for i, e in enumerate(events) if b"content_block_stop" in e)
            events = events[:cut] + [sse(ANTHROPIC_STREAM_ERROR, "error")]
        self.reply_events(events)


def tool_result_text(block: JsonDict) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content)
    return str(content)


def anthropic_request_problem(body: JsonDict) -> str | None:
    """What the Messages API refuses in a request body, in its words."""
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        return "max_tokens: Field required"
    if max_tokens < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            return "thinking.enabled.budget_tokens: Input should be >= 1024"
        if max_tokens <= budget:
            return "`max_tokens` must be greater than `thinking.budget_tokens`"
    if not isinstance(body.get("system", ""), str | list):
        return "system: Input should be a valid list"
    uses: set[str] = set()  # the ids of the last assistant turn's tool_use blocks
    for index, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in ("user", "assistant"):
            return (
                f'messages: Unexpected role "{role}". The Messages API accepts a '
                'top-level `system` parameter, not "system" as an input message role.'
            )
        blocks = (
            [{"type": "text", "text": content}] if isinstance(content, str) else content
        )
        if not isinstance(blocks, list) or not blocks:
            return f"messages.{index}: all messages must have non-empty content"
        results = {
            block.get("tool_use_id")
            for block in blocks
            if block.get("type") == "tool_result"
        }
        if unexpected := results - uses:
            return (
                f"messages.{index}.content: unexpected `tool_use_id` found in "
                f"`tool_result` blocks: {', '.join(sorted(unexpected))}. Each "
                "`tool_result` block must have a corresponding `tool_use` block in the "
                "previous message."
            )
        if unanswered := uses - results:
            return (
                f"messages.{index}: `tool_use` ids were found without `tool_result` "
                f"blocks immediately after: {', '.join(sorted(unanswered))}. Each "
                "`tool_use` block must have a corresponding `tool_result` block in the "
                "next message."
            )
        uses = set()
        if role == "assistant":
            uses = {b.get("id") for b in blocks if b.get("type") == "tool_use"}
            last_call = uses and index == len(messages) - 2
            signed = thinking.get("type") != "enabled" or not last_call
            if not signed and (problem := unsigned_thinking(index, blocks[0])):
                return problem
    return None


def unsigned_thinking(index: int, first: JsonDict) -> str | None:
    """With thinking enabled, the assistant turn of the last tool calls must start
    with the thinking block the API sent, unchanged: its text and signature."""
    if first.get("type") not in ("thinking", "redacted_thinking"):
        return (
            f"messages.{index}.content.0.type: Expected `thinking` or "
            f"`redacted_thinking`, but found `{first.get('type')}`. When `thinking` is "
            "enabled, a final `assistant` message must start with a thinking block "
            "(preceeding the lastmost set of `tool_use` and `tool_result` blocks)."
        )
    if (first.get("thinking"), first.get("signature")) != (THOUGHT, THOUGHT_SIGNATURE):
        return f"messages.{index}.content.0: Invalid `signature` in `thinking` block"
    return None


def text_block(pieces: list[str]) -> JsonDict:
    return {"type": "text", "text": "".join(pieces), "pieces": pieces}


def thought_block() -> JsonDict:
    return {
        "type": "thinking",
        "thinking": THOUGHT,
        "signature": THOUGHT_SIGNATURE,
        "pieces": THOUGHT_PIECES,
    }


def tool_use_block(name: str, call_id: str) -> JsonDict:
    pieces = tool_arguments(name)
    call_input = json.loads("".join(pieces))
    block = {"type": "tool_use", "id": call_id, "name": name}
    return {**block, "input": call_input, "pieces": pieces}


def whole(block: JsonDict) -> JsonDict:
    return {key: value for key, value in block.items() if key != "pieces"}


def anthropic_stream(message: JsonDict, blocks: list[JsonDict]) -> list[bytes]:
    def event(kind: str, **fields: Any) -> bytes:
        return sse({"type": kind, **fields}, kind)

    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = ANTHROPIC_USAGE_START
    events = [event("message_start", message=start)]
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "text":
            opening: JsonDict = {"type": "text", "text": ""}
            deltas = [
                {"type": "text_delta", "text": piece} for piece in block["pieces"]
            ]
        elif kind == "thinking":
            opening = {"type": "thinking", "thinking": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": piece}
                for piece in block["pieces"]
            ]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        else:  # tool_use: its input arrives as JSON text, the first piece empty
            opening = {**whole(block), "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": piece}
                for piece in ["", *block["pieces"]]
            ]
        events.append(event("content_block_start", index=index, content_block=opening))
        if index == 0:
            events.append(event("ping"))
        for delta in deltas:
            events.append(event("content_block_delta", index=index, delta=delta))
        events.append(event("content_block_stop", index=index))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    usage = {"output_tokens": message["usage"]["output_tokens"]}
    events.append(event("message_delta", delta=delta, usage=usage))
    events.append(event("message_stop"))
    return events


REFERENCE_APIS = {
    "openai-chat": OpenAIReference,
    "anthropic-messages": AnthropicReference,
}
