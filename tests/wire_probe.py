"""Run by test_http_api.py inside the http-api venv: feeds each rendered protocol's
`Reply` a streamed reply as the model reads it (`read_bytes`, then `finish`), and
prints what came of it as JSON.

- "pieces": the same stream cut into pieces of several sizes (a UTF-8 character or
  a CRLF cut in two included), with LF, CRLF or CR line ends or none after its last
  line, and text that holds U+2028 and U+0085 unescaped: the text and the tool
  call read from each.
- "odd": every field of every event (and every event itself) replaced in turn by a
  value of another type: how many replies read, how many failed with one line, and
  any failure that was not a ModelError or took more than one line.

    python wire_probe.py MODULE:MODEL_ID ...
"""

import copy
import importlib
import json
import sys

import llm

ODD_TEXT = "Hi\u2028there\x85 \u00e9\u6f22"  # line breaks for str.splitlines only
ODD_VALUES = [None, 0, 1.5, True, "x", [], {}, [1], {"a": 1}]


def openai_events() -> list[dict | str]:
    served = {"id": "chatcmpl-1", "model": "served-1"}

    def chunk(delta: dict, finish=None) -> dict:
        return {
            **served,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    call = {"index": 0, "id": "c1", "type": "function"}
    return [
        chunk({"role": "assistant", "content": ""}),
        chunk({"reasoning_content": "hmm"}),
        chunk({"content": ODD_TEXT}),
        chunk({"tool_calls": [{**call, "function": {"name": "add", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": 1}'}}]}),
        chunk({}, "tool_calls"),
        {
            **served,
            "choices": [],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
        },
        "[DONE]",
    ]


def anthropic_events() -> list[dict | str]:
    usage = {"input_tokens": 3, "output_tokens": 1}
    message = {"id": "msg_1", "type": "message", "model": "served-1", "usage": usage}
    tool = {"type": "tool_use", "id": "c1", "name": "add", "input": {}}
    return [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": ODD_TEXT}},
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2, "content_block": tool},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": '{"a": 1}'}},
        {"type": "content_block_stop", "index": 2},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}},
        {"type": "message_stop"},
    ]  # fmt: skip


def sse(events: list, line_end: str) -> bytes:
    """The stream of `events`, with `event:` lines where they have a type."""
    lines = []
    for event in events:
        if isinstance(event, dict) and isinstance(event.get("type"), str):
            lines.append(f"event: {event['type']}")
        data = (
            event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        )
        lines += [f"data: {data}", ""]
    return (line_end.join(lines) + line_end).encode()


def read(protocol, model, stream: bytes, size: int) -> tuple[str, list]:
    """The text and tool calls of `stream` read in pieces of `size` bytes."""
    reply = protocol.Reply()
    pieces = [stream[start : start + size] for start in range(0, len(stream), size)]
    events = [event for piece in pieces for event in reply.read_bytes(piece)]
    events += reply.read_bytes(b"", end=True)
    response = model.prompt("hi")  # never sent: it only takes what finish() records
    reply.finish(response)
    text = "".join(event.chunk for event in events if event.type == "text")
    calls = [(call["name"], call["arguments"]) for call in reply.tool_calls.values()]
    return text, calls


def places(value, path=()):
    """The path of every value inside `value` (itself included)."""
    yield path
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, inner in items:
            yield from places(inner, (*path, key))


def replaced(value, path, new):
    if not path:
        return new
    value = copy.deepcopy(value)
    inner = value
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = new
    return value


def probe(module: str, model_id: str) -> dict:
    protocol = importlib.import_module(f"{module}.protocol")
    model = llm.get_model(model_id)
    anthropic = protocol.CHAT_PATH == "/messages"
    events = anthropic_events() if anthropic else openai_events()
    pieces = {
        f"{size} {line_end!r}": read(protocol, model, sse(events, line_end), size)
        for line_end in ("\n", "\r\n", "\r")
        for size in (1, 2, 3, 7, 64, 1 << 20)
    }
    # A server may end its stream without the last line end.
    unterminated = sse(events, "\n").rstrip(b"\n")
    pieces["unterminated"] = read(protocol, model, unterminated, 5)
    odd = {"read": 0, "one line": 0, "other": []}
    for index, event in enumerate(events):
        for path in places(event):
            for value in ODD_VALUES:
                changed = [*events]
                changed[index] = replaced(event, path, value)
                try:
                    read(protocol, model, sse(changed, "\n"), 64)
                    odd["read"] += 1
                except llm.ModelError as error:
                    if "\n" in str(error):
                        odd["other"].append(f"{index} {path} {value!r}: {error}")
                    odd["one line"] += 1
                except Exception as error:  # noqa: BLE001 - what the test reports
                    failure = f"{type(error).__name__}: {error}"
                    odd["other"].append(f"{index} {path} {value!r}: {failure}")
    return {"pieces": pieces, "odd": odd, "text": ODD_TEXT}


if __name__ == "__main__":
    found = {}
    for argument in sys.argv[1:]:
        module, model_id = argument.split(":")
        found[module] = probe(module, model_id)
    print(json.dumps(found))
