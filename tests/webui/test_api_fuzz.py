"""Malformed input against every operation in /api/v1/openapi.json, through Flask's client:
broken JSON, wrong types, arrays for objects, huge numbers, unknown fields, non-UTF-8 bytes,
odd paths, query strings, content types and credentials. Never a 500; every error is a
problem (application/problem+json) with a status the document lists; every success fits the
documented schema."""
from __future__ import annotations

import io
import json
import string
import uuid
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from sqlalchemy import select

from engine.store import directory
from engine.store.models import OpenTask, User
from engine.write import demo

PROBLEM = "application/problem+json"
EXAMPLES = 60


def _token(env, username: str) -> str:
    with env.kap12.db.writing() as session:
        user = session.get(User, env.demo.users[username].id)
        return directory.create_api_token(session, user, "fuzz", env.kap12.clock.now())[1]


@pytest.fixture(scope="module")
def world(any_env):
    """The same fuzzing on SQLite and on PostgreSQL: what one database takes, the other may refuse
    (NUL in text, integers beyond 32 bits), and that must be a problem answer, not a 500."""
    env = any_env
    for _ in range(2):
        env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    with env.kap12.db.reading() as session:
        task_ids = list(session.scalars(select(OpenTask.id)))
    doc = env.app.test_client().get("/api/v1/openapi.json").json
    auth = [{"Authorization": f"Bearer {_token(env, u)}"} for u in ("rektor", "prosesseier", "revisor", "ansatt2")]
    auth += [{}, {"Authorization": "Bearer k12_nope"}, {"Authorization": "Basic Zm9vOmJhcg=="}]
    return {"doc": doc, "task_ids": task_ids, "auth": auth, "client": env.app.test_client()}


# Every (path, method) of the document; test_every_documented_operation_is_fuzzed keeps it whole.
OPERATIONS = [("/api/v1/cases", "get"), ("/api/v1/cases", "post"), ("/api/v1/cases/{case_id}", "get"),
              ("/api/v1/cases/{case_id}/history", "get"), ("/api/v1/cases/{case_id}/grants", "get"),
              ("/api/v1/cases/{case_id}/grants", "post"),
              ("/api/v1/cases/{case_id}/grants/{grant_id}/withdraw", "post"),
              ("/api/v1/cases/{case_id}/accused", "post"), ("/api/v1/cases/{case_id}/notes", "post"),
              ("/api/v1/cases/{case_id}/owner-notice", "post"),
              ("/api/v1/definitions", "get"),
              ("/api/v1/definitions", "post"), ("/api/v1/me", "get"), ("/api/v1/openapi.json", "get"),
              ("/api/v1/tasks", "get"), ("/api/v1/tasks/{task_id}", "get"),
              ("/api/v1/tasks/{task_id}/claim", "post"), ("/api/v1/tasks/{task_id}/release", "post"),
              ("/api/v1/tasks/{task_id}/complete", "post")]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
path_text = st.text(alphabet=string.ascii_letters + string.digits + "-_.~%", min_size=1, max_size=40)


@st.composite
def json_body(draw, properties: list[str]):
    kind = draw(st.sampled_from(["object", "value", "bytes", "text"]))
    if kind == "object":
        keys = draw(st.lists(st.sampled_from(properties + ["ukjent", ""]) if properties else st.text(max_size=8),
                             max_size=8, unique=True))
        value = {key: draw(json_values) for key in keys}
        return json.dumps(value, allow_nan=True).encode()
    if kind == "value":
        return json.dumps(draw(json_values), allow_nan=True).encode()
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    return draw(st.binary(max_size=300))


def _properties(doc, schema) -> list[str]:
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return sorted(schema.get("properties", {}))


