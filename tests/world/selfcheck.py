#!/usr/bin/env python3
"""Self-check of the test world's helpers against a real moto.

    <venv>/bin/python tests/world/selfcheck.py [--endpoint URL] [-k WORD] [-v]

Starts moto (unless --endpoint names a running one), a seeded world, imds.py,
a fault_proxy.py in front of each, and dns_responder.py; runs every check
(-k: only those whose name contains WORD); stops everything it started; prints
one line per check and "N passed, N failed" (exit 1 on any failure). ~10 s.

Besides the helpers it pins the moto 5.2.5 behaviours README.md documents
(Route 53, DescribeAvailabilityZones, Elastic IPs), so a moto upgrade that
changes one shows up here and not as a puzzling agent test failure.
"""
import argparse
import http.client
import ipaddress
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
             ("AWS_EC2_METADATA_DISABLED", "true")):
    os.environ.setdefault(k, v)

import boto3  # noqa: E402
import botocore.exceptions as bex  # noqa: E402
from botocore.config import Config  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import dns_responder  # noqa: E402  (its query() is the dig stand-in)
import world  # noqa: E402  (starts and stops the emulators)

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


class World:
    """Processes, ports and clients shared by the checks."""

    def __init__(self, tmp, verbose):
        self.tmp, self.verbose = tmp, verbose
        # This python is the venv's: moto and seed.py run with it too.
        self.em = world.Emulators(tmp, venv=os.path.dirname(os.path.dirname(sys.executable)))

    def clients(self, url, **cfg):
        c = Config(retries={"total_max_attempts": 1}, connect_timeout=2,
                   read_timeout=cfg.get("read_timeout", 5))
        return (boto3.client("ec2", endpoint_url=url, region_name="us-east-1", config=c),
                boto3.client("route53", endpoint_url=url, region_name="us-east-1", config=c))

    def ctl(self, op, base=None, **params):
        base = base or self.proxy
        q = "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in params.items())
        method = "GET" if op in ("stats", "log", "rules") else "POST"
        return world.http(method, f"{base}/_proxy/{op}" + (f"?{q}" if q else ""), timeout=5)


def expect_error(fn, code, status):
    try:
        fn()
    except bex.ClientError as e:
        got = (e.response["Error"].get("Code"), e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status), f"expected {code}/{status}, got {got}: {e}"
        return e
    raise AssertionError(f"expected {code}/{status}, call succeeded")


def rule(w, **params):
    return w.ctl("rule", **params)

# ------------------------------------------------------------------ EC2


@check
def proxy_forwards_ec2(w):
    w.ctl("reset")
    flt = [{"Name": "vpc-id", "Values": [w.world["vpc_id"]]}]
    via = sorted(t["RouteTableId"] for t in w.pec2.describe_route_tables(Filters=flt)["RouteTables"])
    direct = sorted(t["RouteTableId"] for t in w.ec2.describe_route_tables(Filters=flt)["RouteTables"])
    assert via == direct and len(via) == 4, (via, direct)
    st = w.ctl("stats")
    assert st["requests"] == 1 and st["by_action"] == {"DescribeRouteTables": 1}, st


@check
def proxy_keepalive_and_chunked(w):
    w.ctl("reset")
    c = http.client.HTTPConnection("127.0.0.1", w.proxy_port, timeout=5)
    hdr = {"Content-Type": "application/x-www-form-urlencoded",
           "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ec2/"
                            "aws4_request, SignedHeaders=host, Signature=0"}
    body = b"Action=DescribeVpcs&Version=2016-11-15"
    for _ in range(3):  # one client connection, although moto closes each one
        c.request("POST", "/", body=body, headers=hdr)
        r = c.getresponse()
        assert r.status == 200 and b"<vpcSet>" in r.read()
    c.putrequest("POST", "/")
    for k, v in hdr.items():
        c.putheader(k, v)
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    c.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    r = c.getresponse()
    assert r.status == 200 and b"<vpcSet>" in r.read()
    assert w.ctl("stats")["by_action"] == {"DescribeVpcs": 4}


@check
def ec2_throttle(w):
    w.ctl("reset")
    rule(w, action="DescribeRouteTables", fault="throttle", count=1)
    e = expect_error(w.pec2.describe_route_tables, "RequestLimitExceeded", 503)
    assert e.response["Error"]["Message"] == "Request limit exceeded."
    assert e.response["ResponseMetadata"]["RequestId"]
    w.pec2.describe_route_tables()  # expired


@check
def ec2_status_500_503(w):
    w.ctl("reset")
    rule(w, action="DescribeRouteTables", fault="status", code=500, count=1)
    expect_error(w.pec2.describe_route_tables, "InternalError", 500)
    rule(w, action="DescribeRouteTables", fault="status", code=503, count=1)
    expect_error(w.pec2.describe_route_tables, "Unavailable", 503)
    rule(w, action="DescribeAvailabilityZones", fault="status", code=400, count=1,
         error="InvalidParameterValue", message="Invalid availability zone: [us-east-1z]")
    expect_error(lambda: w.pec2.describe_availability_zones(ZoneNames=["us-east-1z"]),
                 "InvalidParameterValue", 400)


@check
def ec2_deny(w):
    w.ctl("reset")
    rule(w, action="ReplaceRoute", fault="deny", count=1)
    e = expect_error(lambda: w.pec2.replace_route(
        RouteTableId=w.world["route_tables"][0], DestinationCidrBlock=w.world["vip"] + "/32",
        NetworkInterfaceId=w.world["nodes"]["node2"]["eni_id"]), "UnauthorizedOperation", 403)
    msg = e.response["Error"]["Message"]
    assert msg.startswith("You are not authorized to perform this operation. User: ")
    assert "ec2:ReplaceRoute" in msg and "Encoded authorization failure message: " in msg
    assert w.ctl("stats")["by_action"] == {"ReplaceRoute": 1}  # never reached moto


@check
def ec2_error_body_shape(w):
    w.ctl("reset")
    rule(w, action="DescribeVpcs", fault="throttle", count=1)
    c = http.client.HTTPConnection("127.0.0.1", w.proxy_port, timeout=5)
    c.request("POST", "/", body="Action=DescribeVpcs&Version=2016-11-15",
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    body = r.read().decode()
    assert r.status == 503 and r.getheader("Content-Type") == "text/xml;charset=UTF-8"
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                           "<Code>RequestLimitExceeded</Code>"), body
    root = ET.fromstring(body)
    assert root.tag == "Response" and root.find("RequestID").text, body


@check
def ec2_reset(w):
    w.ctl("reset")
    rule(w, action="DescribeRouteTables", fault="reset", count=1)
    try:
        w.pec2.describe_route_tables()
        raise AssertionError("no error")
    except bex.ConnectionClosedError:
        pass
    rule(w, action="DescribeVpcs", fault="reset", count=1)
    s = socket.create_connection(("127.0.0.1", w.proxy_port), timeout=5)
    body = b"Action=DescribeVpcs&Version=2016-11-15"
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
              b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    try:
        got = s.recv(100)
        raise AssertionError(f"expected RST, got {got!r}")
    except ConnectionResetError:
        pass
    finally:
        s.close()


