#!/usr/bin/env python3
"""The emulated AWS as the e2e tests see it: create a world, read its state.

Runs with the moto venv's python (boto3), inside the harness's "aws" network
namespace, talking straight to moto (never through the fault proxy, so the
proxy's counters show only the agents' traffic).

    aws.py world --endpoint URL [--vip IP] [--tables N] [--owner node1|node2|none]
                 [--extra-tables-without-route N] [--same-subnet] [--node3]
        seed.py's world (a fresh VPC, two nodes; --same-subnet: node2 in
        node1's subnet; --node3: a third node, 10.0.3.10 in a third AZ) plus an unassociated Elastic IP (eip.allocation_id,
        eip.public_ip), a public hosted zone (zone.id, zone.name) with the
        record name the dns agent manages (zone.record), and secondary_ip, a
        free address of node1's subnet (the .50) for the secondary-ip agent;
        prints the JSON.
    aws.py state --world F
        where the VIP routes, the EIP and the record point now, as JSON:
        {"routes": {rtb: eni|null}, "routes_owner", "eip": {...}, "eip_owner",
         "record": [values], "record_owner", "owner"} where *_owner is
        node1, node2, none or mixed.
    aws.py wait --world F --owner NODE [--timeout S]
        poll every 50 ms until routes, EIP and record all belong to NODE;
        prints the epoch time it was first seen; exit 1 on timeout (prints
        the last state).
    aws.py check --world F --owner NODE [--parts routes,eip,record]
        exit 0 when every VIP route of the world's route tables points at
        NODE's ENI (and no other table has one), the EIP is associated with
        NODE's ENI and primary private IP, and the record holds exactly
        NODE's private IP; otherwise prints what differs, exit 1. --parts
        checks only those (default: all three).
    aws.py secondary-ip --world F --owner NODE|none
        exit 0 when the world's secondary_ip is a secondary private address
        of NODE's ENI and of no other ENI of the VPC (none: of no ENI), as
        DescribeNetworkInterfaces shows it; otherwise prints who holds it,
        exit 1.
    aws.py hold --world F --owner NODE [--seconds 30] [--interval 0.2]
        sample the state every interval for seconds: exit 0 when every sample
        passes `check --owner NODE`, else 1 at the first that does not.
    aws.py watch --world F --out FILE
        poll every 50 ms until SIGTERM; appends "epoch json" whenever the
        state changes (the failover timeline's "AWS state switched").
    aws.py power --world F [--interval S] [--max-seconds S]
        the nodes' instance states, polled every S (0.1) seconds: one line
        "epoch node state" per node at start and whenever a state changes,
        flushed at once; ends after --max-seconds or when its parent goes
        (lib.sh's fate watcher reads it and turns a stopped instance into a
        dead node, a running one into a booted node).
    aws.py instances --world F
        {"node1": state, "node2": state} now.

`world` terminates every instance of earlier worlds first: fence_ec2 finds a
node by its Name tag, and two live instances named node1 (this world's and
an earlier scenario's in the same moto) would be refused as ambiguous, as
they would be on AWS.
"""
import argparse
import ipaddress
import json
import os
import signal
import sys
import time

for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
             ("AWS_EC2_METADATA_DISABLED", "true")):
    os.environ[k] = v

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "world"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import world  # noqa: E402  (tests/world/world.py: seeding)


def clients(endpoint, region="us-east-1"):
    cfg = Config(retries={"max_attempts": 2, "mode": "standard"},
                 connect_timeout=2, read_timeout=5)
    return (boto3.client("ec2", endpoint_url=endpoint, region_name=region, config=cfg),
            boto3.client("route53", endpoint_url=endpoint, region_name=region, config=cfg))


