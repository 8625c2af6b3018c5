"""Per-field extraction accuracy on the job corpus (tests/crawl/fixtures/job_corpus).

    python bench/accuracy_bench.py [--json] [--misses]

Every case goes through the real `extract_job` (a local HTTP server on 127.0.0.1 serves the pages
and the ATS API answers). For each field named in a case's answer, the extracted value must equal
it (numbers to 1e-6; a field the code does not produce counts as None). Prints per-field and
per-class accuracy and the overall figure; --misses lists every wrong field.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest_app.core.crawl import CrawlError, extract_job  # noqa: E402
from ingest_app.core.settings import reset_settings_cache  # noqa: E402
from tests.crawl.corpus import field_matches, serve  # noqa: E402
from tests.support.fixture_server import FixtureServer  # noqa: E402


def run() -> dict:
    server = FixtureServer()
    try:
        cases, env = serve(server)
        os.environ.update(env)
        reset_settings_cache()
        fields: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        classes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        misses = []
        for case in cases:
            try:
                posting = extract_job(case.url, case.hints).to_dict()
            except CrawlError as err:
                posting = {"error": err.kind}
            for name, expected in case.expect.items():
                actual = posting.get(name)
                ok = field_matches(expected, actual)
                fields[name][0] += ok
                fields[name][1] += 1
                for cls in case.classes:
                    classes[cls][0] += ok
                    classes[cls][1] += 1
                if not ok:
                    misses.append({"case": case.name, "field": name, "expected": expected, "actual": actual})
        right = sum(v[0] for v in fields.values())
        total = sum(v[1] for v in fields.values())
        return {
            "cases": len(cases),
            "fields_checked": total,
            "overall_accuracy": round(right / total, 3),
            "per_field": {k: f"{v[0]}/{v[1]}" for k, v in sorted(fields.items())},
            "per_class": {k: f"{v[0]}/{v[1]}" for k, v in sorted(classes.items())},
            "misses": misses,
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--misses", action="store_true", help="list every wrong field")
    args = parser.parse_args()
    result = run()
    if not args.misses:
        result.pop("misses")
    if args.json:
        print(json.dumps(result))
        return
    print(f"cases {result['cases']}, fields checked {result['fields_checked']}, accuracy {result['overall_accuracy']}")
    print("per field: " + ", ".join(f"{k} {v}" for k, v in result["per_field"].items()))
    print("per class: " + ", ".join(f"{k} {v}" for k, v in result["per_class"].items()))
    for miss in result.get("misses", []):
        print(f"  miss {miss['case']}.{miss['field']}: expected {miss['expected']!r}, got {miss['actual']!r}")


if __name__ == "__main__":
    main()
