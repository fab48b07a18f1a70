#!/usr/bin/env python3
"""Seed a fresh, isolated overlay-IP world into a running moto server.

    <venv>/bin/python seed.py --endpoint URL [--region us-east-1] [--tables 3]
        [--vip 10.1.0.10] [--vip6 fd00:ac1::10] [--owner node1(default)|node2|none]
        [--source-dest-check on|off] [--extra-tables-without-route N]
        [--assume-role LABEL[=EXTERNAL_ID] ...]

Every run creates a NEW VPC with its own subnets, instances and route tables,
so any number of tests can seed in parallel against one moto server without
seeing each other (as long as they filter by vpc-id). Prints one JSON object
describing the world on stdout; imds.py reads it to impersonate a node.

Layout (mirrors a two-node Pacemaker cluster spread over two AZs), dual-stack:
  VPC 10.0.0.0/16 and an Amazon-provided IPv6 /56 (P00::/56, P random per VPC)
    subnet 10.0.1.0/24 + P01::/64 in <region>a: node1 (10.0.1.10 + P01::10, with a public IP)
    subnet 10.0.2.0/24 + P02::/64 in <region>b: node2 (10.0.2.10 + P02::10, private only)
  (--same-subnet: node2 is 10.0.1.20 + P01::20 in node1's subnet)
  --tables route tables, each with <vip>/32 and <vip6>/128 -> owner's primary ENI
  --extra-tables-without-route route tables with no VIP route
  plus the VPC's main route table (moto creates it; never has the VIP route)
Giving only node1 a public IP lets IMDS tests cover both public-ipv4 and its 404.
--assume-role creates an IAM role <LABEL>-<vpc id> for role_arn /
routing_table_role, whose trust policy lets anyone assume it (with
sts:ExternalId = EXTERNAL_ID when given); its ARN is under "roles"."""
import argparse
import ipaddress
import json
import os
import sys

# Before boto3 is imported: fake credentials (moto accepts any), and never let
# botocore probe the real metadata address 169.254.169.254 for credentials.
for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
             ("AWS_EC2_METADATA_DISABLED", "true")):
    os.environ.setdefault(k, v)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

# Any ami-* id works while moto's AMI validation is off; this one is in moto's
# default catalogue (Ubuntu) in case a caller turns validation on.
AMI = "ami-1e749f67"
VPC_CIDR = "10.0.0.0/16"
NODES = {  # name -> (subnet cidr, AZ suffix, private ip, public?)
    "node1": ("10.0.1.0/24", "a", "10.0.1.10", True),
    "node2": ("10.0.2.0/24", "b", "10.0.2.10", False),
}


def ipv6_layout(vpc_block, cidr, ip):
    """The subnet's /64 of the VPC's /56 (its number is the IPv4 subnet's
    third octet) and the node's address in it (::10, ::20: the IPv4 host
    part)."""
    net = ipaddress.IPv6Network(vpc_block)
    sub = list(net.subnets(new_prefix=64))[int(cidr.split(".")[2])]
    return str(sub), str(sub[int(ip.split(".")[3], 16)])


def tags(kind, name, world):
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name},
                                            {"Key": "ocf-aws-world", "Value": world}]}]


def pick_azs(ec2, region):
    """<region>a and <region>b when moto knows them (it does for us-east-1);
    otherwise the region's first two zones, since moto lacks some letters."""
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    want = [region + "a", region + "b"]
    return want if all(z in zones for z in want) else zones[:2]