def terminate_earlier_worlds(endpoint):
    ec2, _ = clients(endpoint)
    ids = [i["InstanceId"]
           for r in ec2.describe_instances(Filters=[{
               "Name": "instance-state-name",
               "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"]
           for i in r["Instances"]]
    if ids:
        ec2.terminate_instances(InstanceIds=ids)


def cmd_world(a):
    terminate_earlier_worlds(a.endpoint)
    w, _ = world.seed(sys.executable, a.endpoint, [
        "--vip", a.vip, "--tables", str(a.tables), "--owner", a.owner,
        "--extra-tables-without-route", str(a.extra_tables_without_route),
        *(["--same-subnet"] if a.same_subnet else [])])
    w["secondary_ip"] = str(ipaddress.ip_network(w["nodes"]["node1"]["subnet_cidr"])[50])
    ec2, r53 = clients(a.endpoint, w["region"])
    if a.node3:
        add_node3(w, ec2)
    eip = ec2.allocate_address(Domain="vpc")
    w["eip"] = {"allocation_id": eip["AllocationId"], "public_ip": eip["PublicIp"]}
    # One zone per world (the VPC id makes the name unique), so parallel or
    # earlier worlds in the same moto never answer for ours.
    name = f"{w['vpc_id']}.e2e.example.internal"
    z = r53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]
    w["zone"] = {"id": z["Id"].split("/")[-1], "name": name, "record": f"app.{name}"}
    json.dump(w, sys.stdout)
    sys.stdout.write("\n")


def add_node3(w, ec2):
    """A third node in a third AZ (10.0.3.10 in 10.0.3.0/24), seeded like
    seed.py's two, for the three-AZ cluster: nodes.node3 in the world."""
    import seed  # tests/world/seed.py: its AMI, tags and IPv6 layout
    n1 = w["nodes"]["node1"]
    used = {n["az"] for n in w["nodes"].values()}
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    az = next(z for z in zones if z not in used)
    cidr, ip = "10.0.3.0/24", "10.0.3.10"
    cidr6, ip6 = seed.ipv6_layout(w["vpc_ipv6_cidrs"][0], cidr, ip)
    subnet = ec2.create_subnet(VpcId=w["vpc_id"], CidrBlock=cidr, Ipv6CidrBlock=cidr6,
                               AvailabilityZone=az)["Subnet"]["SubnetId"]
    inst = ec2.run_instances(ImageId=seed.AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             SubnetId=subnet, PrivateIpAddress=ip,
                             TagSpecifications=seed.tags("instance", "node3", w["vpc_id"])
                             )["Instances"][0]
    eni = inst["NetworkInterfaces"][0]
    ec2.assign_ipv6_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"], Ipv6Addresses=[ip6])
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                           SourceDestCheck={"Value": False})
    ec2.modify_instance_attribute(InstanceId=inst["InstanceId"], SourceDestCheck={"Value": False})
    w["nodes"]["node3"] = {
        "instance_id": inst["InstanceId"], "eni_id": eni["NetworkInterfaceId"],
        "mac": eni["MacAddress"], "private_ip": ip, "az": az, "subnet_id": subnet,
        "subnet_cidr": cidr, "ipv6": ip6, "subnet_ipv6_cidr": cidr6, "public_ip": None,
        "device_number": eni["Attachment"]["DeviceIndex"],
        "instance_type": inst["InstanceType"], "ami_id": n1["ami_id"],
    }


def owner_of(values, by):
    owners = {by.get(v, "none" if v is None else "other") for v in values}
    if not owners:
        return "none"
    return owners.pop() if len(owners) == 1 else "mixed"


def read_state(w, ec2, r53):
    vip = w["vip"] + "/32"
    routes = {}
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [w["vpc_id"]]}])["RouteTables"]
    for t in tables:
        for r in t["Routes"]:
            if r.get("DestinationCidrBlock") == vip:
                routes[t["RouteTableId"]] = r.get("NetworkInterfaceId") or None
    addr = ec2.describe_addresses(AllocationIds=[w["eip"]["allocation_id"]])["Addresses"][0]
    eip = {"eni": addr.get("NetworkInterfaceId") or None,
           "private_ip": addr.get("PrivateIpAddress") or None}
    fqdn = w["zone"]["record"] + "."
    rr = r53.list_resource_record_sets(HostedZoneId=w["zone"]["id"], StartRecordName=fqdn,
                                       StartRecordType="A", MaxItems="1")["ResourceRecordSets"]
    record = []
    for s in rr:
        if s["Name"].lower() == fqdn.lower() and s["Type"] == "A":
            record = [v["Value"] for v in s.get("ResourceRecords", [])]
    enis = {n["eni_id"]: name for name, n in w["nodes"].items()}
    ips = {n["private_ip"]: name for name, n in w["nodes"].items()}
    st = {
        "routes": routes,
        "routes_owner": owner_of(list(routes.values()), enis),
        "other_tables_with_route": sorted(set(routes) - set(w["route_tables"])),
        "eip": eip,
        "eip_owner": owner_of([eip["eni"]] if eip["eni"] else [], enis),
        "record": record,
        "record_owner": owner_of(record, ips),
    }
    parts = {st["routes_owner"], st["eip_owner"], st["record_owner"]}
    st["owner"] = parts.pop() if len(parts) == 1 else "mixed"
    return st


