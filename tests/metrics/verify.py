"""Parses the scrapes of /metrics that the e2e tests kept (VERBUND_METRICS_DUMP,
tests/tests/observe.rs) with prometheus-client's text-format parser, independent of the
exporter that wrote them, and checks the families an operator's dashboards rely on: their
types, their labels, and that no label value looks like a record's id.

Usage: python3 tests/metrics/verify.py DIR"""
import pathlib
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

EXPECTED = {
    "verbund_http_requests": ("counter", {"method", "route", "status"}),
    "verbund_http_request_duration_seconds": ("histogram", {"method", "route"}),
    "verbund_graphql_operations": ("counter", {"operation", "outcome"}),
    "verbund_statistics_cache": ("counter", {"result"}),
    "verbund_db_pool_connections": ("gauge", {"state"}),
    "verbund_db_writers_waiting": ("gauge", set()),
    "verbund_webhook_queue_depth": ("gauge", set()),
    "verbund_build_info": ("gauge", {"version"}),
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def check(path):
    problems = []
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    for name, (kind, labels) in EXPECTED.items():
        family = families.get(name)
        if family is None:
            problems.append(f"no family {name}")
            continue
        if family.type != kind:
            problems.append(f"{name} is a {family.type}, expected a {kind}")
        for s in family.samples:
            keys = set(s.labels) - {"le"}
            if keys != labels:
                problems.append(f"{s.name} has labels {sorted(keys)}, expected {sorted(labels)}")
    for family in families.values():
        for s in family.samples:
            for v in s.labels.values():
                if UUID.search(v):
                    problems.append(f"{s.name} has an id in a label: {v}")
    histogram = families.get("verbund_http_request_duration_seconds")
    if histogram is not None:
        counts = [s for s in histogram.samples if s.name.endswith("_count")]
        if not counts or min(s.value for s in counts) < 1:
            problems.append("the request histogram has no observations")
    return problems, len(families)


def main(folder):
    scrapes = sorted(pathlib.Path(folder).glob("metrics-*.txt"))
    if not scrapes:
        print(f"no scrapes in {folder}", file=sys.stderr)
        return 1
    failed = 0
    for path in scrapes:
        problems, n = check(path)
        for p in problems:
            print(f"{path.name}: {p}", file=sys.stderr)
        failed += bool(problems)
        print(f"{path.name}: {n} metric families parsed by prometheus-client")
    print(f"metrics: {len(scrapes)} scrapes, {failed} with problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
