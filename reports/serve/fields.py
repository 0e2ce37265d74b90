"""The fields of a request — a page's form or the API's JSON — read with limits on every size.

Input is untrusted: a body is read up to :data:`MAX_BODY` bytes and no further, each field has
its longest length (:data:`LIMITS`), and a field that is no field of the form is refused.  The
values themselves (a layout, a profile, a spec) are the commands' to judge: their messages are
the answer's.  What is wrong here raises :class:`FieldError` with the HTTP status to answer (400 bad input, 413 too
large) and a message naming the field.

>>> read_fields({"claimed": "x" * 5000, "wrt": "W1"}, CHECK)
Traceback (most recent call last):
...
reports.serve.fields.FieldError: claimed is 5000 characters long; at most 4000 are accepted
>>> read_fields({"expr": "v^T A v", "wrt": "v", "shape": "A=3x3 v=3", "vec": "on"}, JACOBIAN)
{'expr': 'v^T A v', 'wrt': 'v', 'shape': ['A=3x3', 'v=3'], 'vec': True}
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from derive.calculus.result import LAYOUTS
from derive.network import CONVENTIONS, REDUCTIONS
from derive.notation import PROFILES

__all__ = ["CHECK", "DERIVE", "JACOBIAN", "LIMITS", "MAX_BODY", "MAX_ITEMS", "PREVIEW",
           "FieldError", "read_body", "read_fields", "parse_body"]

#: The largest body read, in bytes (a form or JSON document).
MAX_BODY = 64 * 1024
#: The longest value of each field, in characters (every other field: 200).
LIMITS = {"spec": 20_000, "claimed": 4_000, "expr": 4_000}
_DEFAULT_LIMIT = 200
#: The most items of a list field (``shape``, ``scalar``, ``symmetric``).
MAX_ITEMS = 32
#: The fields of each form: name → its choices, for the page's selects (``None``: free text;
#: ``bool``: a flag; ``list``: repeatable).
DERIVE = {"spec": None, "sizes": None, "depth": None, "activation": None, "activations": None,
          "loss": None, "convention": CONVENTIONS, "reduction": REDUCTIONS, "layout": LAYOUTS,
          "notation": tuple(PROFILES), "form": ("concrete", "matrix"), "batch": bool}
CHECK = {"spec": None, "wrt": None, "claimed": None, "layout": LAYOUTS,
         "notation": tuple(PROFILES), "sizes": None, "activation": None, "loss": None,
         "convention": CONVENTIONS}
PREVIEW = CHECK
JACOBIAN = {"expr": None, "wrt": None, "shape": list, "scalar": list, "symmetric": list,
            "layout": LAYOUTS, "vec": bool}


class FieldError(Exception):
    """A request that cannot be read: ``status`` 400 (bad input) or 413 (too large)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


async def read_body(request) -> bytes:
    """The request's body, refused (413) once it passes :data:`MAX_BODY` bytes — read in
    pieces, so that a body without a Content-Length is not read whole first."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise FieldError(f"the request is {int(declared)} bytes long; at most {MAX_BODY} are "
                         "accepted", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise FieldError(f"the request is longer than {MAX_BODY} bytes, the most accepted",
                             413)
    return bytes(body)


def parse_body(body: bytes, content_type: str) -> dict:
    """A JSON object or a URL-encoded form as name → value (a repeated form field: a list)."""
    if content_type.split(";")[0].strip() == "application/json":
        try:
            data = json.loads(body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FieldError(f"the body is not a JSON document: {exc}") from None
        if not isinstance(data, dict):
            raise FieldError("the body must be a JSON object of fields")
        return data
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FieldError(f"the form cannot be read: {exc}") from None
    data: dict = {}
    for name, value in pairs:
        if name in data:
            data[name] = (data[name] if isinstance(data[name], list) else [data[name]]) + [value]
        else:
            data[name] = value
    return data


def _text(name: str, value) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FieldError(f"{name} must be a string, not {type(value).__name__}")
    text = str(value)
    limit = LIMITS.get(name, _DEFAULT_LIMIT)
    if len(text) > limit:
        raise FieldError(f"{name} is {len(text)} characters long; at most {limit} are "
                         "accepted", 413)
    if "\x00" in text:
        raise FieldError(f"{name} contains a NUL character")
    return text


def _items(name: str, value) -> list[str]:
    """A repeatable field: a list of strings, or one string of items separated by blanks
    (a shape such as ``W=m,n`` has a comma inside)."""
    items = value if isinstance(value, list) else _text(name, value).split()
    if len(items) > MAX_ITEMS:
        raise FieldError(f"{name} has {len(items)} items; at most {MAX_ITEMS} are accepted",
                         413)
    return [_text(name, item).strip() for item in items if _text(name, item).strip()]


def _flag(name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(name, value).strip().lower()
    if text in ("", "0", "false", "off", "no"):
        return False
    if text in ("1", "true", "on", "yes"):
        return True
    raise FieldError(f"{name} must be true or false, not {value!r}")


def read_fields(data: dict, form: dict) -> dict:
    """The fields of ``data`` that ``form`` knows, checked; empty ones left out.

    Raises
    ------
    FieldError
        An unknown field, a value too long or of the wrong type.
    """
    unknown = sorted(set(data) - set(form))
    if unknown:
        raise FieldError(f"unknown field {unknown[0]!r}; the fields are "
                         f"{', '.join(form)}")
    fields: dict = {}
    for name, kind in form.items():
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if kind is list:
            value = _items(name, value)
        elif kind is bool:
            value = _flag(name, value)
        else:
            if isinstance(value, list) and name == "sizes":
                value = ",".join(_text(name, v) for v in value)
            value = _text(name, value).strip() if name != "spec" else _text(name, value)
        if value not in ("", [], False):
            fields[name] = value
    return fields
