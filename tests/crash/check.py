#!/usr/bin/env python3
"""Checks for tests/crash/run.sh.

  check.py wal DB_WAL
      Prints "mid-write" when the WAL holds frames of the current generation after its last
      commit frame (a transaction was being written when the process died; SQLite's recovery
      drops them), else "idle".
  check.py rows DB EXPECTED_CSV FIRST_DAY LAST_DAY
      Compares usage_daily (source 'pull') with the fake fleet's figures (--expected CSV) for
      every server in the CSV and every day FIRST_DAY..LAST_DAY. Prints one line of JSON:
      {"checked", "lost", "duplicated", "wrong", "unexpected", "examples"}.
"""
import csv
import json
import sqlite3
import struct
import sys


def wal_state(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return "idle"
    if len(data) < 32:
        return "idle"
    magic, _version, page_size, _seq, salt1, salt2 = struct.unpack(">IIIIII", data[:24])
    if magic not in (0x377F0682, 0x377F0683) or page_size < 512:
        return "idle"
    frame = 24 + page_size
    offset, after_commit = 32, 0
    while offset + 24 <= len(data):
        _pgno, commit_size, s1, s2 = struct.unpack(">IIII", data[offset:offset + 16])
        if (s1, s2) != (salt1, salt2):
            break  # a frame of an older generation: the current one ends here
        after_commit = 0 if commit_size else after_commit + 1
        offset += frame
    return "mid-write" if after_commit else "idle"


def check_rows(db, expected_csv, first_day, last_day):
    want = {}
    with open(expected_csv, newline="") as f:
        for row in csv.DictReader(f):
            if first_day <= row["day"] <= last_day:
                want[(row["server"], row["day"])] = (int(row["total"]), int(row["failed"]),
                                                     float(row["time_saved_minutes"]))
    servers = {server for server, _ in want}
    con = sqlite3.connect(db)
    got = {}
    duplicated = 0
    for name, day, total, failed, saved, n in con.execute(
            "SELECT server_name, day, total, failed, time_saved_minutes, count(*) FROM usage_daily"
            " WHERE source = 'pull' GROUP BY server_name, day"):
        if n > 1:
            duplicated += 1
        got[(name, day)] = (total, failed, saved)
    con.close()
    lost = wrong = unexpected = 0
    examples = []
    for key, figures in sorted(want.items()):
        have = got.get(key)
        if have is None:
            lost += 1
            if len(examples) < 5:
                examples.append(f"lost {key}")
        elif have[0] != figures[0] or have[1] != figures[1] or abs((have[2] or 0) - figures[2]) > 1e-6:
            wrong += 1
            if len(examples) < 5:
                examples.append(f"wrong {key}: stored {have}, n8n {figures}")
    for key in got:
        if key[0] in servers and key not in want:
            unexpected += 1
            if len(examples) < 5:
                examples.append(f"unexpected {key}")
    print(json.dumps({"checked": len(want), "lost": lost, "duplicated": duplicated,
                      "wrong": wrong, "unexpected": unexpected, "examples": examples}))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "wal":
        print(wal_state(sys.argv[2]))
    elif len(sys.argv) == 6 and sys.argv[1] == "rows":
        check_rows(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
