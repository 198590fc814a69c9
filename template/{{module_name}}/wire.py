"""Reading the API's replies, whatever its protocol: server-sent event lines, JSON
that must be an object, fields that must have a type. Each problem becomes one
llm.ModelError line that names what was wrong."""

import json
from typing import Any

import llm


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
