"""Reads the statistics the e2e tests exported in statisticians' formats
(VERBUND_STATS_DUMP, tests/tests/formats.rs) with independent tools and compares every
figure with the JSON answer they were exported beside:

- JSON-stat 2.0: validated by jsonstat-validator, read by pyjstat;
- SDMX-CSV 2.0: read by pysdmx (the total: `_T` in the dimensions it sums over);
- Frictionless Data Package: validated by frictionless (the Table Schema, with `.`
  declared a missing value), its rows read back by frictionless.

A suppressed cell must come out missing, never 0.

Usage: python3 tests/statformats/verify.py DIR"""
import json
import math
import pathlib
import sys
import tempfile
import zipfile

import frictionless
from jsonstat_validator import validate_jsonstat
from pyjstat import pyjstat
from pysdmx.io import read_sdmx


def code(key):
    if key.get("code"):
        return key["code"]
    return key["value"] or "_Z"


def expected(row, metric="count"):
    """What a format must hold for a row: None where suppressed."""
    return None if row["suppressed"] else row[metric]


def check_json_stat(table, path):
    problems = []
    doc = json.loads(path.read_text())
    if validate_jsonstat(doc) is not True:
        problems.append("jsonstat-validator refused it")
    frame = pyjstat.Dataset.read(path.read_text()).write("dataframe", naming="id")
    groups = table["groupBy"]
    index = {}
    for rec in frame.to_dict("records"):
        index[tuple(rec[g] for g in groups) + (rec["measure"],)] = rec["value"]
    metrics = ["count", "amount"] if table.get("amountOf") else ["count"]
    for row in table["rows"]:
        for metric in metrics:
            got = index.get(tuple(code(k) for k in row["keys"]) + (metric,), "absent")
            want = expected(row, metric)
            if want is None:
                if not (isinstance(got, float) and math.isnan(got)):
                    problems.append(f"suppressed {row['keys']} {metric} read as {got}")
            elif got != want:
                problems.append(f"{row['keys']} {metric}: {got}, JSON {want}")
    shown = sum(1 for r in table["rows"] if not r["suppressed"])
    if len(frame) < len(table["rows"]) * len(metrics):
        problems.append(f"{len(frame)} values for {len(table['rows'])} rows")
    return problems, shown


def check_sdmx(table, path):
    problems = []
    message = read_sdmx(str(path))
    frames = [d.data for d in message.data]
    if len(frames) != 1:
        return [f"{len(frames)} datasets"], 0
    frame = frames[0]
    metrics = 2 if "MEASURE" in frame.columns else 1
    rows = table["rows"] + [table["total"]]
    if len(frame) != len(rows) * metrics:
        problems.append(f"{len(frame)} observations for {len(rows)} rows")
    dims = [("TIME_PERIOD" if g in ("year", "quarter", "month") else g.upper(), g) for g in table["groupBy"]]
    records = frame.to_dict("records")
    for row, rec in zip(rows, records[::metrics]):
        for column, group in dims:
            key = next((k for k in row["keys"] if k["dimension"] == group), None)
            want = code(key) if key else "_T"
            if rec[column] != want:
                problems.append(f"{column}: {rec[column]}, expected {want}")
        want = expected(row)
        got = rec["OBS_VALUE"]
        got = None if got in ("", None) or (isinstance(got, float) and math.isnan(got)) else int(got)
        if got != want:
            problems.append(f"{row['keys']}: OBS_VALUE {got}, JSON {want}")
        conf = {"primary": "A", "secondary": "D", None: "F"}[row["suppression"]]
        if rec["CONF_STATUS"] != conf:
            problems.append(f"{row['keys']}: CONF_STATUS {rec['CONF_STATUS']}, expected {conf}")
    return problems, len(records)


def check_package(table, path):
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(path) as z:
            z.extractall(tmp)
        descriptor = pathlib.Path(tmp) / "datapackage.json"
        report = frictionless.validate(str(descriptor))
        if not report.valid:
            for error in report.flatten(["type", "message"]):
                problems.append(f"frictionless: {error}")
        package = frictionless.Package(str(descriptor))
        resource = package.resources[0]
        with resource:
            counts = [r["count"] for r in resource.row_stream]
    want = [expected(r) for r in table["rows"] + [table["total"]]]
    if counts != want:
        problems.append(f"counts {counts[:8]}…, JSON {want[:8]}…")
    return problems, len(counts)


def main(folder):
    tables = sorted(pathlib.Path(folder).glob("*.table.json"))
    if not tables:
        print(f"no statistics in {folder}", file=sys.stderr)
        return 1
    failed = 0
    totals = {"jsonstat": 0, "sdmx": 0, "package": 0}
    for table_path in tables:
        stem = table_path.name[: -len(".table.json")]
        table = json.loads(table_path.read_text())
        for kind, suffix, check in (
            ("jsonstat", ".jsonstat.json", check_json_stat),
            ("sdmx", ".sdmx.csv", check_sdmx),
            ("package", ".datapackage.zip", check_package),
        ):
            path = table_path.with_name(stem + suffix)
            if not path.exists():
                print(f"{stem}: no {suffix}", file=sys.stderr)
                failed += 1
                continue
            problems, n = check(table, path)
            totals[kind] += n
            for p in problems:
                print(f"{path.name}: {p}", file=sys.stderr)
            failed += bool(problems)
    print(
        f"statistics formats: {len(tables)} tables; JSON-stat valid (jsonstat-validator, pyjstat), "
        f"SDMX-CSV read by pysdmx ({totals['sdmx']} observations), data packages valid "
        f"(frictionless, {totals['package']} rows); {failed} problems"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
