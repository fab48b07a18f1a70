#!/usr/bin/env python3
"""The failover timeline of scenario 1, from the surviving node's logs.

    timeline.py run --kill EPOCH --corosync LOG --pacemaker LOG --watch FILE
                    --node NODE --agents rsc_vip,rsc_eip,rsc_dns [--json OUT]
        prints the timeline (seconds after the kill) and appends one JSON
        line with the numbers to OUT
    timeline.py median FILE
        the median of every number over the JSON lines in FILE

Markers (all from NODE, the survivor, except the kill):
  kill             the harness SIGKILLs the other node's corosync + pacemakerd
  membership       corosync: "A new membership (...) was formed. Members left"
  node lost        pacemaker-controld: "Node X state is now lost"
  DC               pacemaker-controld: "State transition ... -> S_INTEGRATION"
                   (the survivor won the DC election: the harness makes the
                   crashed node1 the DC, the worst case)
  <rsc> start      pacemaker-execd: "executing - rsc:<rsc> action:start"
  <rsc> done       pacemaker-execd: "<rsc> start (...) exited with status N
                   (execution time Nms)"
  AWS switched     the harness's poller (aws.py watch, every 50 ms) first sees
                   every route, the EIP and the record on NODE
Stdlib only. Log timestamps ("Nov 23 16:26:20.039", local time, no year)
are read with the current year.
"""
import json
import re
import statistics
import sys
import time

STAMP = re.compile(r"^([A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d)\.(\d{3})")


def epoch(line):
    m = STAMP.match(line)
    if not m:
        return None
    year = time.localtime().tm_year
    t = time.strptime(f"{year} {m.group(1)}", "%Y %b %d %H:%M:%S")
    return time.mktime(t) + int(m.group(2)) / 1000.0


def first(path, pattern, after):
    rx = re.compile(pattern)
    with open(path, errors="replace") as f:
        for line in f:
            if rx.search(line):
                t = epoch(line)
                if t is not None and t >= after:
                    return t, line
    return None, None


def cmd_run(a):
    kill = float(a.kill)
    m = {}
    t, _ = first(a.corosync, r"A new membership .* was formed\. Members left", kill - 0.001)
    m["membership"] = t
    t, _ = first(a.pacemaker, r"pacemaker-controld.*Node \S+ state is now lost", kill - 0.001)
    m["node_lost"] = t
    t, _ = first(a.pacemaker, r"pacemaker-controld.*State transition \S+ -> S_INTEGRATION", kill)
    m["dc"] = t
    agent_ms = 0
    starts = {}
    for rsc in a.agents.split(","):
        t, _ = first(a.pacemaker, rf"pacemaker-execd.*executing - rsc:{rsc} action:start", kill)
        starts[rsc] = t
        done, line = first(a.pacemaker, rf"pacemaker-execd.*\b{rsc} start \(.*exited with status", kill)
        ms = None
        if line:
            mm = re.search(r"execution time (\d+)ms", line)
            ms = int(mm.group(1)) if mm else None
            st = re.search(r"exited with status (\d+)", line)
            m[f"{rsc}_rc"] = int(st.group(1)) if st else None
        m[f"{rsc}_start"] = t
        m[f"{rsc}_done"] = done
        m[f"{rsc}_ms"] = ms
        if ms is not None:
            agent_ms += ms
    aws = None
    with open(a.watch) as f:
        for line in f:
            ts, _, js = line.partition(" ")
            st = json.loads(js)
            if float(ts) >= kill and st.get("owner") == a.node:
                aws = float(ts)
                break
    m["aws_switched"] = aws

    def rel(t):
        return None if t is None else round(t - kill, 3)

    names = a.agents.split(",")
    rows = [("kill (SIGKILL corosync + pacemakerd)", 0.0),
            ("membership loss (corosync)", rel(m["membership"])),
            ("node lost (pacemaker-controld)", rel(m["node_lost"])),
            ("survivor is DC (election won, S_INTEGRATION)", rel(m["dc"]))]
    for rsc in names:
        rows.append((f"{rsc} start begins (pacemaker-execd)", rel(m[f"{rsc}_start"])))
        rows.append((f"{rsc} start done, {m.get(f'{rsc}_ms')} ms, rc {m.get(f'{rsc}_rc')}",
                     rel(m[f"{rsc}_done"])))
    rows.append(("AWS state switched (routes, EIP, record)", rel(aws)))
    for label, t in rows:
        print(f"  {'   ?  ' if t is None else f'{t:6.3f}'} s  {label}")
    summary = {
        "total_s": rel(aws),
        "detect_s": rel(m["membership"]),
        "pacemaker_lost_s": rel(m["node_lost"]),
        "dc_s": rel(m["dc"]),
        "first_start_s": rel(starts.get(names[0])),
        "agents_s": round(agent_ms / 1000.0, 3),
        "pacemaker_between_s": None,
    }
    # Pacemaker's own share after the first start began: gaps between our
    # starts (CIB updates, transition steps).
    if starts.get(names[0]) and m.get(f"{names[-1]}_done"):
        span = m[f"{names[-1]}_done"] - starts[names[0]]
        summary["pacemaker_between_s"] = round(span - agent_ms / 1000.0, 3)
    missing = [k for k, v in summary.items() if v is None]
    print(f"  => total {summary['total_s']} s: failure detection {summary['detect_s']} s, "
          f"our agents' starts {summary['agents_s']} s (vip+eip+dns execution time), "
          f"Pacemaker between them {summary['pacemaker_between_s']} s")
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps(summary) + "\n")
    return 1 if missing else 0


def cmd_median(a):
    rows = [json.loads(line) for line in open(a[0]) if line.strip()]
    if not rows:
        print("no runs")
        return 1
    keys = rows[0].keys()
    med = {k: statistics.median([r[k] for r in rows if r.get(k) is not None] or [float("nan")])
           for k in keys}
    print(f"  median of {len(rows)} run(s): " + ", ".join(f"{k}={v:.3f}" for k, v in med.items()))
    print("  per run total_s: " + ", ".join(str(r["total_s"]) for r in rows))
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "median":
        sys.exit(cmd_median(sys.argv[2:]))
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["run"])
    ap.add_argument("--kill", required=True)
    ap.add_argument("--corosync", required=True)
    ap.add_argument("--pacemaker", required=True)
    ap.add_argument("--watch", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--agents", required=True)
    ap.add_argument("--json")
    sys.exit(cmd_run(ap.parse_args()))


if __name__ == "__main__":
    main()
