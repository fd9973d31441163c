"""Reading what a caller sent, strictly: JSON objects in UTF-8 with numbers a database can hold,
query strings and multipart uploads through their schemas. Anything else is a 400, 413 or 415
problem, never a crash."""
from __future__ import annotations

import json
import math

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from . import schemas
from .problems import ApiProblem, invalid

JSON_TYPES = ("application/json",)
MAX_SAFE_INTEGER = 2**53 - 1  # what every JSON reader agrees on


def _bad(detail: str) -> ApiProblem:
    return invalid({"_schema": [detail]}, detail)


def _parse_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise ValueError("number too large")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number too large")
    return value


def _parse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _storable(value) -> bool:
    """No NUL and no lone surrogates in any string or key, however deep (without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            items = (item,)
        elif isinstance(item, dict):
            items = tuple(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in items:
            if "\x00" in text:
                return False
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def json_object() -> dict:
    """The request body as a JSON object."""
    if request.mimetype not in JSON_TYPES:
        raise ApiProblem(415, "Send JSON med «Content-Type: application/json».",
                         headers={"Accept-Post": "application/json"})
    raw = request.get_data(cache=True)  # 413 beyond MAX_CONTENT_LENGTH
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("Innholdet er ikke UTF-8.") from None
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except (ValueError, RecursionError):
        raise _bad("Innholdet er ikke gyldig JSON (eller har tall utenfor ±2^53).") from None
    if not isinstance(value, dict):
        raise _bad("Send et JSON-objekt.")
    if not _storable(value):
        raise _bad("Tekst kan ikke inneholde NUL-tegn eller ugyldige Unicode-tegn.")
    return value


def query(schema_class) -> dict:
    """The query string through its schema; a repeated parameter is an error."""
    args: MultiDict = request.args
    data = {}
    for key, values in args.lists():
        data[key] = values[0] if len(values) == 1 else values
    return load(schema_class, data)


def no_body() -> None:
    """Writes without a body (claim, release) accept an empty body or an empty JSON object."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    body = json_object()
    if body:
        raise invalid({key: ["Ukjent felt."] for key in body})


def multipart(schema_class) -> dict:
    if request.mimetype != "multipart/form-data":
        raise ApiProblem(415, "Send filene som «multipart/form-data».",
                         headers={"Accept-Post": "multipart/form-data"})
    data: dict = {}
    for key, values in request.form.lists():
        data[key] = values[0] if len(values) == 1 else values
    for key in request.files:
        data[key] = request.files.getlist(key)
    return load(schema_class, data)


def load(schema_class: type[Schema], data) -> dict:
    """Load through the schema's kept instance (``schemas.kept``) or raise the API's 400 problem
    with the field errors."""
    try:
        return schemas.kept(schema_class).load(data)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        raise invalid(messages) from None