@check
def ec2_hang_does_not_block_others(w):
    w.ctl("reset")
    rule(w, action="DescribeRouteTables", fault="hang", count=1)
    pec2_short, _ = w.clients(w.proxy, read_timeout=1)
    result = {}

    def hung():
        t = time.monotonic()
        try:
            pec2_short.describe_route_tables()
        except bex.ReadTimeoutError:
            result["timeout_after"] = time.monotonic() - t

    th = threading.Thread(target=hung)
    th.start()
    for _ in range(100):
        if w.ctl("stats")["hanging"] == 1:
            break
        time.sleep(0.01)
    assert w.ctl("stats")["hanging"] == 1
    t = time.monotonic()
    w.pec2.describe_vpcs()  # another connection is served meanwhile
    assert time.monotonic() - t < 0.5
    th.join(5)
    assert 0.9 < result.get("timeout_after", 0) < 2, result
    for _ in range(100):  # the proxy notices the client gave up
        if w.ctl("stats")["hanging"] == 0:
            break
        time.sleep(0.02)
    assert w.ctl("stats")["hanging"] == 0


@check
def ec2_latency(w):
    w.ctl("reset")
    rule(w, action="DescribeRouteTables", fault="latency", ms=300, count=1)
    t = time.monotonic()
    w.pec2.describe_route_tables()
    assert time.monotonic() - t >= 0.3
    t = time.monotonic()
    w.pec2.describe_route_tables()
    assert time.monotonic() - t < 0.25


@check
def rule_count_after_and_wildcard(w):
    w.ctl("reset")
    rule(w, action="DescribeRouteTables", fault="throttle", count=2)
    expect_error(w.pec2.describe_route_tables, "RequestLimitExceeded", 503)
    w.pec2.describe_vpcs()  # other actions untouched
    expect_error(w.pec2.describe_route_tables, "RequestLimitExceeded", 503)
    w.pec2.describe_route_tables()
    assert w.ctl("stats")["rules"] == 0
    rule(w, action="DescribeRouteTables", fault="status", code=500, after=1, count=1)
    w.pec2.describe_route_tables()
    expect_error(w.pec2.describe_route_tables, "InternalError", 500)
    w.pec2.describe_route_tables()
    rule(w, action="*", fault="deny", count=1)
    expect_error(w.pec2.describe_vpcs, "UnauthorizedOperation", 403)
    w.pec2.describe_vpcs()
    st = w.ctl("stats")
    assert st["faults_injected"] == 4 and st["by_fault"] == {
        "throttle": 2, "status": 1, "deny": 1}, st
    log = w.ctl("log")
    assert [e["fault"] for e in log[:3]] == ["throttle", None, "throttle"], log


@check
def zone_state_rewrite(w):
    w.ctl("reset")
    w.ctl("zone-state", zone="us-east-1a", state="impaired")
    zones = {z["ZoneName"]: z["State"]
             for z in w.pec2.describe_availability_zones()["AvailabilityZones"]}
    assert zones["us-east-1a"] == "impaired" and zones["us-east-1b"] == "available", zones
    one = w.pec2.describe_availability_zones(ZoneNames=["us-east-1a"])["AvailabilityZones"]
    assert [z["State"] for z in one] == ["impaired"]
    avail = w.pec2.describe_availability_zones(
        Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"]
    assert "us-east-1a" not in [z["ZoneName"] for z in avail] and avail
    w.ctl("zone-state", zone="us-east-1a", state="available")
    one = w.pec2.describe_availability_zones(ZoneNames=["us-east-1a"])["AvailabilityZones"]
    assert [z["State"] for z in one] == ["available"]

@check
def instance_state_rewrite(w):
    """instance-state: DescribeInstances reports the state asked for one
    instance (code and name), honours an instance-state-name filter, ends
    after seconds= or with state=clear, and leaves the other instance alone."""
    n1 = w.world["nodes"]["node1"]["instance_id"]
    n2 = w.world["nodes"]["node2"]["instance_id"]
    w.ctl("reset")

    def states(**kw):
        return {i["InstanceId"]: (i["State"]["Code"], i["State"]["Name"])
                for r in w.pec2.describe_instances(**kw)["Reservations"]
                for i in r["Instances"]}

    ids = {"InstanceIds": [n1, n2]}
    assert states(**ids) == {n1: (16, "running"), n2: (16, "running")}
    doc = w.ctl("instance-state", id=n2, state="stopping", seconds=1.5)
    assert doc["instance_states"][n2]["state"] == "stopping", doc
    assert states(**ids) == {n1: (16, "running"), n2: (64, "stopping")}
    flt = [{"Name": "instance-id", "Values": [n1, n2]},
           {"Name": "instance-state-name", "Values": ["running"]}]
    assert states(Filters=flt) == {n1: (16, "running")}
    assert w.ctl("stats")["instance_states"][n2]["seconds_left"] <= 1.5
    time.sleep(1.6)
    assert states(**ids)[n2] == (16, "running"), "the hold ended"
    assert w.ctl("stats")["instance_states"] == {}
    for st, code in (("pending", 0), ("shutting-down", 32), ("terminated", 48),
                     ("stopped", 80)):
        w.ctl("instance-state", id=n1, state=st)
        assert states(**ids) == {n1: (code, st), n2: (16, "running")}, st
    w.ctl("instance-state", id=n1, state="clear")
    assert states(**ids)[n1] == (16, "running")
    w.ctl("instance-state", id=n1, state="stopping")
    w.ctl("reset")
    assert states(**ids)[n1] == (16, "running"), "reset drops it"
    try:
        w.ctl("instance-state", id=n1, state="asleep")
        raise AssertionError("a bad state was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 400, e


@check
def moto_instance_quirks(w):
    """What fence_ec2's tests rely on: moto stops and starts at once (the
    answer says stopping/pending, the next DescribeInstances stopped/running),
    accepts Force and SkipOsShutdown, honours DryRun for Stop/Start/Describe,
    and leaves an unknown id out of an instance-id filter's answer."""
    n2 = w.world["nodes"]["node2"]["instance_id"]

    def state():
        r = w.ec2.describe_instances(InstanceIds=[n2])["Reservations"]
        return r[0]["Instances"][0]["State"]["Name"]

    for call in (w.ec2.stop_instances, w.ec2.start_instances,
                 w.ec2.describe_instances):
        expect_error(lambda: call(InstanceIds=[n2], DryRun=True), "DryRunOperation", 412)
    assert state() == "running"
    r = w.ec2.stop_instances(InstanceIds=[n2], Force=True, SkipOsShutdown=True)
    cur = r["StoppingInstances"][0]
    assert (cur["PreviousState"]["Name"], cur["CurrentState"]["Name"]) == (
        "running", "stopping"), cur
    assert state() == "stopped", "moto stops at once"
    # Stopping a stopped instance: moto answers stopping (AWS: stopped).
    r = w.ec2.stop_instances(InstanceIds=[n2])
    cur = r["StoppingInstances"][0]
    assert (cur["PreviousState"]["Name"], cur["CurrentState"]["Name"]) == (
        "stopped", "stopping"), cur
    assert state() == "stopped"
    r = w.ec2.start_instances(InstanceIds=[n2])
    assert r["StartingInstances"][0]["CurrentState"]["Name"] == "pending", r
    assert state() == "running", "moto starts at once"
    none = w.ec2.describe_instances(Filters=[{"Name": "instance-id",
                                              "Values": ["i-0000000000000dead"]}])
    assert none["Reservations"] == [], none
    expect_error(lambda: w.ec2.describe_instances(InstanceIds=["i-0000000000000dead"]),
                 "InvalidInstanceID.NotFound", 400)

# ------------------------------------------------------------------ Route 53


def upsert(r53, zone, name, value, ttl=30, rtype="A"):
    return r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": name, "Type": rtype, "TTL": ttl,
            "ResourceRecords": [{"Value": v} for v in
                                (value if isinstance(value, list) else [value])]}}]})


