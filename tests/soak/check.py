#!/usr/bin/env python3
"""Checks for tests/soak/run.sh.

  check.py rows DB EXPECTED_CSV FIRST_DAY LAST_DAY
      Compares usage_daily with the fake fleet's figures (its --expected CSV) for every server in
      the CSV and every day FIRST_DAY..LAST_DAY. A (server, day) is lost when no row holds it,
      duplicated when more than one row does (any source), wrong when its total, failed, time
      saved or average run time differ from the fleet's, unexpected when a row holds a day
      outside the range. Prints one line of JSON:
      {"checked", "stored", "lost", "duplicated", "wrong", "unexpected", "examples"}.
  check.py runs RUNS_JSON FIRST_ID
      Sums the runs of `GET /api/v1/runs` (a file) with an id >= FIRST_ID: prints
      "RUNS SCHEDULED RETRIES SERVERS_OK SERVERS_FAILED RUNNING".
"""
import csv
import json
import sqlite3
import sys


def check_rows(db, expected_csv, first_day, last_day):
    want = {}
    with open(expected_csv, newline="") as f:
        for row in csv.DictReader(f):
            if first_day <= row["day"] <= last_day:
                total = int(row["total"])
                runtime = float(row["total_runtime_ms"])
                want[(row["server"], row["day"])] = (
                    total, int(row["failed"]), float(row["time_saved_minutes"]),
                    runtime / total if total else 0.0)
    servers = {server for server, _ in want}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    got = {}
    duplicated = 0
    stored = 0
    for name, day, total, failed, saved, average, n in con.execute(
            "SELECT server_name, day, total, failed, time_saved_minutes, average_run_time_ms,"
            " count(*) FROM usage_daily GROUP BY server_name, day"):
        stored += n
        if n > 1:
            duplicated += 1
        got[(name, day)] = (total, failed, saved, average)
    con.close()
    lost = wrong = unexpected = 0
    examples = []

    def example(text):
        if len(examples) < 5:
            examples.append(text)

    for key, figures in sorted(want.items()):
        have = got.get(key)
        if have is None:
            lost += 1
            example(f"lost {key}")
        elif (have[0], have[1]) != figures[:2] or abs((have[2] or 0) - figures[2]) > 1e-6 or \
                abs((have[3] or 0) - figures[3]) > 0.01:
            wrong += 1
            example(f"wrong {key}: stored {have}, fleet {figures}")
    for key in got:
        if key[0] in servers and key not in want:
            unexpected += 1
            example(f"unexpected {key}")
    print(json.dumps({"checked": len(want), "stored": stored, "lost": lost,
                      "duplicated": duplicated, "wrong": wrong, "unexpected": unexpected,
                      "examples": examples}))


def sum_runs(runs_json, first_id):
    with open(runs_json) as f:
        runs = [r for r in json.load(f)["runs"] if r["id"] >= int(first_id)]
    scheduled = sum(1 for r in runs if "[schedule]" in r["description"])
    retries = sum(1 for r in runs if "[retry]" in r["description"])
    ok = sum(r["servers_succeeded"] for r in runs)
    failed = sum(r["servers_failed"] for r in runs)
    running = sum(1 for r in runs if r["status"] == "running")
    print(len(runs), scheduled, retries, ok, failed, running)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "rows":
        check_rows(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "runs":
        sum_runs(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
