"""The extraction accuracy corpus: fictional pages and ATS answers in real shapes, with the posting
each one should give (fixtures/job_corpus/job_answers.json). Served by a FixtureServer so every case
goes through the real `extract_job` path (HTTP fetch or ATS API)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.support.fixture_server import FixtureServer

CORPUS = Path(__file__).parent / "fixtures" / "job_corpus"
SETTINGS_ENV = ("GREENHOUSE_API_BASE", "LEVER_API_BASE", "ASHBY_API_BASE")


@dataclass
class Case:
    name: str
    kind: str
    file: str
    url: str
    classes: list[str]
    expect: dict[str, Any]
    hints: dict[str, Any] | None = None
    index: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_cases() -> list[Case]:
    data = json.loads((CORPUS / "job_answers.json").read_text())
    return [Case(**case) for case in data["cases"]]


def _read(server: FixtureServer, name: str) -> bytes:
    return (CORPUS / name).read_bytes().replace(b"{{BASE}}", server.base_url.encode())


def serve(server: FixtureServer) -> tuple[list[Case], dict[str, str]]:
    """Route every case on `server`; (cases with their URL resolved, env vars pointing the ATS
    sources at the server)."""
    data = json.loads((CORPUS / "job_answers.json").read_text())
    for path, name in data["pages"].items():
        server.page(path, _read(server, name))
    cases = load_cases()
    for case in cases:
        body = _read(server, case.file)
        if case.kind == "html":
            case.url = server.page(case.url, body)
            continue
        parts = urlsplit(case.url).path.strip("/").split("/")
        if case.kind == "greenhouse":  # /TOKEN/jobs/ID
            server.page(f"/greenhouse/v1/boards/{parts[0]}/jobs/{parts[2]}", body, "application/json")
        elif case.kind == "lever":  # /SITE/ID
            if case.index is not None:
                body = json.dumps(json.loads(body)[case.index]).encode()
            server.page(f"/lever/v0/postings/{parts[0]}/{parts[1]}", body, "application/json")
        elif case.kind == "ashby":  # /ORG/ID; Ashby has no single-job endpoint: the board is served
            server.page(f"/ashby/posting-api/job-board/{parts[0]}", body, "application/json")
    env = {
        "GREENHOUSE_API_BASE": server.url("/greenhouse"),
        "LEVER_API_BASE": server.url("/lever"),
        "ASHBY_API_BASE": server.url("/ashby"),
        "CRAWLER_ALLOW_PRIVATE_HOSTS": "1",
    }
    return cases, env


def actual_value(posting: Any, name: str) -> Any:
    value = posting.to_dict().get(name) if hasattr(posting, "to_dict") else posting.get(name)
    return value


def field_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(actual, (int, float)) and abs(float(actual) - float(expected)) < 1e-6
    return expected == actual