@check
def proxy_forwards_route53(w):
    w.ctl("reset")
    z = w.pr53.create_hosted_zone(Name="fwd." + w.domain, CallerReference=str(time.time()))
    zid = z["HostedZone"]["Id"].rsplit("/", 1)[-1]
    ch = upsert(w.pr53, zid, f"vip.fwd.{w.domain}", "10.0.1.10")["ChangeInfo"]
    assert ch["Status"] == "INSYNC"
    assert w.pr53.get_change(Id=ch["Id"].rsplit("/", 1)[-1])["ChangeInfo"]["Status"] == "INSYNC"
    rrs = w.pr53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    assert any(r["Name"] == f"vip.fwd.{w.domain}." for r in rrs)
    w.pr53.get_hosted_zone(Id=zid)
    w.pr53.list_hosted_zones()
    assert w.ctl("stats")["by_action"] == {
        "CreateHostedZone": 1, "ChangeResourceRecordSets": 1, "GetChange": 1,
        "ListResourceRecordSets": 1, "GetHostedZone": 1, "ListHostedZones": 1}


@check
def route53_throttles(w):
    w.ctl("reset")
    zid = w.zone
    rule(w, action="ChangeResourceRecordSets", fault="throttle", count=1)
    e = expect_error(lambda: upsert(w.pr53, zid, f"vip.{w.domain}", "10.0.1.10"),
                     "Throttling", 400)
    assert e.response["Error"]["Message"] == "Rate exceeded"
    assert e.response["Error"]["Type"] == "Sender"
    rule(w, action="ChangeResourceRecordSets", fault="throttle",
         code="PriorRequestNotComplete", count=1)
    expect_error(lambda: upsert(w.pr53, zid, f"vip.{w.domain}", "10.0.1.10"),
                 "PriorRequestNotComplete", 400)
    upsert(w.pr53, zid, f"vip.{w.domain}", "10.0.1.10")


@check
def route53_deny_and_status(w):
    w.ctl("reset")
    zid = w.zone
    rule(w, action="ChangeResourceRecordSets", fault="deny", count=1)
    e = expect_error(lambda: upsert(w.pr53, zid, f"vip.{w.domain}", "10.0.1.10"),
                     "AccessDenied", 403)
    msg = e.response["Error"]["Message"]
    assert "route53:ChangeResourceRecordSets" in msg and zid in msg, msg
    rule(w, action="GetChange", fault="status", code=500, count=1)
    expect_error(lambda: w.pr53.get_change(Id="C1"), "InternalFailure", 500)
    rule(w, action="ListResourceRecordSets", fault="status", code=503, count=1)
    expect_error(lambda: w.pr53.list_resource_record_sets(HostedZoneId=zid),
                 "ServiceUnavailable", 503)


@check
def route53_hold_pending(w):
    w.ctl("reset")
    w.ctl("hold-pending", on=1)
    ch = upsert(w.pr53, w.zone, f"vip.{w.domain}", "10.0.1.10")["ChangeInfo"]
    assert ch["Status"] == "PENDING"
    assert w.pr53.get_change(Id="C1")["ChangeInfo"]["Status"] == "PENDING"
    w.ctl("hold-pending", on=0)
    assert w.pr53.get_change(Id="C1")["ChangeInfo"]["Status"] == "INSYNC"

# ------------------------------------------------------------------ IMDS


@check
def proxy_in_front_of_imds(w):
    base = w.iproxy
    w.ctl("reset", base=base)

    def call(method, path, headers=None):
        req = urllib.request.Request(base + path, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    ttl = {"X-aws-ec2-metadata-token-ttl-seconds": "60"}
    status, token = call("PUT", "/latest/api/token", ttl)
    assert status == 200, (status, token)  # no X-Forwarded-For: imds.py issues a token
    status, iid = call("GET", "/latest/meta-data/instance-id",
                       {"X-aws-ec2-metadata-token": token})
    assert (status, iid) == (200, w.world["nodes"]["node1"]["instance_id"])
    w.ctl("rule", base=base, action="PUT /latest/api/token", fault="status", code=503, count=1)
    status, body = call("PUT", "/latest/api/token", ttl)
    assert status == 503 and "503 - Service Unavailable" in body
    assert call("PUT", "/latest/api/token", ttl)[0] == 200
    st = w.ctl("stats", base=base)
    assert st["by_action"]["PUT /latest/api/token"] == 3, st

# ------------------------------------------------------------------ DNS


def dig(w, name, rtype="A", port=None, tcp=False):
    return dns_responder.query(port or w.dns_port, name, rtype, tcp=tcp)


@check
def dns_sees_current_state(w):
    upsert(w.pr53, w.zone, f"vip.{w.domain}", "10.0.1.10", ttl=30)
    r = dig(w, f"vip.{w.domain}")
    assert r["rcode"] == "NOERROR" and r["aa"], r
    assert r["answer"] == [(f"vip.{w.domain}.", "A", 30, "10.0.1.10")], r
    upsert(w.pr53, w.zone, f"vip.{w.domain}", "10.0.2.10", ttl=45)
    r = dig(w, f"VIP.{w.domain.upper()}.")  # case-insensitive; owner echoes the question
    assert r["answer"] == [(f"VIP.{w.domain.upper()}.", "A", 45, "10.0.2.10")], r


@check
def dns_negative_answers(w):
    r = dig(w, f"nope.{w.domain}")
    assert r["rcode"] == "NXDOMAIN" and r["answer"] == [], r
    assert r["authority"][0][:2] == (f"{w.domain}.", "SOA"), r
    assert r["authority"][0][3].startswith("ns-2048.awsdns-64.com. hostmaster.example.com. 1 ")
    r = dig(w, f"vip.{w.domain}", "AAAA")
    assert r["rcode"] == "NOERROR" and r["answer"] == [] and r["authority"], r
    assert dig(w, "www.example.com")["rcode"] == "REFUSED"


@check
def dns_cname_wildcard_alias_multi(w):
    z = w.zone
    upsert(w.pr53, z, f"alias-of-vip.{w.domain}", f"vip.{w.domain}", rtype="CNAME")
    upsert(w.pr53, z, f"*.wild.{w.domain}", "10.9.9.9", ttl=20)
    upsert(w.pr53, z, f"multi.{w.domain}", ["10.0.0.1", "10.0.0.2"])
    w.pr53.change_resource_record_sets(HostedZoneId=z, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": f"apex-alias.{w.domain}", "Type": "A",
            "AliasTarget": {"HostedZoneId": z, "DNSName": f"multi.{w.domain}",
                            "EvaluateTargetHealth": False}}}]})
    r = dig(w, f"alias-of-vip.{w.domain}")
    assert [a[1] for a in r["answer"]] == ["CNAME", "A"], r
    assert r["answer"][0][3] == f"vip.{w.domain}." and r["answer"][1][0] == f"vip.{w.domain}."
    r = dig(w, f"host.wild.{w.domain}")
    assert r["answer"] == [(f"host.wild.{w.domain}.", "A", 20, "10.9.9.9")], r
    r = dig(w, f"multi.{w.domain}")
    assert sorted(a[3] for a in r["answer"]) == ["10.0.0.1", "10.0.0.2"], r
    r = dig(w, f"apex-alias.{w.domain}")
    assert sorted(a[3] for a in r["answer"]) == ["10.0.0.1", "10.0.0.2"], r
    r = dig(w, f"wild.{w.domain}")  # empty non-terminal: NODATA, not NXDOMAIN
    assert r["rcode"] == "NOERROR" and not r["answer"], r


