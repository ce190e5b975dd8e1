#!/usr/bin/env python3
"""Validates recorded HTTP exchanges against docs/openapi.json (OpenAPI 3.1).

Usage: validate_openapi.py OPENAPI_JSON EXCHANGES_JSONL

Each line of EXCHANGES_JSONL is {"method","path","status","content_type","body"} (body as text).
For each: the path must match a documented path template, the method an operation, the status a
documented response, the content type one of its media types, and a JSON body its schema
(Draft 2020-12, $refs resolved against the document). Prints one line per failure and exits 1 if
any, else prints "validated N exchanges" and exits 0.
"""
import json
import re
import sys

import jsonschema


def template_regex(template):
    parts = []
    for segment in template.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            # A trailing {path} of /assets/ may span segments.
            parts.append("[^/]+" if segment != "{path}" else ".+")
        else:
            parts.append(re.escape(segment))
    return re.compile("^" + "/".join(parts) + "$")


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        pointer = node["$ref"]
        assert pointer.startswith("#/"), pointer
        node = doc
        for part in pointer[2:].split("/"):
            node = node[part]
    return node


def media_match(documented, actual):
    if documented == "*/*":
        return True
    return documented == actual


def check(doc, templates, exchange):
    method = exchange["method"].lower()
    path = exchange["path"]
    status = str(exchange["status"])
    where = f'{exchange["method"]} {path} -> {status}'
    matches = [t for t, rx in templates if rx.match(path)]
    # Prefer literal templates over parameterised ones (/api/v1/servers before {name}).
    matches.sort(key=lambda t: t.count("{"))
    if not matches:
        if status == "404":
            return check_error_body(doc, where, exchange)
        return f"{where}: path matches no documented path"
    item = doc["paths"][matches[0]]
    if method not in item:
        if status == "405":
            return check_error_body(doc, where, exchange)
        return f"{where}: method not documented for {matches[0]}"
    responses = item[method]["responses"]
    response = responses.get(status) or responses.get("default")
    if response is None:
        return f"{where}: status {status} not documented (documented: {', '.join(responses)})"
    response = resolve(doc, response)
    content = response.get("content")
    if not content:
        return None
    media = exchange["content_type"].split(";")[0].strip()
    chosen = [m for m in content if media_match(m, media)]
    if not chosen:
        return f"{where}: content type {media!r} not documented ({', '.join(content)})"
    schema = content[chosen[0]].get("schema", {})
    if media.endswith("json"):
        try:
            body = json.loads(exchange["body"])
        except ValueError as e:
            return f"{where}: body is not JSON: {e}"
    else:
        body = exchange["body"]
    return validate(doc, where, schema, body)


def check_error_body(doc, where, exchange):
    try:
        body = json.loads(exchange["body"])
    except ValueError as e:
        return f"{where}: error body is not JSON: {e}"
    return validate(doc, where, {"$ref": "#/components/schemas/Error"}, body)


def validate(doc, where, schema, body):
    rooted = dict(schema)
    rooted["components"] = doc["components"]  # so "#/components/..." resolves
    validator = jsonschema.Draft202012Validator(rooted)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        location = "/".join(str(p) for p in first.absolute_path) or "(root)"
        return f"{where}: body does not match the schema at {location}: {first.message}"
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    if not str(doc.get("openapi", "")).startswith("3.1"):
        print("not an OpenAPI 3.1 document")
        return 1
    for name, schema in doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            print(f"schema {name} is invalid: {e.message}")
            return 1
    templates = [(t, template_regex(t)) for t in doc["paths"]]
    failures = []
    count = 0
    with open(sys.argv[2]) as f:
        for line in f:
            if not line.strip():
                continue
            count += 1
            failure = check(doc, templates, json.loads(line))
            if failure:
                failures.append(failure)
    for failure in failures:
        print(failure)
    if failures:
        print(f"{len(failures)} of {count} exchanges do not match {sys.argv[1]}")
        return 1
    print(f"validated {count} exchanges")
    return 0


if __name__ == "__main__":
    sys.exit(main())
