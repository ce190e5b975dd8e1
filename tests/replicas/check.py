#!/usr/bin/env python3
"""Checks what tests/replicas/run.sh gathered after three `serve` replicas shared one daily run
and one of them was killed (kill -9) while it held leases.

Inputs in --work: runs.txt, slots.txt, units.txt, usage.txt, dupes.txt (psql -At output, '|'
separated), held.txt (the killed replica's pending units right after the kill: name|lease_until),
expected.csv (the fake fleet's figures) and requests.log (the fake fleet's request log:
INSTANCE START END ARRIVAL_MS STATUS). Prints a summary; exits 1 naming every failed check.
"""

import argparse
import collections
import csv
import datetime
import os
import statistics
import sys

failures = []


def fail(message):
    failures.append(message)


def rows(path):
    with open(path) as f:
        return [line.rstrip("\n").split("|") for line in f if line.strip()]


def day(text, offset=0):
    d = datetime.date.fromisoformat(text[:10]) + datetime.timedelta(days=offset)
    return d.isoformat()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--today", required=True)
    p.add_argument("--days", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--victim", required=True, help="lease owner of the killed replica")
    p.add_argument("--kill-ms", type=int, required=True)
    p.add_argument("--closed-ms", type=int, required=True)
    p.add_argument("--slack-ms", type=int, default=300,
                   help="how late the fake fleet may log a request the victim sent before dying")
    a = p.parse_args()
    w = lambda name: os.path.join(a.work, name)

    # ---- one daily run, succeeded, every server attempted
    runs = rows(w("runs.txt"))
    slots = rows(w("slots.txt"))
    if len(runs) != 1:
        fail(f"{len(runs)} runs exist, want exactly 1 (the daily run): {runs}")
    if slots != [[f"daily:{a.today}", str(a.run)]]:
        fail(f"schedule_slots should hold only daily:{a.today} -> run {a.run}, holds {slots}")
    run = next((r for r in runs if r[0] == str(a.run)), None)
    if run is None:
        fail(f"run {a.run} is missing")
        run = ["?"] * 9
    _, status, attempted, succeeded, failed_servers, days_stored, started, finished, _ = run
    if status != "succeeded":
        fail(f"run {a.run} status is {status}, want succeeded")
    if attempted != str(a.count):
        fail(f"run {a.run} servers_attempted is {attempted}, want {a.count}")
    if failed_servers != "0":
        fail(f"run {a.run} has {failed_servers} failed servers")

    # ---- usage_daily: every (server, day) once, equal to what the fleet served
    first, last = day(a.today, -a.days), day(a.today, -1)
    want = {}
    with open(w("expected.csv")) as f:
        for r in csv.DictReader(f):
            if first <= r["day"] <= last:
                want[(r["server"], r["day"])] = (int(r["total"]), int(r["failed"]),
                                                 float(r["time_saved_minutes"]))
    if len(want) != a.count * a.days:
        fail(f"the fake fleet's expected.csv has {len(want)} (server, day) in {first}..{last}, "
             f"want {a.count * a.days}")
    usage = rows(w("usage.txt"))
    got = {}
    wrong = []
    for server, d, total, failed, saved, run_id, source in usage:
        key = (server, d)
        if source != "pull" or key in got:
            continue
        got[key] = (int(total), int(failed), float(saved or 0))
        if run_id != str(a.run):
            wrong.append(f"{server} {d} stored by run {run_id}")
    if len(usage) != a.count * a.days:
        fail(f"usage_daily has {len(usage)} rows, want {a.count} servers x {a.days} days = "
             f"{a.count * a.days}")
    dupes = rows(w("dupes.txt"))
    if dupes:
        fail(f"{len(dupes)} (server, day) stored more than once, e.g. {dupes[:3]}")
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(k for k in set(want) & set(got)
                    if want[k][:2] != got[k][:2] or abs(want[k][2] - got[k][2]) > 1e-6)
    if missing:
        fail(f"{len(missing)} (server, day) missing from usage_daily, e.g. {missing[:3]}")
    if extra:
        fail(f"{len(extra)} unexpected (server, day) in usage_daily, e.g. {extra[:3]}")
    if differ:
        k = differ[0]
        fail(f"{len(differ)} (server, day) differ from the fleet's figures, e.g. {k}: "
             f"stored {got[k]}, served {want[k]}")
    if wrong:
        fail(f"{len(wrong)} rows not stored by run {a.run}, e.g. {wrong[:3]}")

    # ---- work units: all done; the killed replica's were finished by the survivors
    units = {r[0]: {"state": r[1], "owner": r[2], "claims": int(r[3])} for r in rows(w("units.txt"))}
    held = {r[0]: int(r[1]) for r in rows(w("held.txt"))}
    if len(units) != a.count:
        fail(f"run {a.run} has {len(units)} work units, want {a.count}")
    not_done = [n for n, u in units.items() if u["state"] != "done"]
    if not_done:
        fail(f"{len(not_done)} units not done, e.g. {[(n, units[n]) for n in not_done[:3]]}")
    if not held:
        fail("the killed replica held no pending unit at the kill (nothing was tested)")
    for name in held:
        u = units.get(name)
        if u is None:
            fail(f"the killed replica's unit {name} vanished")
        elif u["owner"] == a.victim or u["state"] != "done" or u["claims"] != 2:
            fail(f"the killed replica's unit {name} was not finished by a survivor: {u}")
    stray = sorted(n for n, u in units.items() if u["claims"] >= 2 and n not in held)
    too_many = sorted(n for n, u in units.items() if u["claims"] > 2)
    if too_many:
        fail(f"{len(too_many)} units were claimed more than twice, e.g. "
             f"{[(n, units[n]) for n in too_many[:3]]}")
    never = sorted(n for n, u in units.items() if u["claims"] < 1)
    if never:
        fail(f"{len(never)} units done without a claim, e.g. {never[:3]}")

    # ---- the request log: one collection's windows per lease
    pattern = collections.Counter((day(a.today, -k), a.today) for k in range(1, a.days + 1))
    pattern[(day(a.today, -a.days), a.today)] += 1  # the widest window is read again at the end
    per_collection = sum(pattern.values())
    requests = collections.defaultdict(list)
    statuses = collections.Counter()
    total_requests = 0
    with open(w("requests.log")) as f:
        for line in f:
            instance, start, end, ms, answer = line.split()
            requests[f"fleet-{int(instance):05d}"].append((int(ms), day(start), day(end)))
            statuses[answer] += 1
            total_requests += 1
    if set(statuses) - {"200"}:
        fail(f"the fake fleet answered some Insights requests with errors: {dict(statuses)}")
    for r in requests.values():
        r.sort()
    counts = [len(requests.get(n, [])) for n in units]
    median = statistics.median(counts) if counts else 0
    if median != per_collection:
        fail(f"the median server was read {median} times, one collection reads {per_collection}")
    once = [n for n, u in units.items() if u["claims"] == 1]
    bad_once = []
    for n in once:
        r = requests.get(n, [])
        windows = collections.Counter((s, e) for _, s, e in r)
        widest = (day(a.today, -a.days), a.today)
        if windows != pattern or (r[0][1:], r[-1][1:]) != (widest, widest):
            bad_once.append((n, len(r)))
    if bad_once:
        fail(f"{len(bad_once)} servers claimed once were not read exactly as one collection reads "
             f"({per_collection} requests, widest first and last), e.g. {bad_once[:5]}: "
             "two replicas fetched the same windows while a lease ran")
    victim_requests = 0
    incomplete, early, doubled = [], [], []
    for n, lease_until in held.items():
        r = requests.get(n, [])
        before = [x for x in r if x[0] < a.kill_ms + a.slack_ms]
        after = [x for x in r if x[0] >= a.kill_ms + a.slack_ms]
        victim_requests += len(before)
        if collections.Counter((s, e) for _, s, e in after) != pattern:
            incomplete.append((n, len(after)))
        if after and after[0][0] < lease_until * 1000:
            early.append((n, lease_until * 1000 - after[0][0]))
        if collections.Counter((s, e) for _, s, e in before) - pattern:
            doubled.append((n, len(before)))
    if incomplete:
        fail(f"{len(incomplete)} of the killed replica's servers were not read once in full "
             f"({per_collection} requests) after the kill: (server, requests) {incomplete[:5]}")
    if early:
        fail(f"{len(early)} of the killed replica's servers were fetched by a survivor before its "
             f"lease expired: (server, ms too early) {early[:5]}")
    if doubled:
        fail(f"{len(doubled)} of the killed replica's servers were read more than one "
             f"collection's windows before the kill: (server, requests) {doubled[:5]}")
    overread = [(n, len(requests.get(n, []))) for n in stray
                if len(requests.get(n, [])) > units[n]["claims"] * per_collection]
    if overread:
        fail(f"{len(overread)} servers claimed again without the kill were read more often than "
             f"once per claim: (server, requests) {overread[:5]}")

    # ---- summary
    owners = collections.Counter(u["owner"] for u in units.values())
    by_victim = owners.get(a.victim, 0)
    seconds = (int(finished) - int(started)) if finished.isdigit() and started.isdigit() else "?"
    print(f"run {a.run}: {status}, {attempted} servers, {days_stored} server-days stored, "
          f"{seconds} s from start to close; closed {(a.closed_ms - a.kill_ms) / 1000:.1f} s "
          "after the kill")
    print(f"killed replica {a.victim}: finished {by_victim} units, held {len(held)} pending at the "
          f"kill ({victim_requests} of their requests arrived before it); units re-claimed "
          f"(claims = 2): {sum(1 for u in units.values() if u['claims'] == 2)}")
    print("units finished per replica: " +
          ", ".join(f"{o}: {c}" for o, c in sorted(owners.items())))
    print(f"Insights requests: {total_requests} ({per_collection} per collection x {a.count} "
          f"servers = {per_collection * a.count}; extra {total_requests - per_collection * a.count})")
    if stray:
        print(f"note: {len(stray)} units were claimed again without the kill (a live replica's "
              f"lease lapsed): {stray[:5]}")
    if failures:
        for message in failures:
            print(f"FAILED: {message}", file=sys.stderr)
        return 1
    print(f"all checks passed: one daily run, {a.count * a.days} (server, day) stored once and "
          "equal to the fleet's figures, no window read twice under a live lease")
    return 0


if __name__ == "__main__":
    sys.exit(main())