def load(path):
    with open(path) as f:
        return json.load(f)


def cmd_state(a):
    w = load(a.world)
    print(json.dumps(read_state(w, *clients(a.endpoint or w["endpoint"], w["region"]))))


def cmd_wait(a):
    w = load(a.world)
    c = clients(a.endpoint or w["endpoint"], w["region"])
    end = time.monotonic() + a.timeout
    st = None
    while True:
        try:
            st = read_state(w, *c)
        except Exception as e:  # moto busy: try again until the deadline
            st = {"error": str(e)}
        if st.get("owner") == a.owner:
            print(f"{time.time():.3f}")
            return 0
        if time.monotonic() > end:
            print(json.dumps(st))
            return 1
        time.sleep(0.05)


PARTS = ("routes", "eip", "record")


def problems(w, st, node, parts=PARTS):
    n = w["nodes"][node]
    out = []
    if "routes" in parts:
        for rt in w["route_tables"]:
            if st["routes"].get(rt) != n["eni_id"]:
                out.append(f"route {w['vip']}/32 in {rt} -> {st['routes'].get(rt)}, "
                           f"not {node}'s {n['eni_id']}")
        for rt in st["other_tables_with_route"]:
            out.append(f"{rt} (not a VIP table) got a route for {w['vip']}/32")
    if "eip" in parts and st["eip"] != {"eni": n["eni_id"], "private_ip": n["private_ip"]}:
        out.append(f"EIP {w['eip']['public_ip']} -> {st['eip']}, not {node}'s "
                   f"{n['eni_id']}/{n['private_ip']}")
    if "record" in parts and st["record"] != [n["private_ip"]]:
        out.append(f"{w['zone']['record']} -> {st['record']}, not [{n['private_ip']}]")
    return out


def cmd_check(a):
    w = load(a.world)
    parts = a.parts.split(",")
    unknown = set(parts) - set(PARTS)
    if unknown:
        sys.exit(f"aws.py check: unknown --parts {sorted(unknown)} (have: {','.join(PARTS)})")
    st = read_state(w, *clients(a.endpoint or w["endpoint"], w["region"]))
    bad = problems(w, st, a.owner, parts)
    n = w["nodes"][a.owner]
    if bad:
        for p in bad:
            print("MISMATCH: " + p)
        return 1
    said = {"routes": f"{len(w['route_tables'])} route(s) {w['vip']}/32 -> {n['eni_id']}",
            "eip": f"EIP {w['eip']['public_ip']} -> {n['eni_id']}/{n['private_ip']}",
            "record": f"{w['zone']['record']} A {n['private_ip']}"}
    print(f"AWS: {', '.join(said[p] for p in PARTS if p in parts)} ({a.owner})")
    return 0


def secondary_holders(w, ec2):
    """ENI id -> node name (or "other") of every ENI of the VPC holding the
    world's secondary_ip as a secondary (not primary) private address. Read
    from the VPC's whole list, not with the addresses.private-ip-address
    filter: moto 5.2.5's does not find secondary addresses."""
    names = {n["eni_id"]: name for name, n in w["nodes"].items()}
    out = {}
    pages = ec2.get_paginator("describe_network_interfaces").paginate(
        Filters=[{"Name": "vpc-id", "Values": [w["vpc_id"]]}])
    for page in pages:
        for eni in page["NetworkInterfaces"]:
            for addr in eni.get("PrivateIpAddresses", []):
                if addr.get("PrivateIpAddress") == w["secondary_ip"] and not addr.get("Primary"):
                    out[eni["NetworkInterfaceId"]] = names.get(eni["NetworkInterfaceId"], "other")
    return out


def cmd_secondary_ip(a):
    w = load(a.world)
    ec2, _ = clients(a.endpoint or w["endpoint"], w["region"])
    held = secondary_holders(w, ec2)
    want = {} if a.owner == "none" else {w["nodes"][a.owner]["eni_id"]: a.owner}

    def enis(d):
        return ", ".join(f"{e} ({n})" for e, n in sorted(d.items())) + " only" if d else "no ENI"

    if held != want:
        print(f"MISMATCH: {w['secondary_ip']} is a secondary private IP of {enis(held)}, "
              f"not of {enis(want)}")
        return 1
    print(f"AWS: {w['secondary_ip']} is a secondary private IP of {enis(held)}")
    return 0


