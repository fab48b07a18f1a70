#!/usr/bin/env python3
"""Questions about `crm_mon --one-shot --output-as=xml` (read on stdin).

    pcmk.py ready N          exit 0 when N nodes are online and a DC is elected
    pcmk.py where RSC        nodes where RSC is started (comma-separated, may be empty)
    pcmk.py stopped RSC      exit 0 when RSC is active nowhere
    pcmk.py all-on NODE RSC...  exit 0 when every RSC is started on NODE (and only there)
    pcmk.py idle             exit 0 when no resource is active anywhere
    pcmk.py failures         one line per failed action: node op_key exitcode exitreason
    pcmk.py dc               the DC's name
    pcmk.py dc-version       the Pacemaker version the DC runs

Stdlib only: runs with /usr/bin/python3 inside a node's namespaces.
"""
import sys
import xml.etree.ElementTree as ET


def main():
    root = ET.fromstring(sys.stdin.read())
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "ready":
        dc = root.find("./summary/current_dc")
        online = [n for n in root.iterfind("./nodes/node") if n.get("online") == "true"]
        ok = dc is not None and dc.get("present") == "true" and len(online) == int(args[0])
        sys.exit(0 if ok else 1)
    if cmd == "dc":
        dc = root.find("./summary/current_dc")
        print(dc.get("name", "") if dc is not None else "")
        return
    if cmd == "dc-version":
        dc = root.find("./summary/current_dc")
        print(dc.get("version", "") if dc is not None else "")
        return
    if cmd in ("where", "stopped"):
        nodes = set()
        for r in root.iter("resource"):
            if r.get("id") == args[0] and r.get("active") == "true" and r.get("role") == "Started":
                nodes.update(n.get("name") for n in r.iterfind("node"))
        if cmd == "where":
            print(",".join(sorted(nodes)))
            return
        active = [r for r in root.iter("resource")
                  if r.get("id") == args[0] and r.get("active") == "true"]
        sys.exit(0 if not active else 1)
    if cmd == "idle":
        sys.exit(1 if any(r.get("active") == "true" for r in root.iter("resource")) else 0)
    if cmd == "all-on":
        for rsc in args[1:]:
            nodes = set()
            for r in root.iter("resource"):
                if r.get("id") == rsc and r.get("active") == "true" and r.get("role") == "Started":
                    nodes.update(n.get("name") for n in r.iterfind("node"))
            if nodes != {args[0]}:
                sys.exit(1)
        return
    if cmd == "failures":
        for f in root.iterfind("./failures/failure"):
            print(f.get("node"), f.get("op_key"), f.get("exitcode"), f.get("exitreason", ""))
        return
    sys.exit(f"pcmk.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
