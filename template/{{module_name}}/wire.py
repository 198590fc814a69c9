"""Reading the API's replies, whatever its protocol: server-sent event lines, JSON
that must be an object, fields that must have a type. Each problem becomes one
llm.ModelError line that names what was wrong."""

import json
import re
from collections.abc import Iterator
from typing import Any

import llm
from llm.parts import StreamEvent

LINE_BREAK = re.compile(r"\r\n|\r|\n")


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


def parse_object(text: str, what: str) -> dict[str, Any]:
    """JSON text that must hold an object; `what` names it in the error."""
    value = parse_json(text)
    if not isinstance(value, dict):
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
        self.unfinished = ""  # the start of a line whose end has not arrived

    def read_line(self, line: str) -> Iterator[StreamEvent]:
        """Events from one line of a streamed reply (each protocol says how)."""
        return iter(())

    def read_piece(self, piece: str) -> list[StreamEvent]:
        """Events from a piece of a streamed reply as the network brings it: its
        whole lines are read, and the text (or reasoning) of deltas that came in
        one piece is one event, as llm's cost is per event. The piece's last line
        waits for the rest of it."""
        lines = LINE_BREAK.split(self.unfinished + piece)
        self.unfinished = lines.pop()
        events: list[StreamEvent] = []
        run: list[StreamEvent] = []  # plain text or reasoning events in a row
        for line in lines:
            for event in self.read_line(line):
                if run and not (plain(event) and event.type == run[0].type):
                    events.append(joined(run))
                    run = []
                (run if plain(event) else events).append(event)
        if run:
            events.append(joined(run))
        return events

    def read_end(self) -> list[StreamEvent]:
        """Events from the last line, when the stream did not end it."""
        return self.read_piece("\n") if self.unfinished else []

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


def plain(event: StreamEvent) -> bool:
    """Text or reasoning that joins the events before it."""
    return event.type in ("text", "reasoning") and not (
        event.provider_metadata or event.tool_call_id or event.part_index is not None
    )


def joined(run: list[StreamEvent]) -> StreamEvent:
    if len(run) == 1:
        return run[0]
    return StreamEvent(run[0].type, "".join(event.chunk for event in run))