@check
def dns_truncation_and_tcp(w):
    many = [f"10.1.{i // 250}.{i % 250 + 1}" for i in range(60)]
    upsert(w.pr53, w.zone, f"big.{w.domain}", many)
    r = dig(w, f"big.{w.domain}")  # plain 512-byte UDP
    assert r["tc"] and not r["answer"], r
    r = dig(w, f"big.{w.domain}", tcp=True)
    assert len(r["answer"]) == 60 and not r["tc"], len(r["answer"])


@check
def dns_paginates_and_zone_id(w):
    page = "page." + w.domain  # a zone of its own, inside the main one's name space
    z = w.pr53.create_hosted_zone(Name=page, CallerReference=str(time.time()))
    zid = z["HostedZone"]["Id"].rsplit("/", 1)[-1]
    changes = [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": f"h{i:03d}.{page}", "Type": "A", "TTL": 30,
        "ResourceRecords": [{"Value": f"10.2.{i // 200}.{i % 200 + 1}"}]}} for i in range(320)]
    w.pr53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": changes})
    r = dig(w, f"H319.{page}")  # beyond moto's first page of 300; most specific zone
    assert r["answer"] == [(f"H319.{page}.", "A", 30, "10.2.1.120")], r
    port = w.em.dns(w.endpoint, zone_id="/hostedzone/" + zid, name="dns-zone")
    assert dig(w, f"h000.{page}", port=port)["answer"][0][3] == "10.2.0.1"
    assert dig(w, f"vip.{w.domain}", port=port)["rcode"] == "REFUSED"


@check
def dns_servfail_when_moto_is_gone(w):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    port = w.em.dns(f"http://127.0.0.1:{dead}", name="dns-dead")
    assert dig(w, f"vip.{w.domain}", port=port)["rcode"] == "SERVFAIL"

# ------------------------------------------------------------------ attrd_updater


@check
def attrd_updater_stand_in(w):
    log = os.path.join(w.tmp, "attrd.log")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_")}
    env.update(ATTRD_LOG=log, ATTRD_NODE="node1")
    tool = os.path.join(HERE, "attrd_updater")

    def run(*argv, **extra):
        p = subprocess.run([tool, *argv], env={**env, **extra}, capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    assert run("-n", "a", "-Q") == (78, "", "attrd_updater: Could not query value of a: "
                                            "attribute does not exist\n")
    assert run("-n", "a", "-U", "1", "-d", "5")[0] == 0
    assert run("-n", "a", "-Q") == (0, 'name="a" host="node1" value="1"\n', "")
    assert run("-n", "a", "-U", "2", "-N", "node2")[0] == 0
    assert run("-n", "a", "-Q")[1].count("\n") == 2  # no node named: all nodes
    assert run("-n", "a", "-Q", OCF_RESKEY_CRM_meta_on_node="node2")[1] == \
        'name="a" host="node2" value="2"\n'
    assert run("--name=a", "--delete")[0] == 0
    assert run("-n", "a", "-Q", "-N", "localhost")[1] == 'name="a" host="node1" value=""\n'
    assert run("-n", "a", "-U", "3", ATTRD_EXIT="102") == (
        102, "", "attrd_updater: Could not update a=3: Connection refused (111)\n")
    assert run("-n", "a", "-Q", ATTRD_EXIT="102") == (
        102, "", "attrd_updater: Could not connect to attrd: Connection refused\n")
    assert run("-U", "1")[0] == 64
    with open(log) as f:
        lines = [json.loads(x) for x in f]
    assert [x["op"] for x in lines] == ["query", "update", "query", "update", "query", "query",
                                        "delete", "query", "update", "query", "update"]
    assert lines[1]["name"] == "a" and lines[1]["value"] == "1" and lines[1]["delay"] == "5"
    assert [x["exit"] for x in lines][-3:] == [102, 102, 64]

# ------------------------------------------------------------------ moto quirks


@check
def moto_route53_quirks(w):
    z = w.zone
    ch = upsert(w.r53, z, f"q.{w.domain}", "10.0.0.9")["ChangeInfo"]
    assert ch["Id"] == "/change/C2682N5HXP0BZ4"  # fixed id for every change
    info = w.r53.get_change(Id="CNOSUCHCHANGE")["ChangeInfo"]
    assert (info["Id"], info["Status"]) == ("CNOSUCHCHANGE", "INSYNC")  # any id; no /change/
    # Names are case-sensitive in moto (Route 53 folds case): an upper-case
    # zone part is "not permitted in zone", and Q.<zone> is a record set of
    # its own next to q.<zone>.
    expect_error(lambda: upsert(w.r53, z, f"q.{w.domain.upper()}", "10.0.0.9"),
                 "InvalidChangeBatch", 400)
    upsert(w.r53, z, f"Q.{w.domain}", "10.0.0.8")
    names = [r["Name"] for r in w.r53.list_resource_record_sets(
        HostedZoneId=z)["ResourceRecordSets"] if r["Type"] == "A"]
    assert f"Q.{w.domain}." in names and f"q.{w.domain}." in names, names
    expect_error(lambda: w.r53.list_resource_record_sets(HostedZoneId="ZNOSUCHZONE"),
                 "NoSuchHostedZone", 404)
    upsert(w.r53, z, f"r.{w.domain}", "10.0.0.7")  # right after q (reversed labels)
    page = w.r53.list_resource_record_sets(HostedZoneId=z, StartRecordName=f"q.{w.domain}",
                                           StartRecordType="A", MaxItems="1")
    assert [r["Name"] for r in page["ResourceRecordSets"]] == [f"q.{w.domain}."], page
    assert page["IsTruncated"] and page["NextRecordName"] == f"r.{w.domain}.", page
    soa = [r for r in w.r53.list_resource_record_sets(HostedZoneId=z)["ResourceRecordSets"]
           if r["Type"] == "SOA"][0]
    assert soa["ResourceRecords"][0]["Value"].startswith("{'Value': 'ns-2048")


@check
def moto_availability_zone_quirks(w):
    assert w.ec2.describe_availability_zones(ZoneNames=["us-east-1z"])["AvailabilityZones"] == []
    st = {z["State"] for z in w.ec2.describe_availability_zones()["AvailabilityZones"]}
    assert st == {"available"}


@check
def moto_eip_quirks(w):
    n1, n2 = w.world["nodes"]["node1"], w.world["nodes"]["node2"]
    w.ec2.assign_private_ip_addresses(NetworkInterfaceId=n1["eni_id"],
                                      PrivateIpAddresses=["10.0.1.50"])
    a = w.ec2.allocate_address(Domain="vpc")
    alloc = a["AllocationId"]
    assoc = w.ec2.associate_address(AllocationId=alloc, NetworkInterfaceId=n1["eni_id"],
                                    PrivateIpAddress="10.0.1.50", AllowReassociation=True)
    d = w.ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]
    assert d["AssociationId"] == assoc["AssociationId"] and d["NetworkInterfaceId"] == n1["eni_id"]
    # moto alone maps the primary (10.0.1.10) whatever is asked; the test
    # world maps the address asked, as EC2 does (moto_server.py).
    assert d["PrivateIpAddress"] == "10.0.1.50", d
    assert d["InstanceId"] == ""  # AWS would name the ENI's instance
    a2 = w.ec2.associate_address(AllocationId=alloc, NetworkInterfaceId=n2["eni_id"],
                                 AllowReassociation=True)
    assert a2["AssociationId"] != assoc["AssociationId"]
    w.ec2.disassociate_address(AssociationId=a2["AssociationId"])
    d = w.ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]
    assert "AssociationId" not in d and d["NetworkInterfaceId"] == "", d
    expect_error(lambda: w.ec2.disassociate_address(AssociationId=a2["AssociationId"]),
                 "InvalidAssociationID.NotFound", 400)
    w.ec2.release_address(AllocationId=alloc)