def seed(ec2, args):
    vpc = ec2.create_vpc(CidrBlock=VPC_CIDR, AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    vpc_id = vpc["VpcId"]
    vpc_ipv6 = [a["Ipv6CidrBlock"] for a in vpc.get("Ipv6CidrBlockAssociationSet", [])]
    if not vpc_ipv6:
        sys.exit(f"seed: moto gave {vpc_id} no IPv6 CIDR block")
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "ocf-aws-world"}])
    main_rt = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]["RouteTableId"]

    nodes = {}
    layout = dict(NODES)
    zones = pick_azs(ec2, args.region)
    if args.same_subnet:
        # One subnet (so one AZ) for both nodes, as a secondary private IP
        # that moves between them needs.
        layout["node2"] = (NODES["node1"][0], "a", "10.0.1.20", False)
        zones = [zones[0], zones[0]]
    subnets = {}
    for (name, (cidr, _, ip, public)), az in zip(layout.items(), zones):
        cidr6, ip6 = ipv6_layout(vpc_ipv6[0], cidr, ip)
        if cidr not in subnets:
            subnets[cidr] = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, Ipv6CidrBlock=cidr6,
                                              AvailabilityZone=az)["Subnet"]["SubnetId"]
        subnet_id = subnets[cidr]
        if public:
            ec2.modify_subnet_attribute(SubnetId=subnet_id,
                                        MapPublicIpOnLaunch={"Value": True})
        inst = ec2.run_instances(
            ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
            SubnetId=subnet_id, PrivateIpAddress=ip,
            TagSpecifications=tags("instance", name, vpc_id))["Instances"][0]
        eni = inst["NetworkInterfaces"][0]
        if not eni.get("MacAddress"):
            sys.exit(f"seed: moto returned no MacAddress for {eni['NetworkInterfaceId']}")
        # moto ignores RunInstances' Ipv6Addresses: assign it to the ENI.
        ec2.assign_ipv6_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                  Ipv6Addresses=[ip6])
        sdc = {"Value": args.source_dest_check == "on"}
        # moto keeps the instance's and the ENI's flag separately (AWS does
        # not), so set both: an agent may read either.
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=eni["NetworkInterfaceId"], SourceDestCheck=sdc)
        ec2.modify_instance_attribute(InstanceId=inst["InstanceId"], SourceDestCheck=sdc)
        account_id = eni.get("OwnerId", "123456789012")
        nodes[name] = {
            "instance_id": inst["InstanceId"],
            "eni_id": eni["NetworkInterfaceId"],
            "mac": eni["MacAddress"],
            "private_ip": inst["PrivateIpAddress"],
            "az": az,
            "subnet_id": subnet_id,
            "subnet_cidr": cidr,
            "ipv6": ip6,
            "subnet_ipv6_cidr": cidr6,
            "public_ip": inst.get("PublicIpAddress"),
            "device_number": eni["Attachment"]["DeviceIndex"],
            "instance_type": inst["InstanceType"],
            "ami_id": inst["ImageId"],
        }

    def new_table(label):
        return ec2.create_route_table(
            VpcId=vpc_id, TagSpecifications=tags("route-table", label, vpc_id)
        )["RouteTable"]["RouteTableId"]

    dest = f"{args.vip}/32"
    route_tables = []
    for n in range(args.tables):
        rt = new_table(f"vip-{n + 1}")
        if args.owner != "none":
            ec2.create_route(RouteTableId=rt, DestinationCidrBlock=dest,
                             NetworkInterfaceId=nodes[args.owner]["eni_id"])
            ec2.create_route(RouteTableId=rt, DestinationIpv6CidrBlock=f"{args.vip6}/128",
                             NetworkInterfaceId=nodes[args.owner]["eni_id"])
        route_tables.append(rt)
    other_tables = [new_table(f"plain-{n + 1}")
                    for n in range(args.extra_tables_without_route)]

    verify(ec2, vpc_id, dest, route_tables, args.owner, nodes)
    roles = {}
    if args.assume_role:
        iam = boto3.client("iam", endpoint_url=args.endpoint, region_name=args.region)
        for spec in args.assume_role:
            label, _, external_id = spec.partition("=")
            st = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                  "Action": "sts:AssumeRole"}
            if external_id:
                st["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
            role = iam.create_role(RoleName=f"{label}-{vpc_id}", AssumeRolePolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [st]}))
            roles[label] = role["Role"]["Arn"]
    return {
        "endpoint": args.endpoint,
        "region": args.region,
        "account_id": account_id,
        "vpc_id": vpc_id,
        "vpc_cidrs": [VPC_CIDR],
        "vpc_ipv6_cidrs": vpc_ipv6,
        "vip": args.vip,
        "vip6": args.vip6,
        "route_tables": route_tables,
        "other_tables": other_tables,
        "main_route_table": main_rt,
        "nodes": nodes,
        "roles": roles,
    }


def verify(ec2, vpc_id, dest, route_tables, owner, nodes):
    """Read the world back the way an agent would, so a moto upgrade that
    changes behaviour fails here and not deep inside a Rust test."""
    found = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]},
        {"Name": "route.destination-cidr-block", "Values": [dest]}])["RouteTables"]
    if owner == "none":
        if found:
            sys.exit(f"seed: expected no {dest} route, found {len(found)}")
        return
    want_eni = nodes[owner]["eni_id"]
    got = {}
    for t in found:
        for r in t["Routes"]:
            if r.get("DestinationCidrBlock") == dest:
                got[t["RouteTableId"]] = r.get("NetworkInterfaceId")
    if got != {rt: want_eni for rt in route_tables}:
        sys.exit(f"seed: routes {got} do not all point at {owner}'s {want_eni}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True, help="moto URL, e.g. http://127.0.0.1:PORT")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--tables", type=int, default=3)
    ap.add_argument("--vip", default="10.1.0.10")
    ap.add_argument("--vip6", default="fd00:ac1::10",
                    help="IPv6 overlay address (outside the VPC's IPv6 block)")
    ap.add_argument("--owner", choices=["node1", "node2", "none"], default="node1")
    ap.add_argument("--source-dest-check", choices=["on", "off"], default="off")
    ap.add_argument("--same-subnet", action="store_true",
                    help="node2 in node1's subnet (10.0.1.20, same AZ), for secondary-ip")
    ap.add_argument("--extra-tables-without-route", type=int, default=0)
    ap.add_argument("--assume-role", action="append", metavar="LABEL[=EXTERNAL_ID]",
                    help="an IAM role to assume (see above); repeatable")
    args = ap.parse_args()
    ipaddress.IPv4Address(args.vip)  # fail early on a typo
    ipaddress.IPv6Address(args.vip6)

    # Few retries: against loopback a failure is a bug, not a blip, and
    # botocore would otherwise retry moto's 500s (unsupported filters) 5 times.
    ec2 = boto3.client("ec2", endpoint_url=args.endpoint, region_name=args.region,
                       config=Config(retries={"max_attempts": 2, "mode": "standard"}))
    json.dump(seed(ec2, args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
