"""Text the database can store, checked where a caller's input comes in.

Postgres refuses two things a JSON body can carry: the NUL character (`\\u0000`, in text and
in JSONB alike) and lone UTF-16 surrogates (`\\ud800`), which are not Unicode scalar values
and cannot be encoded as UTF-8. Left to the database they fail the request with a 500 after
some of its work is done; checked in the request models they are a 422 that names the field.

`StorableStr` is the type for a caller's string field; `check_storable` walks a JSON value
(a model's `input`: keys and values at any depth) and names the first bad spot in it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator


def problem(text: str) -> str | None:
    """Why the database cannot store `text`, or None when it can."""
    if "\x00" in text:
        return "contains the NUL character (\\u0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (such as \\ud800), which is not valid Unicode"
    return None


def first_problem(value: Any, path: str = "") -> str | None:
    """The first unstorable string in a JSON value, as `path: why`, or None."""
    if isinstance(value, str):
        why = problem(value)
        return f"{path or 'value'} {why}" if why else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            here = f"{path}.{key_text}" if path else key_text
            why = problem(key_text)
            if why:
                return f"a key in {path or 'the object'} {why}"
            found = first_problem(item, here)
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = first_problem(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _storable_str(text: str) -> str:
    why = problem(text)
    if why:
        raise ValueError(why)
    return text


def check_storable(value: Any) -> Any:
    """A pydantic after-validator for a JSON value: refuse any unstorable string in it."""
    found = first_problem(value)
    if found:
        raise ValueError(found)
    return value


StorableStr = Annotated[str, AfterValidator(_storable_str)]
StorableJson = Annotated[dict[str, Any], AfterValidator(check_storable)]