# ------------------------------------------------------------------ world.py


@check
def world_up_describes_its_world_and_takes_it_along(w):
    out = os.path.join(w.tmp, "up.json")
    p = subprocess.Popen([world.SYSPY, os.path.join(HERE, "world.py"), "up",
                          "--venv", os.path.dirname(os.path.dirname(sys.executable)),
                          "--endpoint", w.endpoint, "--seed-arg=--tables", "--seed-arg=2",
                          "--imds-arg=--role", "--imds-arg=r1", "--proxy", "--dns",
                          "--dir", os.path.join(w.tmp, "up"), "--json-out", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        d = json.loads(world.wait_file(out, "world.py up", 60, proc=p))
        e = d["emulators"]
        assert len(d["route_tables"]) == 2 and d["endpoint"] == w.endpoint, d
        assert e["moto"] == w.endpoint and e["pid"] == p.pid, e
        assert sorted(e["imds"]) == ["node1", "node2"], e
        role = world.http("GET", e["imds"]["node2"] + "/latest/meta-data/iam/security-credentials/")
        assert role == "r1", role
        assert world.http("GET", e["proxy"] + "/_proxy/stats")["requests"] == 0
        port = e["dns"].rsplit(":", 1)[1]
        assert dns_responder.query(int(port), f"nothing.{w.domain}", "A")["rcode"] == "NXDOMAIN"
    finally:
        p.terminate()
        p.wait(10)
    for url in list(e["imds"].values()) + [e["proxy"]]:
        try:
            world.http("GET", url + "/", timeout=2)
        except urllib.error.HTTPError:
            pass  # an answer, if an error
        except OSError:
            continue
        raise AssertionError(f"{url} still answers after world.py up ended")


# ------------------------------------------------------------------ corrected moto gaps


@check
def world_route53_change_echoes_its_comment(w):
    """Route 53 answers ChangeResourceRecordSets with the batch's Comment in
    ChangeInfo (moto leaves it out): moto_server.py's correction."""
    ch = w.pr53.change_resource_record_sets(HostedZoneId=w.zone, ChangeBatch={
        "Comment": "moved by a test", "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": f"comment.{w.domain}", "Type": "A", "TTL": 30,
            "ResourceRecords": [{"Value": "10.0.1.10"}]}}]})["ChangeInfo"]
    assert ch.get("Comment") == "moved by a test", ch
    assert ch["Id"].startswith("/change/") and ch["Status"] == "INSYNC", ch
    ch = upsert(w.pr53, w.zone, f"comment.{w.domain}", "10.0.1.11")["ChangeInfo"]
    assert "Comment" not in ch, ch


@check
def world_eip_private_ip_must_be_the_enis(w):
    """EC2 refuses a PrivateIpAddress the ENI does not have (moto would
    associate anyway): moto_server.py's correction."""
    n1 = w.world["nodes"]["node1"]
    alloc = w.ec2.allocate_address(Domain="vpc")["AllocationId"]
    e = expect_error(lambda: w.ec2.associate_address(
        AllocationId=alloc, NetworkInterfaceId=n1["eni_id"], PrivateIpAddress="10.0.1.99",
        AllowReassociation=True), "InvalidParameterValue", 400)
    msg = e.response["Error"]["Message"]
    assert "10.0.1.99" in msg and n1["eni_id"] in msg and "not associated" in msg, msg
    d = w.ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]
    assert "AssociationId" not in d, d  # nothing happened
    # The ENI's own addresses, primary and secondary, are accepted.
    w.ec2.assign_private_ip_addresses(NetworkInterfaceId=n1["eni_id"],
                                      PrivateIpAddresses=["10.0.1.51"])
    for ip in (n1["private_ip"], "10.0.1.51"):
        w.ec2.associate_address(AllocationId=alloc, NetworkInterfaceId=n1["eni_id"],
                                PrivateIpAddress=ip)
    w.ec2.release_address(AllocationId=alloc)


