"""Reading the API's replies, whatever its protocol: server-sent event lines, JSON
that must be an object, fields that must have a type. Each problem becomes one
llm.ModelError line that names what was wrong."""

import json
from typing import Any

import llm
from llm.parts import StreamEvent

LINE_LIMIT = 64 << 20  # bytes of one streamed line: a server cannot fill memory


def sse_field(line: str) -> tuple[str, str] | None:
    """The field and value of one line of a server-sent event stream, like
    ("data", "{...}") or ("event", "ping"); None for the blank lines between
    events and for comments (": keep-alive")."""
    name, colon, value = line.partition(":")
    if not colon or not name:
        return None
    return name, value.removeprefix(" ").rstrip("\r")


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise llm.ModelError(f"the API sent malformed JSON: {text[:80]!r}") from None
    except RecursionError:  # [[[[... deeper than Python's stack
        message = f"the API sent JSON nested too deeply to read: {text[:80]!r}"
        raise llm.ModelError(message) from None


# The scanner behind json.loads (an attribute the decoder sets on itself), called
# without loads' two Python wrappers and their whitespace regexes: a stream
# decodes thousands of events.
scan_json = vars(json.JSONDecoder())["scan_once"]


def parse_object(text: str, what: str) -> dict[str, Any]:
    """JSON text that must hold an object; `what` names it in the error."""
    try:
        value, end = scan_json(text, 0)
    except (StopIteration, ValueError, RecursionError):
        end = -1
    if end != len(text):  # whitespace around it, or not JSON: json.loads decides
        value = parse_json(text)
    if type(value) is not dict:
        raise llm.ModelError(
            f"the API sent {what} that is not a JSON object: {text[:80]!r}"
        )
    return value


def checked(value: Any, kind: type, what: str) -> Any:
    """`value` when it is of `kind`; a ModelError naming `what` otherwise."""
    if not isinstance(value, kind):
        raise llm.ModelError(
            f"the API sent {what} that is {type(value).__name__}, not "
            f"{kind.__name__}: {json.dumps(value)[:60]}"
        )
    return value


def typed(container: dict[str, Any], key: str, kind: type, what: str) -> Any:
    """container[key] when it is missing, null or of `kind`; a ModelError naming
    the field and `what` holds it otherwise."""
    value = container.get(key)
    if value is not None and not isinstance(value, kind):
        raise llm.ModelError(
            f"the API sent a {what} whose {key} is {type(value).__name__}, not "
            f"{kind.__name__}: {json.dumps(value)[:60]}"
        )
    return value


def count(container: Any, key: str) -> int | None:
    """An integer field, like a token count; None when it is missing or is not
    an integer (usage is never worth failing a reply for)."""
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def counts(container: Any, keys: list[str]) -> dict[str, int] | None:
    """The integer counts among `keys` that are not zero; None when there are none."""
    found = {key: count(container, key) for key in keys}
    return {key: value for key, value in found.items() if value} or None


class ReplyState:
    """What a reply brings besides its text, whatever the protocol: its id, the
    model that answered, why it stopped, usage, and tool calls, whose arguments
    arrive as JSON text in pieces. A protocol's Reply fills it in as it reads,
    and says how its usage reads (`usage_counts`) and what ends a stream."""

    end_of_stream = "its end"  # named when a stream stops before it

    def __init__(self) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] = {}
        self.done = False  # the end of the stream (or a whole reply) was read
        self.event = ""  # the `event:` field of the event being read, if any
        self.tool_calls: dict[int, dict[str, str]] = {}  # by the API's index
        self.unread: list[bytes] = []  # a streamed line whose end is yet to come

    def read_bytes(self, data: bytes, end: bool = False) -> list[StreamEvent]:
        """Events from the next bytes of a streamed reply (`end`: the last bytes),
        each line read by the protocol's read_line. Lines end at LF, CRLF or CR
        only, as server-sent events do: not at the other line breaks of
        str.splitlines (U+2028, U+0085...), which JSON text may hold unescaped."""
        if data.endswith(b"\n") and not self.unread:  # whole lines, as is usual
            text = data.decode(errors="replace")
        elif not (end or b"\n" in data or b"\r" in data):
            self.unread.append(data)  # a long line: joined once, when it ends
            if sum(map(len, self.unread)) > LINE_LIMIT:
                raise llm.ModelError(
                    f"the API sent a line over {LINE_LIMIT >> 20} MiB that does not"
                    " end: not an event stream"
                )
            return []
        else:
            data = b"".join((*self.unread, data))
            cut = len(data)  # where the last whole line ends
            if not end:  # a CR at the very end may be half a CRLF: kept for later
                cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, -1)) + 1
            self.unread = [data[cut:]] if cut < len(data) else []
            text = data[:cut].decode(errors="replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        events: list[StreamEvent] = []
        for line in text.split("\n"):
            if line:  # not the blank lines between events, which say nothing here
                events += self.read_line(line)
        return events

    def read_line(self, line: str) -> list[StreamEvent]:
        """Events from one line of a streamed reply: the protocol's own."""
        raise NotImplementedError

    def usage_counts(self) -> tuple[int | None, int | None, dict[str, int] | None]:
        """Input tokens, output tokens and other counts (cached, reasoning...)."""
        return None, None, None

    def finish(self, response: llm.Response | llm.AsyncResponse) -> None:
        """Record the tool calls, usage and served model on llm's response."""
        if not self.done:
            raise llm.ModelError(
                f"the API's stream ended before {self.end_of_stream}: "
                "the reply is incomplete"
            )
        for call in self.tool_calls.values():
            arguments = parse_object(call["arguments"] or "{}", "tool call arguments")
            response.add_tool_call(
                llm.ToolCall(
                    name=call["name"], arguments=arguments, tool_call_id=call["id"]
                )
            )
        if self.usage:
            tokens_in, tokens_out, details = self.usage_counts()
            response.set_usage(input=tokens_in, output=tokens_out, details=details)
        if self.model:
            response.set_resolved_model(self.model)
        response.response_json = {
            "id": self.id,
            "model": self.model,
            "finish_reason": self.finish_reason,
        }