@st.composite
def requests(draw, world, path: str, method: str):
    doc = world["doc"]
    operation = doc["paths"][path][method]
    url = path
    if "{case_id}" in url:
        value = draw(st.one_of(st.integers(min_value=-3, max_value=2**70).map(str), path_text))
        url = url.replace("{case_id}", value)
    if "{task_id}" in url:
        value = draw(st.one_of(st.sampled_from(world["task_ids"]), st.uuids().map(str), path_text))
        url = url.replace("{task_id}", value)
    query_names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    if draw(st.booleans()):
        query = quote_from_bytes(draw(st.binary(max_size=60)), safe="=&")  # often not UTF-8
    else:
        pairs = draw(st.lists(st.tuples(st.sampled_from(query_names + ["x", "limit"]), st.text(max_size=20)),
                              max_size=4))
        query = "&".join(f"{quote(k)}={quote(v, safe='', errors='surrogatepass')}" for k, v in pairs)
    kwargs = {"query_string": query, "headers": draw(st.sampled_from(world["auth"]))}
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content and draw(st.booleans()):
        data = {}
        if draw(st.booleans()):
            data["comment"] = draw(st.text(max_size=30))
        if draw(st.booleans()):
            data["files"] = [(io.BytesIO(draw(st.binary(max_size=200))), draw(st.text(max_size=20)) or "x")
                             for _ in range(draw(st.integers(0, 3)))]
        for key in draw(st.lists(st.text(min_size=1, max_size=6), max_size=2)):
            data[key] = draw(st.text(max_size=10))
        kwargs.update(data=data, content_type="multipart/form-data")
    else:
        properties = _properties(doc, content["application/json"]["schema"]) if "application/json" in content else []
        kwargs["data"] = draw(json_body(properties))
        kwargs["content_type"] = draw(st.sampled_from(
            ["application/json"] * 4 + ["text/plain", "multipart/form-data", "multipart/form-data; boundary=x",
                                        "application/x-www-form-urlencoded", "application/json; charset=latin-1"]))
    verb = draw(st.sampled_from([method.upper()] * 6 + ["PUT", "DELETE", "PATCH", "GET", "POST"]))
    return verb, url, kwargs


def _conforms(doc, schema: dict, body) -> None:
    Draft202012Validator({**schema, "components": doc["components"]},
                         format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)


@pytest.mark.parametrize("path, method", OPERATIONS)
def test_no_500_and_every_error_is_a_problem(world, path, method):
    doc = world["doc"]
    assert method in doc["paths"][path]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(requests(world, path, method))
    def check(request):
        verb, url, kwargs = request
        response = world["client"].open(url, method=verb, **kwargs)
        assert response.status_code < 500, (verb, url, response.text)
        if verb in ("HEAD", "OPTIONS"):
            return
        if response.status_code >= 400:
            assert response.mimetype == PROBLEM, (verb, url, response.status_code, response.text[:200])
            body = response.json
            assert body["status"] == response.status_code
            assert all(isinstance(body[k], str) and body[k] for k in ("type", "title", "detail"))
            _conforms(doc, {"$ref": "#/components/schemas/Problem"}, body)
            if verb == method.upper():
                # An odd path parameter may leave the route: that is a 404 the route cannot list.
                documented = doc["paths"][path][method]["responses"]
                assert str(response.status_code) in documented or (response.status_code == 404 and "{" in path), (
                    verb, url, response.status_code)
        elif verb == method.upper():
            documented = doc["paths"][path][method]["responses"][str(response.status_code)]
            media = documented["content"]["application/json"]["schema"]
            _conforms(doc, media, response.json)

    check()


def test_every_documented_operation_is_fuzzed(world):
    assert sorted(OPERATIONS) == sorted((p, m) for p, ops in world["doc"]["paths"].items() for m in ops)


def test_a_valid_uuid_that_is_no_task_is_404(world):
    response = world["client"].get(f"/api/v1/tasks/{uuid.uuid4()}", headers=world["auth"][0])
    assert response.status_code == 404 and response.mimetype == PROBLEM