@check
def world_imds_lists_current_private_addresses(w):
    """Real IMDS lists an ENI's private addresses as they are now; imds.py
    asks moto per request (the seed knows only the primary)."""
    n1 = w.world["nodes"]["node1"]
    base = w.iproxy
    w.ctl("reset", base=base)

    def get(path, token):
        req = urllib.request.Request(base + path, headers={"X-aws-ec2-metadata-token": token})
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read().decode()

    put = urllib.request.Request(base + "/latest/api/token", method="PUT",
                                 headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    with urllib.request.urlopen(put, timeout=5) as r:
        token = r.read().decode()
    path = f"/latest/meta-data/network/interfaces/macs/{n1['mac']}/local-ipv4s"
    before = get(path, token).split()
    assert before[0] == n1["private_ip"], before
    w.ec2.assign_private_ip_addresses(NetworkInterfaceId=n1["eni_id"],
                                      PrivateIpAddresses=["10.0.1.61"])
    after = get(path, token).split()
    assert after[0] == n1["private_ip"] and "10.0.1.61" in after, after
    w.ec2.unassign_private_ip_addresses(NetworkInterfaceId=n1["eni_id"],
                                        PrivateIpAddresses=["10.0.1.61"])
    assert "10.0.1.61" not in get(path, token).split()


def sts_and_iam(url):
    c = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=5)
    return (boto3.client("sts", endpoint_url=url, region_name="us-east-1", config=c),
            boto3.client("iam", endpoint_url=url, region_name="us-east-1", config=c))


def trust(external_id=None):
    st = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
          "Action": "sts:AssumeRole"}
    if external_id:
        st["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


@check
def world_assume_role_as_sts_answers(w):
    """STS lets a role be assumed only if it exists and its trust policy's
    sts:ExternalId condition (if any) is met, and checks RoleSessionName's
    pattern (moto 5.2.5: any RoleArn, no trust policy, length only):
    moto_server.py's correction. Assumed-role keys start with ASIA."""
    sts, iam = sts_and_iam(w.endpoint)
    tag = f"sc{os.getpid()}-{int(time.time() * 1000) % 10**8}"
    need = iam.create_role(RoleName=f"{tag}-x", AssumeRolePolicyDocument=trust("ext-1"))
    free = iam.create_role(RoleName=f"{tag}-o", AssumeRolePolicyDocument=trust())
    need, free = need["Role"]["Arn"], free["Role"]["Arn"]
    ok = sts.assume_role(RoleArn=need, RoleSessionName="ocf-aws-node1", ExternalId="ext-1")
    assert ok["Credentials"]["AccessKeyId"].startswith("ASIA"), ok["Credentials"]
    assert ok["AssumedRoleUser"]["Arn"].endswith(f"/{tag}-x/ocf-aws-node1"), ok
    sts.assume_role(RoleArn=free, RoleSessionName="ocf-aws-node1")
    for args in (dict(RoleArn=need, ExternalId="wrong"), dict(RoleArn=need),
                 dict(RoleArn=f"arn:aws:iam::123456789012:role/{tag}-none")):
        e = expect_error(lambda: sts.assume_role(RoleSessionName="ocf-aws-node1", **args),
                         "AccessDenied", 403)
        msg = e.response["Error"]["Message"]
        assert "is not authorized to perform: sts:AssumeRole on resource: " + args["RoleArn"] \
            in msg, msg
    expect_error(lambda: sts.assume_role(RoleArn=free, RoleSessionName="bad name"),
                 "ValidationError", 400)


@check
def proxy_logs_signing_keys_and_assume_role(w):
    """The proxy's request log names each request's signing key, and for
    AssumeRole what was asked and the key STS issued; a deny names the
    role as STS does."""
    sts, iam = sts_and_iam(w.endpoint)
    psts, _ = sts_and_iam(w.proxy)
    tag = f"sc{os.getpid()}-{int(time.time() * 1000) % 10**8}-p"
    arn = iam.create_role(RoleName=tag, AssumeRolePolicyDocument=trust("e-2"))["Role"]["Arn"]
    w.ctl("reset")
    got = psts.assume_role(RoleArn=arn, RoleSessionName="ocf-aws-n", ExternalId="e-2")
    w.pec2.describe_vpcs()
    log = w.ctl("log")
    assert [e["action"] for e in log] == ["AssumeRole", "DescribeVpcs"], log
    a, d = log
    assert (a["service"], a["role_arn"], a["external_id"], a["session_name"]) == (
        "sts", arn, "e-2", "ocf-aws-n"), a
    assert a["issued_key"] == got["Credentials"]["AccessKeyId"], a
    assert a["key"] == d["key"] == os.environ["AWS_ACCESS_KEY_ID"], (a, d)
    rule(w, action="AssumeRole", fault="deny", count=1)
    e = expect_error(lambda: psts.assume_role(RoleArn=arn, RoleSessionName="ocf-aws-n"),
                     "AccessDenied", 403)
    assert f"sts:AssumeRole on resource: {arn}" in e.response["Error"]["Message"]


def free_private_ips(w, subnet_id, n):
    """n addresses of the subnet that no ENI holds, skipping the lowest 64
    free ones, which the tests' configurations name (VIPs, secondary IPs)."""
    enis = w.ec2.describe_network_interfaces(
        Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])["NetworkInterfaces"]
    used = {p["PrivateIpAddress"] for e in enis for p in e["PrivateIpAddresses"]}
    cidr = w.ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["CidrBlock"]
    # EC2 reserves a subnet's first four addresses and its last.
    hosts = list(ipaddress.ip_network(cidr).hosts())[3:-1]
    free = [str(h) for h in hosts if str(h) not in used]
    return free[64:64 + n]


@check
def world_secondary_ip_moves_with_allow_reassignment(w):
    """EC2 moves a secondary address between ENIs of a subnet with
    AllowReassignment and refuses without it (moto would leave it on both):
    moto_server.py's correction."""
    sub = w.world["nodes"]["node1"]["subnet_id"]
    # moto draws an ENI's primary address at random from the subnet, and may
    # draw the very address this check moves (EC2 never would: it is in
    # use), so every address here is picked free and given explicitly.
    pa, pb, moved = free_private_ips(w, sub, 3)
    a = w.ec2.create_network_interface(SubnetId=sub, PrivateIpAddress=pa)[
        "NetworkInterface"]["NetworkInterfaceId"]
    b = w.ec2.create_network_interface(SubnetId=sub, PrivateIpAddress=pb)[
        "NetworkInterface"]["NetworkInterfaceId"]

    def holders(ip):
        enis = w.ec2.describe_network_interfaces(NetworkInterfaceIds=[a, b])["NetworkInterfaces"]
        return sorted(n["NetworkInterfaceId"] for n in enis
                      if any(p["PrivateIpAddress"] == ip for p in n["PrivateIpAddresses"]))

    w.ec2.assign_private_ip_addresses(NetworkInterfaceId=a, PrivateIpAddresses=[moved])
    expect_error(lambda: w.ec2.assign_private_ip_addresses(
        NetworkInterfaceId=b, PrivateIpAddresses=[moved]), "InvalidParameterValue", 400)
    assert holders(moved) == [a]
    w.ec2.assign_private_ip_addresses(NetworkInterfaceId=b, PrivateIpAddresses=[moved],
                                      AllowReassignment=True)
    assert holders(moved) == [b]
    for e in (a, b):
        w.ec2.delete_network_interface(NetworkInterfaceId=e)


