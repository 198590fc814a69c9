"""What every request carries, checked, and the secrets among it kept out of every
message: whatever a server sends back, the key (and any header that carries a
credential) never reaches a message, a log or the screen, as sent or in an encoding
a server might quote it in."""

import base64
import html
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote_plus

HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
SHOWN_INSTEAD = "[key]"
NOT_SHOWN = "[a message that quoted the key in a form that cannot be masked]"
# Headers whose value is a credential, by name.
SECRET_HEADER = re.compile(r"auth|key|token|secret|password|cookie|sign", re.IGNORECASE)
SHORTEST_SECRET = 4  # shorter values are no secret, and masking them garbles text


def checked_headers(
    headers: Mapping[str, str], more_headers: str, setting_name: str
) -> dict[str, str]:
    """`headers` (the key's) and `more_headers`, a JSON object of more headers from the
    setting `setting_name`, each value without the whitespace around its words.
    ValueError, in words that never show a value, if one cannot be sent."""
    try:
        more = json.loads(more_headers) if more_headers.strip() else {}
    except (ValueError, RecursionError):
        more = None
    if not isinstance(more, dict) or not all(
        isinstance(name, str) and HEADER_NAME.fullmatch(name) and isinstance(value, str)
        for name, value in more.items()
    ):
        raise ValueError(setting_name + ' must be a JSON object like {"X-Team": "ml"}')
    checked = {}
    for name, value in {**headers, **more}.items():
        words = (word.strip() for word in value.split(" "))
        value = checked[name] = " ".join(word for word in words if word)
        bad = next((c for c in value if not " " <= c <= "~"), None)
        if bad is not None:
            where = f"{setting_name}'s {name}" if name in more else "the API key"
            raise ValueError(
                f"{where} holds a character an HTTP header cannot carry "
                f"(U+{ord(bad):04X} at position {value.index(bad)}): set it again"
            )
    return checked


def secrets_in(headers: Mapping[str, str]) -> list[str]:
    """The secrets among request headers: the values of credential headers, and
    their last word (the key of "Bearer KEY")."""
    secrets = set()
    for name, value in headers.items():
        if SECRET_HEADER.search(name):
            secrets |= {value, value.split(" ")[-1]}
    return sorted((s for s in secrets if len(s) >= SHORTEST_SECRET), key=len)[::-1]


def encodings(secret: str) -> set[str]:
    """`secret` as it may come back: as sent, JSON-escaped, percent-encoded, as HTML
    entities, in hex, in base64 (at any of its three alignments) and reversed."""
    data = secret.encode()
    forms = {
        secret,
        secret[::-1],
        json.dumps(secret)[1:-1],
        "".join(f"\\u{ord(c):04x}" for c in secret),
        quote(secret, safe=""),
        quote_plus(secret),
        html.escape(secret),
        "".join(f"&#{ord(c)};" for c in secret),
        "".join(f"&#x{ord(c):x};" for c in secret),
        data.hex(),
    }
    for shift in range(3):
        padded = b"\0" * shift + data
        first, last = -(-shift // 3), len(padded) // 3  # the groups free of padding
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.add(encode(padded).decode()[4 * first : 4 * last])
    return {form for form in forms if len(form) >= SHORTEST_SECRET}


def views(text: str) -> Iterable[str]:
    """`text` decoded in the ways a reader could decode it."""
    yield unquote_plus(text)
    yield html.unescape(text)
    yield re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)
    yield re.sub(r"\s+", "", text)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret masked; a text that still holds one once decoded
    (a mix of encodings) is not shown at all."""
    for secret in secrets:
        for form in sorted(encodings(secret), key=len, reverse=True):
            text = re.sub(re.escape(form), SHOWN_INSTEAD, text, flags=re.IGNORECASE)
        if any(secret.lower() in view.lower() for view in views(text)):
            return NOT_SHOWN
    return text


def one_line(text: str) -> str:
    """`text` on one line of visible characters: line breaks, tabs, control and
    invisible characters become single spaces."""
    visible = "".join(
        " " if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in text
    )
    return " ".join(visible.split())