def cmd_hold(a):
    """Every --interval for --seconds: the whole state belongs to --owner;
    the first sample that does not ends it (exit 1, what differs)."""
    w = load(a.world)
    c = clients(a.endpoint or w["endpoint"], w["region"])
    end = time.monotonic() + a.seconds
    n = 0
    while time.monotonic() < end:
        st = read_state(w, *c)
        n += 1
        bad = problems(w, st, a.owner)
        if bad:
            print(f"sample {n}: " + "; ".join(bad))
            return 1
        time.sleep(a.interval)
    print(f"AWS: {n} samples, every route, the EIP and the record on {a.owner} in each")
    return 0


def cmd_watch(a):
    w = load(a.world)
    c = clients(a.endpoint or w["endpoint"], w["region"])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    last = None
    end = time.monotonic() + a.max_seconds
    with open(a.out, "a", buffering=1) as out:
        while not stop and time.monotonic() < end:
            try:
                st = read_state(w, *c)
                key = (st["routes_owner"], st["eip_owner"], st["record_owner"])
                if key != last:
                    out.write(f"{time.time():.3f} {json.dumps(st)}\n")
                    last = key
            except Exception as e:
                out.write(f"{time.time():.3f} {json.dumps({'error': str(e)})}\n")
            time.sleep(0.05)


def instance_states(w, ec2):
    ids = {n["instance_id"]: name for name, n in w["nodes"].items()}
    out = {}
    for r in ec2.describe_instances(InstanceIds=list(ids))["Reservations"]:
        for i in r["Instances"]:
            out[ids[i["InstanceId"]]] = i["State"]["Name"]
    return out


def cmd_instances(a):
    w = load(a.world)
    ec2, _ = clients(a.endpoint or w["endpoint"], w["region"])
    print(json.dumps(instance_states(w, ec2)))


def cmd_power(a):
    w = load(a.world)
    ec2, _ = clients(a.endpoint or w["endpoint"], w["region"])
    parent = os.getppid()
    end = time.monotonic() + a.max_seconds
    last = {}
    while time.monotonic() < end and os.getppid() == parent:
        try:
            now = instance_states(w, ec2)
        except Exception:  # moto busy: the next poll will tell
            now = {}
        for node, state in sorted(now.items()):
            if last.get(node) != state:
                try:
                    print(f"{time.time():.3f} {node} {state}", flush=True)
                except BrokenPipeError:
                    return 0
                last[node] = state
        time.sleep(a.interval)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("world")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--vip", default="192.168.100.10")
    p.add_argument("--tables", type=int, default=2)
    p.add_argument("--owner", default="node2")
    p.add_argument("--extra-tables-without-route", type=int, default=1)
    p.add_argument("--same-subnet", action="store_true")
    p.add_argument("--node3", action="store_true", help="a third node in a third AZ")
    p.set_defaults(fn=cmd_world)
    for name, fn in (("state", cmd_state), ("wait", cmd_wait), ("watch", cmd_watch),
                     ("check", cmd_check), ("power", cmd_power), ("instances", cmd_instances),
                     ("secondary-ip", cmd_secondary_ip), ("hold", cmd_hold)):
        p = sub.add_parser(name)
        p.add_argument("--world", required=True)
        p.add_argument("--endpoint", help="default: the world's")
        if name in ("wait", "check", "secondary-ip", "hold"):
            p.add_argument("--owner", required=True)
        if name == "check":
            p.add_argument("--parts", default=",".join(PARTS))
        if name == "wait":
            p.add_argument("--timeout", type=float, default=60)
        if name == "watch":
            p.add_argument("--out", required=True)
        if name in ("watch", "power"):
            p.add_argument("--max-seconds", type=float, default=300)
        if name == "power":
            p.add_argument("--interval", type=float, default=0.1)
        if name == "hold":
            p.add_argument("--seconds", type=float, default=30)
            p.add_argument("--interval", type=float, default=0.2)
        p.set_defaults(fn=fn)
    a = ap.parse_args()
    sys.exit(a.fn(a) or 0)


if __name__ == "__main__":
    main()