@check
def world_eip_reassociates_unless_told_not_to(w):
    """EC2 moves an EIP held by another ENI unless AllowReassociation=false
    (moto refuses unless it is true): moto_server.py's correction."""
    n1, n2 = w.world["nodes"]["node1"], w.world["nodes"]["node2"]
    alloc = w.ec2.allocate_address(Domain="vpc")["AllocationId"]
    a1 = w.ec2.associate_address(AllocationId=alloc, NetworkInterfaceId=n1["eni_id"])
    a2 = w.ec2.associate_address(AllocationId=alloc, NetworkInterfaceId=n2["eni_id"])
    assert a2["AssociationId"] != a1["AssociationId"]
    d = w.ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]
    assert d["NetworkInterfaceId"] == n2["eni_id"], d
    expect_error(lambda: w.ec2.associate_address(AllocationId=alloc,
                                                 NetworkInterfaceId=n1["eni_id"],
                                                 AllowReassociation=False),
                 "Resource.AlreadyAssociated", 400)
    d = w.ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]
    assert d["NetworkInterfaceId"] == n2["eni_id"], d
    w.ec2.disassociate_address(AssociationId=d["AssociationId"])
    w.ec2.release_address(AllocationId=alloc)



def imds_get(base, path):
    """GET a metadata path over IMDSv2; None for 404."""
    put = urllib.request.Request(base + "/latest/api/token", method="PUT",
                                 headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    with urllib.request.urlopen(put, timeout=5) as r:
        token = r.read().decode()
    req = urllib.request.Request(base + path, headers={"X-aws-ec2-metadata-token": token})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


@check
def world_is_dual_stack_and_imds_lists_current_ipv6s(w):
    """The seed gives the VPC an IPv6 /56, each subnet a /64 of it and each
    node's ENI an address (moto ignores RunInstances' Ipv6Addresses: the
    seed assigns it); imds.py serves the blocks and asks moto for ipv6s."""
    d, n1 = w.world, w.world["nodes"]["node1"]
    vpc6 = d["vpc_ipv6_cidrs"][0]
    assert vpc6.endswith("/56") and n1["subnet_ipv6_cidr"].endswith("/64"), d
    import ipaddress
    assert ipaddress.IPv6Address(n1["ipv6"]) in ipaddress.IPv6Network(n1["subnet_ipv6_cidr"])
    assert ipaddress.IPv6Network(n1["subnet_ipv6_cidr"]).subnet_of(ipaddress.IPv6Network(vpc6))
    eni = w.ec2.describe_network_interfaces(NetworkInterfaceIds=[n1["eni_id"]])
    assert [a["Ipv6Address"] for a in eni["NetworkInterfaces"][0]["Ipv6Addresses"]] == \
        [n1["ipv6"]], eni
    mac = f"/latest/meta-data/network/interfaces/macs/{n1['mac']}/"
    assert imds_get(w.iproxy, mac + "vpc-ipv6-cidr-blocks") == vpc6
    assert imds_get(w.iproxy, mac + "subnet-ipv6-cidr-blocks") == n1["subnet_ipv6_cidr"]
    assert imds_get(w.iproxy, mac + "ipv6s").split() == [n1["ipv6"]]
    extra = str(ipaddress.IPv6Network(n1["subnet_ipv6_cidr"])[0x61])
    w.ec2.assign_ipv6_addresses(NetworkInterfaceId=n1["eni_id"], Ipv6Addresses=[extra])
    assert imds_get(w.iproxy, mac + "ipv6s").split() == [n1["ipv6"], extra]
    w.ec2.unassign_ipv6_addresses(NetworkInterfaceId=n1["eni_id"], Ipv6Addresses=[extra])
    assert imds_get(w.iproxy, mac + "ipv6s").split() == [n1["ipv6"]]
    # Every seeded table routes the IPv6 overlay address to the owner too.
    t = w.ec2.describe_route_tables(RouteTableIds=[d["route_tables"][0]])["RouteTables"][0]
    assert any(r.get("DestinationIpv6CidrBlock") == f"{d['vip6']}/128"
               and r.get("NetworkInterfaceId") == n1["eni_id"] for r in t["Routes"]), t


@check
def world_route_tables_filter_on_ipv6_destinations(w):
    """EC2 filters DescribeRouteTables on route.destination-ipv6-cidr-block
    (moto: HTTP 500): moto_server.py's correction."""
    d = w.world
    flt = [{"Name": "vpc-id", "Values": [d["vpc_id"]]},
           {"Name": "route.destination-ipv6-cidr-block", "Values": [f"{d['vip6']}/128"]}]
    found = sorted(t["RouteTableId"] for t in w.ec2.describe_route_tables(Filters=flt)["RouteTables"])
    assert found == sorted(d["route_tables"]), (found, d["route_tables"])
    flt[1]["Values"] = ["fd00:ac1::99/128"]
    assert w.ec2.describe_route_tables(Filters=flt)["RouteTables"] == []


@check
def world_eni_filters_find_secondary_and_ipv6_addresses(w):
    """EC2's addresses.private-ip-address (and private-ip-address) filters
    match secondary addresses too (moto: the primary only), and
    ipv6-addresses.ipv6-address works (moto: HTTP 500): moto_server.py's
    correction."""
    n1 = w.world["nodes"]["node1"]
    vpc = {"Name": "vpc-id", "Values": [w.world["vpc_id"]]}  # other checks seed look-alikes
    w.ec2.assign_private_ip_addresses(NetworkInterfaceId=n1["eni_id"],
                                      PrivateIpAddresses=["10.0.1.81"])
    try:
        for name, value in (("addresses.private-ip-address", "10.0.1.81"),
                            ("private-ip-address", "10.0.1.81"),
                            ("addresses.private-ip-address", n1["private_ip"]),
                            ("ipv6-addresses.ipv6-address", n1["ipv6"])):
            got = [e["NetworkInterfaceId"] for e in w.ec2.describe_network_interfaces(
                Filters=[vpc, {"Name": name, "Values": [value]}])["NetworkInterfaces"]]
            assert got == [n1["eni_id"]], (name, value, got)
        got = w.ec2.describe_network_interfaces(Filters=[
            vpc, {"Name": "ipv6-addresses.ipv6-address", "Values": ["fd00:ac1::99"]}])
        assert got["NetworkInterfaces"] == [], got
    finally:
        w.ec2.unassign_private_ip_addresses(NetworkInterfaceId=n1["eni_id"],
                                            PrivateIpAddresses=["10.0.1.81"])


@check
def world_ipv6_address_in_use_is_refused(w):
    """AssignIpv6Addresses has no AllowReassignment: EC2 refuses an address
    another ENI holds (moto puts it on both): moto_server.py's correction.
    UnassignIpv6Addresses then frees it for the other ENI."""
    n1 = w.world["nodes"]["node1"]
    (pa,) = free_private_ips(w, n1["subnet_id"], 1)
    other = w.ec2.create_network_interface(SubnetId=n1["subnet_id"],
                                           PrivateIpAddress=pa)["NetworkInterface"]
    b = other["NetworkInterfaceId"]
    try:
        e = expect_error(lambda: w.ec2.assign_ipv6_addresses(
            NetworkInterfaceId=b, Ipv6Addresses=[n1["ipv6"]]), "InvalidIPAddress.InUse", 400)
        assert n1["ipv6"] in e.response["Error"]["Message"], e

        def holders():
            enis = w.ec2.describe_network_interfaces(
                NetworkInterfaceIds=[n1["eni_id"], b])["NetworkInterfaces"]
            return sorted(n["NetworkInterfaceId"] for n in enis
                          if any(a["Ipv6Address"] == n1["ipv6"] for a in n["Ipv6Addresses"]))

        assert holders() == [n1["eni_id"]]
        w.ec2.unassign_ipv6_addresses(NetworkInterfaceId=n1["eni_id"], Ipv6Addresses=[n1["ipv6"]])
        w.ec2.assign_ipv6_addresses(NetworkInterfaceId=b, Ipv6Addresses=[n1["ipv6"]])
        assert holders() == [b]
        w.ec2.unassign_ipv6_addresses(NetworkInterfaceId=b, Ipv6Addresses=[n1["ipv6"]])
    finally:
        w.ec2.assign_ipv6_addresses(NetworkInterfaceId=n1["eni_id"], Ipv6Addresses=[n1["ipv6"]])
        w.ec2.delete_network_interface(NetworkInterfaceId=b)



@check
def world_stale_reads_after_writes(w):
    """fault=stale: for ms after a write the proxy forwards, a read is answered
    as it was before the write (AWS's eventual consistency; moto is always
    fresh); a read never seen before is forwarded; afterwards reads are fresh.
    Route 53's ListResourceRecordSets likewise after ChangeResourceRecordSets."""
    n1, n2 = w.world["nodes"]["node1"], w.world["nodes"]["node2"]
    rtb, cidr = w.world["route_tables"][0], w.world["vip"] + "/32"
    w.ctl("reset")
    for bad in ({}, {"ms": "0"}, {"ms": "x"}):
        try:
            rule(w, action="*", fault="stale", **bad)
            raise AssertionError(f"stale rule {bad} accepted")
        except urllib.error.HTTPError as e:
            assert e.code == 400, e

    def target(ec2, **kw):
        t = ec2.describe_route_tables(RouteTableIds=[rtb], **kw)["RouteTables"][0]
        return next(r.get("NetworkInterfaceId") for r in t["Routes"]
                    if r.get("DestinationCidrBlock") == cidr)

    name = "stale." + w.domain

    def record(r53):
        sets = r53.list_resource_record_sets(HostedZoneId=w.zone, StartRecordName=name,
                                             StartRecordType="A")["ResourceRecordSets"]
        return [v["Value"] for s in sets if s["Name"] == name + "." and s["Type"] == "A"
                for v in s["ResourceRecords"]]

    upsert(w.r53, w.zone, name, "10.9.0.1")
    rule(w, action="*", fault="stale", ms=800)
    try:
        assert target(w.pec2) == n1["eni_id"] and record(w.pr53) == ["10.9.0.1"]
        w.pec2.replace_route(RouteTableId=rtb, DestinationCidrBlock=cidr,
                             NetworkInterfaceId=n2["eni_id"])
        upsert(w.pr53, w.zone, name, "10.9.0.2")
        assert target(w.ec2) == n2["eni_id"], "moto has the write"
        assert target(w.pec2) == n1["eni_id"], "the same read answers as before the write"
        assert record(w.pr53) == ["10.9.0.1"], "Route 53 too"
        flt = [{"Name": "vpc-id", "Values": [w.world["vpc_id"]]}]
        assert target(w.pec2, Filters=flt) == n2["eni_id"], "a read never seen is forwarded"
        st = w.ctl("stats")
        assert st["by_fault"] == {"stale": 2}, st
        assert [e["fault"] for e in w.ctl("log")[-4:]] == [None, "stale", "stale", None]
        time.sleep(0.85)
        assert target(w.pec2) == n2["eni_id"] and record(w.pr53) == ["10.9.0.2"], "fresh again"
        w.pec2.describe_vpcs()  # not a write: no window
        assert target(w.pec2) == n2["eni_id"]
    finally:
        w.ctl("reset")
        w.ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock=cidr,
                            NetworkInterfaceId=n1["eni_id"])

