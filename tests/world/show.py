#!/usr/bin/env python3
"""Show where a VPC's <vip>/32 routes point, for the failover demo.

    <venv>/bin/python show.py --endpoint URL --vpc VPC_ID [--vip 10.1.0.10]
                              [--region us-east-1] [--json]

One line per route table of the VPC: its VIP route's target ENI and, looked
up from the ENI's attachment, the instance and its Name tag (node1/node2 in a
seeded world). Read-only; run it before and after a failover.
"""
import argparse
import json
import os
import sys

for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
             ("AWS_EC2_METADATA_DISABLED", "true")):
    os.environ.setdefault(k, v)

import boto3  # noqa: E402


def name_tag(resource):
    return next((t["Value"] for t in resource.get("Tags", []) if t["Key"] == "Name"), None)


def collect(ec2, vpc, vip):
    dest = f"{vip}/32"
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    rows = []
    for t in tables:
        route = next((r for r in t["Routes"] if r.get("DestinationCidrBlock") == dest), {})
        eni = route.get("NetworkInterfaceId")
        rows.append({
            "route_table_id": t["RouteTableId"],
            "name": name_tag(t),
            "main": any(a.get("Main") for a in t.get("Associations", [])),
            "eni_id": eni,
            # moto leaves InstanceId off ENI-targeted routes; filled in below.
            "instance_id": route.get("InstanceId"),
            "other_target": None if eni or not route else (
                route.get("GatewayId") or route.get("InstanceId") or "?"),
            "state": route.get("State"),
            "node": None,
        })
    # Stable order for before/after comparisons: by name, main table last.
    rows.sort(key=lambda r: (r["main"], r["name"] or "~", r["route_table_id"]))

    # A filter (not NetworkInterfaceIds) so an ENI that has vanished simply
    # shows as unknown instead of failing the whole lookup.
    enis = sorted({r["eni_id"] for r in rows if r["eni_id"]})
    eni_instance = {}
    if enis:
        for e in ec2.describe_network_interfaces(Filters=[
                {"Name": "network-interface-id", "Values": enis}])["NetworkInterfaces"]:
            eni_instance[e["NetworkInterfaceId"]] = e.get("Attachment", {}).get("InstanceId")
    for r in rows:
        if r["eni_id"]:
            r["instance_id"] = eni_instance.get(r["eni_id"])
    instances = sorted({r["instance_id"] for r in rows if r["instance_id"]})
    names = {}
    if instances:
        for res in ec2.describe_instances(Filters=[
                {"Name": "instance-id", "Values": instances}])["Reservations"]:
            for i in res["Instances"]:
                names[i["InstanceId"]] = name_tag(i)
    for r in rows:
        r["node"] = names.get(r["instance_id"])
    return rows


def render(vpc, vip, rows):
    head = ("ROUTE TABLE", "NAME", f"{vip}/32 ->", "INSTANCE", "NODE")
    lines = []
    for r in rows:
        if r["eni_id"]:
            target = r["eni_id"]
        elif r["other_target"]:
            target = f"({r['other_target']})"
        else:
            target = "(no route)"
        lines.append((r["route_table_id"], (r["name"] or "-") + (" (main)" if r["main"] else ""),
                      target, r["instance_id"] or "-", r["node"] or "-"))
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    out = [f"VPC {vpc}"]
    for row in [head] + lines:
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    owners = {}
    for r in rows:
        if r["eni_id"]:
            owners[r["node"] or r["eni_id"]] = owners.get(r["node"] or r["eni_id"], 0) + 1
    summary = ", ".join(f"{k} in {v} table(s)" for k, v in sorted(owners.items()))
    out.append(f"VIP {vip} -> " + (summary or "nowhere"))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--vpc", required=True)
    ap.add_argument("--vip", default="10.1.0.10")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    ec2 = boto3.client("ec2", endpoint_url=args.endpoint, region_name=args.region)
    rows = collect(ec2, args.vpc, args.vip)
    if not rows:
        sys.exit(f"show: no route tables in {args.vpc} (wrong --vpc or --region?)")
    if args.json:
        json.dump({"vpc_id": args.vpc, "vip": args.vip, "tables": rows}, sys.stdout, indent=2)
        print()
    else:
        print(render(args.vpc, args.vip, rows))


if __name__ == "__main__":
    main()
