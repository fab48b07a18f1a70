#!/usr/bin/env python3
"""The failover timeline of scenario 1, from the surviving node's logs.

    timeline.py run --kill EPOCH --corosync LOG --pacemaker LOG --watch FILE
                    --node NODE --agents rsc_vip,rsc_eip,rsc_dns [--json OUT]
                    [--fate FILE --target NODE]
        prints the timeline (seconds after the kill) and appends one JSON
        line with the numbers to OUT
    timeline.py median FILE
        the median of every number over the JSON lines in FILE
    timeline.py bars FILE [--width N]
        the last run in FILE as a bar chart on one time axis (the demo)

Markers (all from NODE, the survivor, except the kill):
  kill             the harness SIGKILLs the other node's corosync + pacemakerd
  membership       corosync: "A new membership (...) was formed. Members left"
  node lost        pacemaker-controld: "Node X state is now lost"
  DC               pacemaker-controld: "State transition ... -> S_INTEGRATION"
                   (the survivor won the DC election: the harness makes the
                   crashed node1 the DC, the worst case)
  fencing requested  pacemaker-controld: "Requesting fencing (reboot) of node X"
                   (Pacemaker 3: "... targeting node X")
  fence_ec2 begins pacemaker-fenced: "Delaying 'reboot' action targeting X using
                   D for Ns" (pcmk_delay_max's random delay) + N seconds
  instance stopped the fate watcher (tests/e2e/lib.sh, --fate) first sees X's
                   instance stopped in EC2; "powered off" once it has killed X
  instance running the fate watcher sees it running again (the reboot's on,
                   after the test world's boot time, E2E_BOOT_MS)
  fencing done     pacemaker-fenced: "Operation 'reboot' ... targeting X ...
                   returned 0"
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
    fence = {}
    if a.target:
        # Pacemaker 2.1: "of node X"; 3.0: "targeting node X".
        t, _ = first(a.pacemaker, rf"pacemaker-controld.*Requesting fencing \(\w+\) (?:of|targeting) node {a.target}\b", kill)
        fence["requested"] = t
        t, line = first(a.pacemaker, rf"pacemaker-fenced.*Delaying '\w+' action targeting {a.target} using \S+ for \d+s", kill)
        delay = int(re.search(r" for (\d+)s", line).group(1)) if line else 0
        fence["delay_s"] = delay
        # No delay, no "Delaying" line: the agent begins with the request.
        fence["agent"] = (t + delay) if t else fence["requested"]
        t, _ = first(a.pacemaker, rf"pacemaker-fenced.*Operation '\w+' \[\d+\] targeting {a.target} using \S+ returned 0", kill)
        fence["done"] = t
        fence["stopped"] = fence["killed"] = fence["running"] = None
        if a.fate:
            for line in open(a.fate):
                ts, node, ev = line.split()
                ts = float(ts)
                if node != a.target or ts < kill:
                    continue
                if ev == "stopped" and fence["stopped"] is None:
                    fence["stopped"] = ts
                elif ev == "killed" and fence["killed"] is None:
                    fence["killed"] = ts
                elif ev == "running" and fence["stopped"] and fence["running"] is None:
                    fence["running"] = ts
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
    if a.target:
        rows += [(f"fencing of {a.target} requested (pacemaker-controld)", rel(fence["requested"])),
                 (f"fence_ec2 begins, after pcmk_delay_max's random {fence['delay_s']} s",
                  rel(fence["agent"])),
                 (f"{a.target}'s instance stopped in EC2 (StopInstances)", rel(fence["stopped"])),
                 (f"{a.target} powered off (fate watcher: links down, processes killed)",
                  rel(fence["killed"])),
                 (f"{a.target}'s instance running again (the reboot's on)", rel(fence["running"])),
                 ("fencing done (fence_ec2 reboot returned 0)", rel(fence["done"]))]
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
    if a.target:
        def span(x, y):
            return None if fence.get(x) is None or fence.get(y) is None else round(fence[y] - fence[x], 3)
        summary["fencing_s"] = span("requested", "done")
        summary["fence_delay_s"] = fence["delay_s"]
        summary["fence_off_s"] = span("agent", "stopped")
        summary["fence_on_s"] = span("stopped", "done")
        summary["to_fencing_s"] = (None if fence["requested"] is None or m["node_lost"] is None
                                   else round(fence["requested"] - m["node_lost"], 3))
        summary["after_fencing_s"] = (None if fence["done"] is None or not starts.get(names[0])
                                      else round(starts[names[0]] - fence["done"], 3))
    # Pacemaker's own share after the first start began: gaps between our
    # starts (CIB updates, transition steps).
    if starts.get(names[0]) and m.get(f"{names[-1]}_done"):
        span = m[f"{names[-1]}_done"] - starts[names[0]]
        summary["pacemaker_between_s"] = round(span - agent_ms / 1000.0, 3)
    # Each step as (label, from, to) in seconds after the kill, for bars.
    ev = [("failure detection (corosync)", 0.0, rel(m["membership"]))]
    if a.target:
        ev += [("Pacemaker: node lost -> fencing requested", rel(m["node_lost"]), rel(fence["requested"])),
               (f"fencing: random delay (pcmk_delay_max, {fence['delay_s']} s)",
                rel(fence["requested"]), rel(fence["agent"])),
               (f"fencing: fence_ec2 off ({a.target} stopped)", rel(fence["agent"]), rel(fence["stopped"])),
               (f"fencing: fence_ec2 on ({a.target} boots)", rel(fence["stopped"]), rel(fence["done"])),
               ("Pacemaker: fenced -> first start", rel(fence["done"]), rel(starts.get(names[0])))]
    else:
        ev.append(("Pacemaker: node lost -> first start", rel(m["node_lost"]), rel(starts.get(names[0]))))
    for rsc in names:
        ev.append((f"{rsc} start", rel(m[f"{rsc}_start"]), rel(m[f"{rsc}_done"])))
    ev.append(("AWS state switched (routes, EIP, record)", rel(aws), rel(aws)))
    missing = [k for k, v in summary.items() if v is None]
    summary["events"] = ev
    print(f"  => total {summary['total_s']} s: failure detection {summary['detect_s']} s, "
          + (f"fencing {summary['fencing_s']} s (random delay {summary['fence_delay_s']} s, "
             f"off {summary['fence_off_s']} s, on {summary['fence_on_s']} s), "
             f"Pacemaker before/after fencing {summary['to_fencing_s']}/{summary['after_fencing_s']} s, "
             if a.target else "")
          + f"our agents' starts {summary['agents_s']} s (vip+eip+dns execution time), "
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
    keys = [k for k, v in rows[0].items() if not isinstance(v, list)]
    med = {k: statistics.median([r[k] for r in rows if r.get(k) is not None] or [float("nan")])
           for k in keys}
    print(f"  median of {len(rows)} run(s): " + ", ".join(f"{k}={v:.3f}" for k, v in med.items()))
    print("  per run total_s: " + ", ".join(str(r["total_s"]) for r in rows))
    return 0


def cmd_bars(args):
    width = 40
    if "--width" in args:
        width = int(args[args.index("--width") + 1])
    rows = [json.loads(line) for line in open(args[0]) if line.strip()]
    ev = [e for e in rows[-1]["events"] if e[1] is not None and e[2] is not None]
    end = max(e[2] for e in ev)
    scale = width / end if end > 0 else 1.0
    lw = max(len(e[0]) for e in ev)
    print(f"  {'':{lw}}  seconds after node1 crashed")
    for label, t0, t1 in ev:
        a, b = round(t0 * scale), round(t1 * scale)
        bar = " " * a + ("█" * (b - a) if b > a else "▏")
        span = f"{t0:5.2f}" if t1 == t0 else f"{t0:5.2f}-{t1:5.2f} ({t1 - t0:.2f} s)"
        print(f"  {label:<{lw}}  {bar:<{width + 1}} {span}")
    step = next((st for st in (1, 2, 5, 10, 20) if st * scale >= 4), 50)
    axis, ticks = [" "] * (width + 1), [" "] * (width + 8)
    for t in range(0, int(end) + 1, step):
        x = round(t * scale)
        axis[x] = "┼" if x else "├"
        for i, ch in enumerate(str(t)):
            if x + i < len(ticks):
                ticks[x + i] = ch
    axis = "".join(axis).replace(" ", "─")
    print(f"  {'':{lw}}  {axis}")
    print(f"  {'':{lw}}  {''.join(ticks).rstrip()}")
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "bars":
        sys.exit(cmd_bars(sys.argv[2:]))
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
    ap.add_argument("--fate", help="the fate watcher's log (tests/e2e/lib.sh)")
    ap.add_argument("--target", help="the fenced node")
    sys.exit(cmd_run(ap.parse_args()))


if __name__ == "__main__":
    main()