# ------------------------------------------------------------------ main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", help="a running moto (default: start one)")
    ap.add_argument("-k", help="only checks whose name contains this")
    ap.add_argument("-v", action="store_true", help="tracebacks for failures")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocf-aws-selfcheck-") as tmp:
        w = World(tmp, args.v)
        passed = failed = 0
        try:
            if args.endpoint:
                w.endpoint = args.endpoint.rstrip("/")
            else:
                w.endpoint = w.em.moto()
            w.ec2, w.r53 = w.clients(w.endpoint)
            w.proxy = w.em.proxy(w.endpoint)
            w.proxy_port = int(w.proxy.rsplit(":", 1)[1])
            w.pec2, w.pr53 = w.clients(w.proxy)
            w.world, world_file = w.em.seed(w.proxy)
            imds = w.em.imds(world_file, ["node1"])["node1"]
            w.iproxy = w.em.proxy(imds, name="iproxy")
            # A domain of this run's own: a reused --endpoint may hold older ones.
            w.domain = f"sc{os.getpid()}-{int(time.time() * 1000) % 10**8}.internal"
            w.zone = w.r53.create_hosted_zone(
                Name=w.domain, CallerReference=w.domain
            )["HostedZone"]["Id"].rsplit("/", 1)[-1]
            w.dns_port = w.em.dns(w.endpoint)
            for fn in CHECKS:
                if args.k and args.k not in fn.__name__:
                    continue
                t = time.monotonic()
                try:
                    fn(w)
                    passed += 1
                    print(f"ok    {fn.__name__} ({time.monotonic() - t:.2f}s)")
                except Exception as e:  # noqa: BLE001
                    failed += 1
                    print(f"FAIL  {fn.__name__}: {type(e).__name__}: {e}")
                    if args.v:
                        traceback.print_exc()
        finally:
            w.em.stop()
        print(f"selfcheck: {passed} passed, {failed} failed")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
