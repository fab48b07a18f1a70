#!/usr/bin/env python3
"""The SAP HANA scenarios' questions (tests/e2e/scenarios-hana.sh).

    hana.py route --world F --ip IP --owner NODE
        create the route IP/32 in each of the world's route tables, pointing
        at NODE's ENI (a second overlay address: the read-enabled one)
        (venv python, boto3, straight to moto).
    hana.py routes --world F --ip IP --owner NODE
        exit 0 when IP/32 points at NODE's ENI in every one of the world's
        route tables; otherwise prints where it points, exit 1.
    hana.py promoted RSC     (crm_mon --output-as=xml on stdin; stdlib)
        the nodes where an instance of the promotable clone RSC is promoted,
        comma-separated; then a space and those where one is unpromoted.
"""
import json
import sys
import xml.etree.ElementTree as ET


def world_clients(path):
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    import aws  # noqa: E402 (tests/e2e/aws.py: boto3 clients)
    with open(path) as f:
        w = json.load(f)
    ec2, _ = aws.clients(w["endpoint"], w["region"])
    return w, ec2


def routes(w, ec2, ip):
    out = {}
    for t in ec2.describe_route_tables(RouteTableIds=w["route_tables"])["RouteTables"]:
        out[t["RouteTableId"]] = next((r.get("NetworkInterfaceId") for r in t["Routes"]
                                       if r.get("DestinationCidrBlock") == ip + "/32"), None)
    return out


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "promoted":
        root = ET.fromstring(sys.stdin.read())
        roles = {"Promoted": set(), "Unpromoted": set()}
        for clone in root.iter("clone"):
            if clone.get("id") != args[0]:
                continue
            for r in clone.iter("resource"):
                role = {"Master": "Promoted", "Slave": "Unpromoted"}.get(r.get("role"), r.get("role"))
                if r.get("active") == "true" and role in roles:
                    roles[role].update(n.get("name") for n in r.iterfind("node"))
        print(",".join(sorted(roles["Promoted"])), ",".join(sorted(roles["Unpromoted"])))
        return 0
    opts = dict(zip(args[::2], args[1::2]))
    w, ec2 = world_clients(opts["--world"])
    ip, node = opts["--ip"], opts["--owner"]
    eni = w["nodes"][node]["eni_id"]
    if cmd == "route":
        for rt in w["route_tables"]:
            ec2.create_route(RouteTableId=rt, DestinationCidrBlock=ip + "/32",
                             NetworkInterfaceId=eni)
        return 0
    if cmd == "routes":
        got = routes(w, ec2, ip)
        if set(got.values()) != {eni}:
            print(f"MISMATCH: {ip}/32 -> {got}, not {node}'s {eni} in every table")
            return 1
        print(f"AWS: {len(got)} route(s) {ip}/32 -> {eni} ({node})")
        return 0
    sys.exit(f"hana.py: unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main())
