#!/usr/bin/env python3
"""Side-by-side benchmark of ocf-aws against the ClusterLabs AWS agents.

Run through bench/run.sh, which installs the dependencies, builds the release
binary and starts this inside a fresh network + mount namespace (unshare).
Runs with the moto venv's python (boto3 checks what each action did).

Inside the namespace:
  - 169.254.169.254/32 on lo, imds.py serving port 80 there for one node of
    the seeded world at a time (restarted to switch node1 <-> node2);
  - moto on 127.0.0.1, behind tests/world/fault_proxy.py in pass-through
    mode: every agent talks to the proxy (AWS_ENDPOINT_URL), which counts the
    API requests by action; the harness checks results against moto directly;
  - dns_responder.py on 127.0.0.1:53 with /etc/resolv.conf bind-mounted to
    it, for aws-vpc-route53's `dig` monitor;
  - a veth pair carrying node1's and node2's MACs (both agents map the ENI to
    a device by MAC).

Measurement of one run (bench/spawn.c, a ~1 MB C launcher, so no agent
inherits the Python harness's RSS high-water mark through fork): wall =
monotonic time from fork to reap; CPU = user + sys of the agent and every
descendant (wait4 rusage: Linux folds reaped descendants into the child's);
peak RSS = the largest ru_maxrss of any single process of the tree (a max,
not a sum of concurrent processes). The launcher is a child subreaper, so
processes the agent orphans are reaped and counted too.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORLD_DIR = os.path.join(REPO, "tests", "world")
sys.path.insert(0, WORLD_DIR)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import world  # noqa: E402  (tests/world/world.py: starts, seeds and stops the emulators)
HB = "/usr/lib/ocf/resource.d/heartbeat"
IMDS_ADDR = "169.254.169.254"
REGION = "us-east-1"
DEVS = {"node1": "bva", "node2": "bvb"}
SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
AGENT_TIMEOUT_S = 900


def sh(*argv, check=True):
    return subprocess.run(argv, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


http = world.http  # the emulators' control endpoints


# API latency added for the scaling rows that show requests in flight together.
LATENCY_MS = 50

class Lab:
    """The namespace's emulators, devices and the seeded worlds."""

    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="ocf-aws-bench-")
        self.em = world.Emulators(os.path.join(self.tmp, "emulators"), venv=args.venv)
        self.imds_key = None

    def up(self):
        # /sys/class/net must show this namespace's devices (the agents read MACs there).
        sh("mount", "-t", "sysfs", "sysfs", "/sys")
        sh("ip", "link", "set", "lo", "up")
        sh("ip", "addr", "add", f"{IMDS_ADDR}/32", "dev", "lo")
        sh("ip", "link", "add", DEVS["node1"], "type", "veth", "peer", "name", DEVS["node2"])
        self.moto = self.em.moto()
        self.proxy = self.em.proxy(self.moto)
        self.ec2 = boto3.client("ec2", endpoint_url=self.moto, region_name=REGION,
                                aws_access_key_id="bench", aws_secret_access_key="bench")
        self.r53 = boto3.client("route53", endpoint_url=self.moto, region_name=REGION,
                                aws_access_key_id="bench", aws_secret_access_key="bench")
        # The agents' HOME: a profile naming the region and no keys, so both
        # implementations take the instance role's credentials from imds.py.
        # aws-vpc-route53 parses the CLI's text output and documents
        # `output = text` as required.
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(os.path.join(self.home, ".aws"))
        with open(os.path.join(self.home, ".aws", "config"), "w") as f:
            f.write(f"[default]\nregion = {REGION}\noutput = text\n")
        self.spawn_bin = os.path.join(self.tmp, "spawn")
        sh("cc", "-O2", "-o", self.spawn_bin, os.path.join(REPO, "bench", "spawn.c"))
        self.layout = os.path.join(self.tmp, "layout")
        sh("bash", os.path.join(REPO, "ocf", "install.sh"), "--root", self.layout, self.args.bin)
        for n in list(DEVS) + ["fence"]:
            os.makedirs(os.path.join(self.tmp, f"rsctmp-{n}"))

    def dns(self, zone):
        self.em.dns(self.moto, zone_id=zone, port=53)
        conf = os.path.join(self.tmp, "resolv.conf")
        with open(conf, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        sh("mount", "--bind", conf, "/etc/resolv.conf")

    def seed(self, tables):
        w, path = self.em.seed(self.moto, ["--tables", str(tables)])
        w["file"] = path
        return w

    def be(self, world, node):
        """Make the namespace look like `node` of `world` to IMDS clients."""
        key = (world["vpc_id"], node)
        if self.imds_key == key:
            return
        if self.imds_key is None or self.imds_key[0] != world["vpc_id"]:
            for n, dev in DEVS.items():
                sh("ip", "link", "set", dev, "down")
                sh("ip", "link", "set", dev, "address", world["nodes"][n]["mac"])
                sh("ip", "link", "set", dev, "up")
        self.em.stop("imds-node1")
        self.em.stop("imds-node2")
        self.em.imds(world["file"], [node], host=IMDS_ADDR, port=80,
                     args=["--role", "ha-cluster-node"])
        self.imds_key = key

    def down(self):
        self.em.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- state of the emulated world, read and set directly on moto -------

    def routes(self, world):
        cidr = world["vip"] + "/32"
        rts = self.ec2.describe_route_tables(RouteTableIds=world["route_tables"])["RouteTables"]
        return {t["RouteTableId"]: next((r.get("NetworkInterfaceId", "") for r in t["Routes"]
                                         if r.get("DestinationCidrBlock") == cidr), "")
                for t in rts}

    def point_routes(self, world, node):
        eni = world["nodes"][node]["eni_id"]
        for t in world["route_tables"]:
            self.ec2.replace_route(RouteTableId=t, DestinationCidrBlock=world["vip"] + "/32",
                                   NetworkInterfaceId=eni)

    def addr_on(self, dev, ip):
        out = sh("ip", "-o", "-4", "addr", "show", "dev", dev).stdout
        return f" {ip}/" in out

    def set_addr(self, world, node):
        for n, dev in DEVS.items():
            sh("ip", "addr", "del", world["vip"] + "/32", "dev", dev, check=False)
        if node:
            sh("ip", "addr", "add", world["vip"] + "/32", "dev", DEVS[node])

    def eip(self, alloc):
        a = self.ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]
        return a.get("NetworkInterfaceId") or "" if a.get("AssociationId") else ""

    def set_eip(self, world, alloc, node):
        a = self.ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]
        if a.get("AssociationId"):
            self.ec2.disassociate_address(AssociationId=a["AssociationId"])
        if node:
            self.ec2.associate_address(AllocationId=alloc, AllowReassociation=True,
                                       NetworkInterfaceId=world["nodes"][node]["eni_id"])

    def record(self, zone, name):
        rr = self.r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name,
                                                StartRecordType="A", MaxItems="1")
        for s in rr["ResourceRecordSets"]:
            if s["Name"].rstrip(".").lower() == name.rstrip(".") and s["Type"] == "A":
                return ",".join(v["Value"] for v in s["ResourceRecords"])
        return ""

    def set_record(self, zone, name, ip):
        cur = self.record(zone, name)
        if cur == (ip or ""):
            return
        if ip:
            ch = {"Action": "UPSERT", "ResourceRecordSet": {
                "Name": name, "Type": "A", "TTL": 10, "ResourceRecords": [{"Value": ip}]}}
        else:
            rr = self.r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name,
                                                    StartRecordType="A", MaxItems="1")
            ch = {"Action": "DELETE", "ResourceRecordSet": rr["ResourceRecordSets"][0]}
        self.r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [ch]})

    # ---- one measured run ---------------------------------------------------

    def env(self, impl, agent, node, action, params, interval, extra):
        e = {
            "PATH": SYS_PATH, "LC_ALL": "C", "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RA_VERSION_MAJOR": "1", "OCF_RA_VERSION_MINOR": "1",
            "OCF_RESOURCE_INSTANCE": f"bench_{agent}", "OCF_RESOURCE_TYPE": agent,
            "OCF_RESOURCE_PROVIDER": "aws" if impl == "ours" else "heartbeat",
            "OCF_EXIT_REASON_PREFIX": "ocf-exit-reason:",
            "OCF_RESKEY_CRM_meta_timeout": str(AGENT_TIMEOUT_S * 1000),
            "OCF_RESKEY_CRM_meta_on_node": node,
            "HA_RSCTMP": os.path.join(self.tmp, f"rsctmp-{node}"),
            # Both log to stderr only: nothing reaches the host's syslog.
            "HA_LOGFACILITY": "none", "HA_debug": "0",
            "HOME": self.home,
            "AWS_ENDPOINT_URL": self.proxy,
        }
        if action == "monitor":
            e["OCF_RESKEY_CRM_meta_interval"] = str(interval)
        for k, v in params.items():
            e[f"OCF_RESKEY_{k}"] = v
        e.update(extra)
        return e

    def fence_env(self, impl, extra):
        """A fence agent's environment: pacemaker-fenced's (PATH, locale, what
        /etc/default/pacemaker adds), its parameters come on stdin."""
        e = {"PATH": SYS_PATH, "LC_ALL": "C", "HOME": self.home,
             "AWS_ENDPOINT_URL": self.proxy,
             # fence_ec2 keeps the node's identity cache in HA_RSCTMP/ocf-aws
             # (default /run/resource-agents, shared with the resource agents):
             # the lab's own, not the host's, and one for the fence world.
             "HA_RSCTMP": os.path.join(self.tmp, "rsctmp-fence")}
        if impl == "theirs":
            # Debian's boto3 1.26 ignores AWS_ENDPOINT_URL: the pinned newer
            # one (bench/setup-fence-aws.sh) goes first on fence_aws's path.
            e["PYTHONPATH"] = self.args.fence_aws_pythonpath
        e.update(extra)
        return e

    def run(self, impl, agent, node, action, params, interval=10000, extra=None, latency_ms=0):
        stdin = None
        if agent.startswith("fence_"):
            # The fence-agents protocol: no arguments, key=value lines on stdin.
            path = (os.path.join(self.layout, "usr/sbin", agent) if impl == "ours"
                    else os.path.join("/usr/sbin", agent))
            env = self.fence_env(impl, extra or {})
            stdin = os.path.join(self.tmp, "in")
            with open(stdin, "w") as f:
                f.write("".join(f"{k}={v}\n" for k, v in {"action": action, **params}.items()))
        else:
            path = (os.path.join(self.layout, "usr/lib/ocf/resource.d/aws", agent) if impl == "ours"
                    else os.path.join(HB, agent))
            env = self.env(impl, agent, node, action, params, interval, extra or {})
        http("POST", self.proxy + "/_proxy/reset")
        if latency_ms:
            # A real region answers in tens of milliseconds; moto answers in
            # a few, one request at a time (Python's GIL). Latency added in
            # front of it shows whether requests are in flight together.
            http("POST", f"{self.proxy}/_proxy/rule?action=*&fault=latency&ms={latency_ms}")
        http("POST", f"http://{IMDS_ADDR}/_emulator/reset-stats")
        out = os.path.join(self.tmp, "out")
        err = os.path.join(self.tmp, "err")
        argv = ([self.spawn_bin, "-i", stdin, str(AGENT_TIMEOUT_S + 60), out, err, path] if stdin
                else [self.spawn_bin, str(AGENT_TIMEOUT_S + 60), out, err, path, action])
        m = subprocess.run(argv,
                           env=env, cwd="/", stdout=subprocess.PIPE, text=True, check=True)
        rc, wall, cpu, rss = m.stdout.split()
        rc, wall, cpu, rss = int(rc), float(wall), float(cpu), int(rss)
        api = http("GET", self.proxy + "/_proxy/stats")["by_action"]
        imds = http("GET", f"http://{IMDS_ADDR}/_emulator/stats")["requests"]
        with open(out) as f:
            stdout = f.read()
        with open(err) as f:
            stderr = f.read()
        return {"rc": rc, "wall_s": wall, "cpu_s": cpu, "rss_kb": rss,
                "api": api, "api_n": sum(api.values()), "imds_n": imds,
                "stdout": stdout, "stderr": stderr}


# Their cases that --quick skips (see main).
QUICK_SKIPS = (" start failover", " probe")


class Case:
    def __init__(self, key, impl, agent, action, node, params, pre, check, rc=0,
                 interval=10000, extra=None, world=None, runs=None, note="", prestart=False,
                 known="", latency_ms=0):
        self.__dict__.update(locals())
        del self.__dict__["self"]


def tail(s, n=6):
    return "\n".join(s.strip().splitlines()[-n:])


def measure(lab, c, runs, warmup):
    res = []
    fails = []
    for i in range(warmup + runs):
        c.pre()
        lab.be(c.world, c.node)
        if c.prestart:
            # A monitor or stop follows the agent's own start, as under
            # Pacemaker (ocf-aws keeps a state file in HA_RSCTMP).
            r = lab.run(c.impl, c.agent, c.node, "start", c.params, extra=c.extra)
            if r["rc"] != 0:
                sys.exit(f"bench: {c.impl} {c.key}: the start before it failed ({r['rc']}):\n"
                         + tail(r["stderr"] or r["stdout"]))
        r = lab.run(c.impl, c.agent, c.node, c.action, c.params, c.interval, c.extra,
                    c.latency_ms)
        why = []
        if r["rc"] != c.rc:
            why.append(f"exit {r['rc']}, want {c.rc}")
        else:
            why += [w for w in [c.check(r)] if w]
        if why:
            fails.append(f"run {i}: {'; '.join(why)}\n{tail(r['stderr'] or r['stdout'])}")
        if i >= warmup:
            res.append(r)
    med = lambda k: statistics.median(x[k] for x in res)
    api = max((x["api"] for x in res), key=lambda a: sum(a.values()))
    row = {"key": c.key, "impl": c.impl, "agent": c.agent, "action": c.action, "runs": runs,
           "warmup": warmup, "wall_s": med("wall_s"), "cpu_s": med("cpu_s"),
           "rss_kb": med("rss_kb"), "api_n": med("api_n"), "api": api,
           "imds_n": med("imds_n"), "ok": not fails, "failures": fails, "note": c.note,
           "known_failure": c.known if fails else ""}
    mark = "ok" if row["ok"] else ("FAILED (known: " + c.known + ")" if c.known else "FAILED")
    print(f"bench: {c.impl:6} {c.key:28} wall {row['wall_s']:8.3f}s cpu {row['cpu_s']:7.3f}s "
          f"rss {row['rss_kb'] / 1024:6.1f}MB api {row['api_n']:4g} imds {row['imds_n']:3g}  {mark}",
          file=sys.stderr, flush=True)
    for f in fails:
        print("bench:   " + f.replace("\n", "\n bench:   "), file=sys.stderr)
    return row


def cases(lab, args):
    """Every measured case, in run order."""
    aws = os.path.join(args.awscli_venv, "bin", "aws")
    w = lab.seed(3)
    n1, n2 = w["nodes"]["node1"], w["nodes"]["node2"]
    vip = w["vip"]
    out = []

    def meta(r):
        return None if "<resource-agent" in r["stdout"] else "no meta-data XML on stdout"

    # -- vip / aws-vpc-move-ip ---------------------------------------------
    def vip_state(world, routes_to, addr_on):
        def pre():
            lab.point_routes(world, routes_to)
            lab.set_addr(world, addr_on)
        return pre

    def vip_moved(world, node):
        eni = world["nodes"][node]["eni_id"]

        def check(r):
            got = lab.routes(world)
            bad = {t: e for t, e in got.items() if e != eni}
            if bad:
                return f"routes not at {node}'s {eni}: {bad}"
            if not lab.addr_on(DEVS[node], world["vip"]):
                return f"{world['vip']} not on {DEVS[node]}"
            return None
        return check

    def vip_params(impl, world, node, **kw):
        if impl == "ours":
            p = {"ip": world["vip"]}
        else:
            # lookup_type=NetworkInterfaceId: moto's ENI routes carry no
            # InstanceId (AWS fills it in), so the default lookup would never
            # see its own route.
            p = {"ip": world["vip"], "routing_table": ",".join(world["route_tables"]),
                 "interface": DEVS[node], "awscli": aws, "lookup_type": "NetworkInterfaceId"}
        p.update(kw)
        return p

    def unchanged_vip(world, node):
        def check(r):
            if not lab.addr_on(DEVS[node], world["vip"]):
                return f"{world['vip']} gone from {DEVS[node]}"
            return None
        return check

    for impl, agent in (("ours", "vip"), ("theirs", "aws-vpc-move-ip")):
        P = lambda node, **kw: vip_params(impl, w, node, **kw)
        out += [
            Case("vip start cold", impl, agent, "start", "node1", P("node1"),
                 vip_state(w, "node1", None), vip_moved(w, "node1"), world=w),
            Case("vip start failover", impl, agent, "start", "node2", P("node2"),
                 vip_state(w, "node1", None), vip_moved(w, "node2"), world=w),
            Case("vip stop", impl, agent, "stop", "node2", P("node2"),
                 vip_state(w, "node2", "node2"),
                 lambda r: f"{vip} still on {DEVS['node2']}" if lab.addr_on(DEVS["node2"], vip) else None,
                 world=w),
        ]
        if impl == "ours":
            out += [
                Case("vip monitor (local)", impl, agent, "monitor", "node2", P("node2"),
                     vip_state(w, "node2", "node2"), unchanged_vip(w, "node2"),
                     extra={"OCF_CHECK_LEVEL": "0"}, world=w, note="depth 0"),
                Case("vip monitor (API)", impl, agent, "monitor", "node2", P("node2"),
                     vip_state(w, "node2", "node2"), unchanged_vip(w, "node2"),
                     extra={"OCF_CHECK_LEVEL": "10"}, world=w, note="depth 10"),
            ]
        else:
            out += [
                Case("vip monitor (local)", impl, agent, "monitor", "node2", P("node2"),
                     vip_state(w, "node2", "node2"), unchanged_vip(w, "node2"), world=w,
                     note="monapi=false (default)"),
                Case("vip monitor (API)", impl, agent, "monitor", "node2", P("node2", monapi="true"),
                     vip_state(w, "node2", "node2"), unchanged_vip(w, "node2"), world=w,
                     note="monapi=true"),
            ]
        out += [
            Case("vip probe", impl, agent, "monitor", "node1", P("node1"),
                 vip_state(w, "node2", "node2"), lambda r: None, rc=7, interval=0, world=w),
            Case("vip meta-data", impl, agent, "meta-data", "node2", {}, lambda: None, meta, world=w),
            Case("vip validate-all", impl, agent, "validate-all", "node2", P("node2"),
                 vip_state(w, "node2", "node2"), lambda r: None, world=w),
        ]

    # -- eip / awseip ---------------------------------------------------------
    # A fresh Elastic IP for every run: moto leaves a disassociated address
    # in DescribeInstances' view of the instance, where awseip's monitor
    # (`describe-instances | grep EIP`) would find it forever.
    cur = {}

    def eip_state(node):
        def pre():
            a = lab.ec2.allocate_address(Domain="vpc")
            cur.update(allocation_id=a["AllocationId"], elastic_ip=a["PublicIp"])
            for p in params.values():
                p.update({k: v for k, v in cur.items() if k in p})
            lab.set_eip(w, cur["allocation_id"], node)
        return pre

    def eip_at(node):
        want = w["nodes"][node]["eni_id"] if node else ""

        def check(r):
            got = lab.eip(cur["allocation_id"])
            return None if got == want else f"EIP associated with {got or 'nothing'}, want {want or 'nothing'}"
        return check

    params = {}
    for impl, agent in (("ours", "eip"), ("theirs", "awseip")):
        def P(node, impl=impl):
            if (impl, node) not in params:
                params[(impl, node)] = {"allocation_id": ""} if impl == "ours" else {
                    "elastic_ip": "", "allocation_id": "", "awscli": aws,
                    "private_ip_address": w["nodes"][node]["private_ip"]}
            return params[(impl, node)]
        out += [
            Case("eip start cold", impl, agent, "start", "node1", P("node1"), eip_state(None),
                 eip_at("node1"), world=w),
            Case("eip start failover", impl, agent, "start", "node2", P("node2"), eip_state("node1"),
                 eip_at("node2"), world=w, known="" if impl == "ours" else (
                     "awseip associates without --allow-reassociation, so where reassociation is "
                     "not automatic (moto itself; EC2 reassociates, as the test world does) an EIP "
                     "still associated with the failed node is refused (Resource.AlreadyAssociated) "
                     "and moves only after a clean stop on the old node")),
            Case("eip stop", impl, agent, "stop", "node2", P("node2"), eip_state("node2"),
                 eip_at(None), world=w),
            Case("eip monitor", impl, agent, "monitor", "node2", P("node2"), eip_state("node2"),
                 eip_at("node2"), world=w),
            Case("eip probe", impl, agent, "monitor", "node1", P("node1"), eip_state("node2"),
                 eip_at("node2"), rc=7, interval=0, world=w),
            Case("eip meta-data", impl, agent, "meta-data", "node2", {}, lambda: None, meta, world=w),
            Case("eip validate-all", impl, agent, "validate-all", "node2", P("node2"),
                 eip_state("node2"), eip_at("node2"), world=w),
        ]

    # -- dns / aws-vpc-route53 ----------------------------------------------
    zname = "bench.example.internal"
    zone = lab.r53.create_hosted_zone(
        Name=zname, CallerReference=str(time.time()),
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": REGION, "VPCId": w["vpc_id"]})["HostedZone"]["Id"].split("/")[-1]
    lab.dns(zone)
    name = f"db.{zname}"

    def rec_state(node):
        return lambda: lab.set_record(zone, name, w["nodes"][node]["private_ip"] if node else None)

    def rec_is(node):
        want = w["nodes"][node]["private_ip"]

        def check(r):
            got = lab.record(zone, name)
            return None if got == want else f"record {name} = {got or 'absent'}, want {want}"
        return check

    for impl, agent in (("ours", "dns"), ("theirs", "aws-vpc-route53")):
        if impl == "ours":
            P = {"hosted_zone_id": zone, "name": name, "wait_sync": "true"}
        else:
            P = {"hostedzoneid": zone, "fullname": name + ".", "ip": "local", "ttl": "10",
                 "awscli": aws}
        out += [
            Case("dns start cold", impl, agent, "start", "node1", P, rec_state(None), rec_is("node1"),
                 world=w),
            Case("dns start failover", impl, agent, "start", "node2", P, rec_state("node1"),
                 rec_is("node2"), world=w),
            Case("dns stop", impl, agent, "stop", "node2", P, rec_state("node2"), rec_is("node2"),
                 world=w),
            Case("dns monitor", impl, agent, "monitor", "node2", P, rec_state("node2"),
                 rec_is("node2"), world=w),
            Case("dns probe", impl, agent, "monitor", "node1", P, rec_state("node2"), rec_is("node2"),
                 rc=7, interval=0, world=w),
            Case("dns meta-data", impl, agent, "meta-data", "node2", {}, lambda: None, meta, world=w),
            Case("dns validate-all", impl, agent, "validate-all", "node2", P, rec_state("node2"),
                 rec_is("node2"), world=w),
        ]

    # -- az (ours only: ClusterLabs has no equivalent) ------------------------
    attrd = os.path.join(lab.tmp, "attrd.log")
    az_env = {"PATH": WORLD_DIR + ":" + SYS_PATH, "ATTRD_LOG": attrd, "ATTRD_NODE": "node1"}

    def az_pre():
        if os.path.exists(attrd):
            os.unlink(attrd)

    def az_written(r):
        try:
            with open(attrd) as f:
                calls = [json.loads(x) for x in f if x.strip()]
        except FileNotFoundError:
            calls = []
        ok = [c for c in calls if c.get("name") == "#health-aws-az" and c.get("value") == "green"]
        return None if ok else f"no #health-aws-az=green written (attrd calls: {calls})"

    out += [
        Case("az monitor", "ours", "az", "monitor", "node1", {}, az_pre, az_written,
             extra=az_env, world=w),
        Case("az meta-data", "ours", "az", "meta-data", "node1", {}, lambda: None, meta, world=w),
    ]

    # -- fence_ec2 / fence_aws: node1 fences node2 -----------------------------
    # A world of its own, so stopping node2's instance touches no other case.
    wf = lab.seed(1)
    victim, me = wf["nodes"]["node2"]["instance_id"], wf["nodes"]["node1"]["instance_id"]

    def inst_state(iid):
        r = lab.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        return r["State"]["Name"]

    def power(state):
        def pre():
            # Moto stops and starts at once (tests/world/README.md).
            if state == "running" and inst_state(victim) != "running":
                lab.ec2.start_instances(InstanceIds=[victim])
            elif state == "stopped" and inst_state(victim) != "stopped":
                lab.ec2.stop_instances(InstanceIds=[victim], Force=True)
        return pre

    def is_(state, calls=None, out=None):
        def check(r):
            got = inst_state(victim)
            if got != state:
                return f"{victim} is {got}, want {state}"
            if inst_state(me) != "running":
                return f"the fencing node's own {me} is {inst_state(me)}"
            for op, want in (calls or {}).items():
                if r["api"].get(op, 0) != want:
                    return f"{r['api'].get(op, 0)} {op}, want {want} (API: {r['api']})"
            for s in out or ():
                if s not in r["stdout"]:
                    return f"{s!r} not in stdout: {r['stdout'].strip()[:300]!r}"
            return None
        return check

    for impl, agent in (("ours", "fence_ec2"), ("theirs", "fence_aws")):
        # The same device parameters for both, as pcs would pass them.
        P = {"plug": victim, "region": REGION, "filter": f"vpc-id={wf['vpc_id']}"}
        F = lambda action, pre, check, rc=0, params=P, **kw: Case(
            f"fence {action}", impl, agent, action, "node1", params, pre, check, rc=rc,
            world=wf, **kw)
        out += [
            F("off", power("running"), is_("stopped", {"StopInstances": 1})),
            F("on", power("stopped"), is_("running", {"StartInstances": 1})),
            F("reboot", power("running"), is_("running", {"StopInstances": 1, "StartInstances": 1})),
            F("status", power("running"), is_("running", {"StopInstances": 0})),
            F("list", power("running"), is_("running", {"StopInstances": 0}, out=[victim, me])),
            F("monitor", power("running"), is_("running", {"StopInstances": 0})),
            F("metadata", lambda: None, meta, params={}),
            F("validate-all", power("running"), is_("running", {"StopInstances": 0})),
        ]

    for c in out:
        if c.agent in ("eip", "dns", "az", "awseip", "aws-vpc-route53") and c.interval and \
                c.action in ("monitor", "stop"):
            c.prestart = True

    # -- route-table scaling: vip start as failover ---------------------------
    for n in (1, 10, 50):
        ws = lab.seed(n)
        for impl, agent in (("ours", "vip"), ("theirs", "aws-vpc-move-ip")):
            note, runs = "", None
            if impl == "theirs" and n > 1 and args.quick:
                # Their per-table loop is what 1 table already exercises;
                # CI's quick mode only guards the harness.
                note = f"skipped in quick mode (~{'1' if n == 10 else '4'} min a run)"
                runs = 0
            elif impl == "theirs" and n == 50:
                note = "1 run, no warm-up (~4 min a run)"
                runs = 1
            out.append(Case(f"vip start failover, {n} tables", impl, agent, "start", "node2",
                            vip_params(impl, ws, "node2"), vip_state(ws, "node1", None),
                            vip_moved(ws, "node2"), world=ws, runs=runs, note=note))
        if n in (1, 50):
            out.append(Case(f"vip start failover, {n} tables, +{LATENCY_MS} ms API latency",
                            "ours", "vip", "start", "node2", vip_params("ours", ws, "node2"),
                            vip_state(ws, "node1", None), vip_moved(ws, "node2"), world=ws,
                            latency_ms=LATENCY_MS,
                            note=f"{LATENCY_MS} ms added to every API request by the proxy"))
    return out


# ---- report -------------------------------------------------------------------

def machine(args):
    def first(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=30).stdout.strip().splitlines()[0]
        except Exception as e:  # a missing tool only blanks its line
            return f"? ({e})"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    deb = "?"
    if os.path.exists("/etc/debian_version"):
        with open("/etc/debian_version") as f:
            deb = f.read().strip()
    mem = "?"
    with open("/proc/meminfo") as f:
        m = re.search(r"MemTotal:\s+(\d+)", f.read())
        if m:
            mem = f"{int(m.group(1)) / 1024 / 1024:.1f} GiB"
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory": mem, "kernel": platform.release(),
        "debian": deb,
        "rustc": first(["rustc", "--version"]),
        "ocf_aws": first([args.bin, "--version"]),
        "awscli": first([os.path.join(args.awscli_venv, "bin", "aws"), "--version"]),
        "resource_agents": first(["dpkg-query", "-W", "-f", "${Version}", "resource-agents"]),
        "fence_agents": first(["dpkg-query", "-W", "-f", "${Version}", "fence-agents"]),
        "boto3_of_fence_aws": first(["env", f"PYTHONPATH={args.fence_aws_pythonpath}", "/usr/bin/python3",
                                     "-c", "import boto3; print(boto3.__version__)"]),
        "moto": first([os.path.join(args.venv, "bin", "python"), "-c",
                       "import moto; print(moto.__version__)"]),
        "python_of_awscli": first(["/usr/bin/python3", "--version"]),
    }


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def fmt_ratio(r):
    if r is None:
        return "–"
    if r < 0.01:
        return f"1/{1 / r:.0f}" if r > 0 else "0"
    return f"{r:.2f}"


def report(rows, mach, args, elapsed):
    by = {(r["key"], r["impl"]): r for r in rows}
    keys = list(dict.fromkeys(r["key"] for r in rows))
    L = []
    mode = "quick (1 run each, no warm-up)" if args.quick else f"full (median of {args.runs} runs after 1 warm-up)"
    L.append("# ocf-aws vs ClusterLabs resource-agents and fence-agents: side-by-side benchmark\n")
    L.append(f"Generated {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} "
             f"by `bash bench/run.sh{' --quick' if args.quick else ''}` in {elapsed / 60:.1f} min; mode: {mode}.\n")
    L.append("| Machine | |\n| --- | --- |")
    for k, v in mach.items():
        L.append(f"| {k} | {v} |")
    L.append("")
    L.append("ours = ocf-aws release build through the installed layout; theirs = Debian "
             "resource-agents (aws-vpc-move-ip, awseip, aws-vpc-route53) with the pinned AWS CLI v1, "
             "and Debian fence-agents' fence_aws with a pinned newer boto3 (fence rows: node1 "
             "fences node2; fence_ec2 through /usr/sbin/fence_ec2 of the installed layout). "
             "Same moto (via a counting pass-through proxy), same IMDS emulator on "
             "169.254.169.254, same network namespace; credentials from the instance role for both. "
             "Wall and CPU in seconds, peak RSS in MB (largest process of the tree); ratio = ours/theirs. "
             "API and IMDS = requests counted at the emulators. Status: every run's exit code and "
             "effect were checked in the emulator.\n")
    L.append("| Case | wall ours | wall theirs | ratio | CPU ours | CPU theirs | ratio | RSS ours | "
             "RSS theirs | ratio | API ours | API theirs | IMDS ours | IMDS theirs | status |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for k in keys:
        o, t = by.get((k, "ours")), by.get((k, "theirs"))

        def v(r, f, scale=1, d=3):
            return "–" if not r or r.get("skipped") else f"{r[f] / scale:.{d}f}"

        def rr(f):
            if not o or not t or o.get("skipped") or t.get("skipped"):
                return "–"
            return fmt_ratio(ratio(o[f], t[f]))

        def n(r, f):
            return "–" if not r or r.get("skipped") else f"{r[f]:g}"
        st = []
        for r in (o, t):
            if r and not r.get("skipped"):
                st.append("ok" if r["ok"] else f"**FAILED** ({r['impl']}"
                          + (", known, see below)" if r.get("known_failure") else ")"))
        notes = "; ".join(f"{r['impl']}: {r['note']}" for r in (o, t) if r and r["note"])
        status = ", ".join(dict.fromkeys(st)) + (f" ({notes})" if notes else "")
        L.append(f"| {k} | {v(o, 'wall_s')} | {v(t, 'wall_s')} | {rr('wall_s')} | {v(o, 'cpu_s')} | "
                 f"{v(t, 'cpu_s')} | {rr('cpu_s')} | {v(o, 'rss_kb', 1024, 1)} | {v(t, 'rss_kb', 1024, 1)} | "
                 f"{rr('rss_kb')} | {n(o, 'api_n')} | {n(t, 'api_n')} | {n(o, 'imds_n')} | "
                 f"{n(t, 'imds_n')} | {status} |")
    L.append("\n## API requests by operation\n")
    L.append("| Case | ours | theirs |\n| --- | --- | --- |")
    for k in keys:
        o, t = by.get((k, "ours")), by.get((k, "theirs"))
        f = lambda r: "–" if not r or r.get("skipped") else (
            ", ".join(f"{a} {c}" for a, c in sorted(r["api"].items())) or "none")
        L.append(f"| {k} | {f(o)} | {f(t)} |")
    targets = check_targets(by)
    L.append("\n## Targets (issue 6; fence: issue 12)\n")
    L.append("| Target | measured | met |\n| --- | --- | --- |")
    for name, meas, met in targets:
        L.append(f"| {name} | {meas} | {'yes' if met else ('**no**' if met is False else 'n/a')} |")
    fails = [r for r in rows if not r.get("skipped") and not r["ok"]]
    if fails:
        L.append("\n## Failed correctness checks\n")
        for r in fails:
            known = f" Known: {r['known_failure']}." if r.get("known_failure") else ""
            L.append(f"- {r['impl']} {r['key']}:{known}\n```\n" + "\n".join(r["failures"][:2]) + "\n```")
    L.append("\n## How it is measured\n")
    how = __doc__.split("Measurement of one run", 1)[1].split("\n\n")[0]
    L.append("Measurement of one run " + " ".join(how.split()) + "\n")
    L.append(ADAPTATIONS)
    return "\n".join(L) + "\n", targets


ADAPTATIONS = """## What the ClusterLabs agents were given to run here

- `awscli` = the pinned AWS CLI v1 venv (`bench/requirements-awscli.txt`), `AWS_ENDPOINT_URL`
  pointing at the emulator; `HOME` with `~/.aws/config` = `[default] region = us-east-1` and no
  keys (their `--profile default` needs the profile to exist; awseip passes no `--region`).
  The same HOME is given to ocf-aws. Both get credentials from the instance role in imds.py.
- aws-vpc-move-ip: `routing_table` (all tables holding the VIP), `interface` (the node's veth),
  `lookup_type=NetworkInterfaceId` (moto leaves `InstanceId` off routes to an ENI, so the
  default `InstanceId` lookup would never find its own route). Its `sleep 1` after each
  table is part of what is measured, as is awseip's default `api_delay=3` and
  aws-vpc-route53's 20 s wait before its first GetChange.
- awseip: `elastic_ip`, `allocation_id`, `private_ip_address` (associates with the ENI, as
  ocf-aws does).
- aws-vpc-route53: `fullname` with the trailing dot, `ip=local`, `ttl=10`; its recurring
  monitor uses `dig`, answered by `tests/world/dns_responder.py` on 127.0.0.1:53 from moto's zone.
- Both log to stderr only (`HA_LOGFACILITY=none`).
- fence_aws (fence-agents 4.12): the pinned boto3/botocore 1.44.5 of
  `bench/requirements-fence-aws.txt` first on its `PYTHONPATH` (Debian's boto3 1.26 ignores
  `AWS_ENDPOINT_URL`); jmespath, dateutil, urllib3, requests and the fencing library stay
  Debian's. The same stdin for both agents (`action`, `plug` = node2's instance id,
  `region`, `filter=vpc-id=…`), the same environment (`PATH`, `LC_ALL`, `HOME` as above,
  `AWS_ENDPOINT_URL`), credentials from the instance role for both. Its polls (every second
  until the state is reached) are part of what is measured.
"""


def check_targets(by):
    def g(k, impl, f):
        r = by.get((k, impl))
        return None if not r or r.get("skipped") else r[f]

    T = []

    def rat(name, k, f, limit, k2=None):
        o, t = g(k, "ours", f), g(k2 or k, "theirs", f)
        r = ratio(o, t)
        T.append((name, "–" if r is None else f"{fmt_ratio(r)} ({o:.3g} / {t:.3g})",
                  None if r is None else r <= limit))

    rat("vip start (failover, 3 tables): wall ≤ 1/50", "vip start failover", "wall_s", 1 / 50)
    rat("dns start (failover, wait_sync): wall ≤ 1/50", "dns start failover", "wall_s", 1 / 50)
    rat("eip start (failover): wall ≤ 1/20", "eip start failover", "wall_s", 1 / 20)
    rat("eip start (cold): wall ≤ 1/20", "eip start cold", "wall_s", 1 / 20)
    rat("vip monitor depth 10 vs monapi=true: CPU ≤ 1/50", "vip monitor (API)", "cpu_s", 1 / 50)
    rat("vip monitor depth 10 vs monapi=true: peak RSS ≤ 1/3", "vip monitor (API)", "rss_kb", 1 / 3)
    rat("eip monitor: CPU ≤ 1/20", "eip monitor", "cpu_s", 1 / 20)
    rat("dns monitor: CPU ≤ 1/20", "dns monitor", "cpu_s", 1 / 20)
    rat("vip monitor depth 0 vs default monitor: wall ≤ 1", "vip monitor (local)", "wall_s", 1)
    rat("vip monitor depth 0 vs default monitor: peak RSS ≤ 1", "vip monitor (local)", "rss_kb", 1)
    s1, s50 = g("vip start failover, 1 tables", "ours", "wall_s"), g("vip start failover, 50 tables", "ours", "wall_s")
    r = ratio(s50, s1)
    T.append(("ours: vip start with 50 tables ≤ 1.5 × with 1 table",
              "–" if r is None else f"{r:.2f} × ({s50:.3f} / {s1:.3f} s)", None if r is None else r <= 1.5))

    k1 = f"vip start failover, 1 tables, +{LATENCY_MS} ms API latency"
    s1, s50 = g(k1, "ours", "wall_s"), g(k1.replace("1 tables", "50 tables"), "ours", "wall_s")
    seq = None if s1 is None else s1 + 49 * LATENCY_MS / 1000
    T.append((f"ours: the 50 ReplaceRoutes are in flight together (with {LATENCY_MS} ms API "
              f"latency, 50 tables take less than 1 table + 49 × {LATENCY_MS} ms; moto itself "
              "answers one request at a time)",
              "–" if s50 is None or s1 is None
              else f"{s50:.3f} s vs {s1:.3f} s + 49 × {LATENCY_MS} ms = {seq:.3f} s",
              None if s50 is None or s1 is None else s50 < seq))

    def api_floor(name, k, want):
        a = g(k, "ours", "api")
        if a is None:
            T.append((name, "–", None))
            return
        T.append((name, ", ".join(f"{x} {c}" for x, c in sorted(a.items())) or "none", want(a)))

    extra = lambda a, allowed: sum(c for x, c in a.items() if x not in allowed)
    api_floor("vip start (failover, 3 tables) = 1 DescribeRouteTables + 3 ReplaceRoute",
              "vip start failover",
              lambda a: a.get("DescribeRouteTables") == 1 and a.get("ReplaceRoute") == 3
              and extra(a, {"DescribeRouteTables", "ReplaceRoute"}) == 0)
    # ocf-aws re-reads the tables once after writing: that read is what
    # settles two nodes starting the VIP at once (split brain, issue 7).
    api_floor("vip start (failover, 3 tables) = the above + 1 DescribeRouteTables that settles "
              "split-brain races", "vip start failover",
              lambda a: a.get("DescribeRouteTables") == 2 and a.get("ReplaceRoute") == 3
              and extra(a, {"DescribeRouteTables", "ReplaceRoute"}) == 0)
    api_floor("vip start (cold, routes already here) = 1 DescribeRouteTables", "vip start cold",
              lambda a: a.get("DescribeRouteTables") == 1 and extra(a, {"DescribeRouteTables"}) == 0)
    api_floor("eip start = 1 DescribeAddresses + 1 AssociateAddress", "eip start failover",
              lambda a: a.get("DescribeAddresses") == 1 and a.get("AssociateAddress") == 1
              and extra(a, {"DescribeAddresses", "AssociateAddress"}) == 0)
    api_floor("dns start = 1 List + 1 Change + GetChange polls", "dns start failover",
              lambda a: a.get("ListResourceRecordSets") == 1 and a.get("ChangeResourceRecordSets") == 1
              and extra(a, {"ListResourceRecordSets", "ChangeResourceRecordSets", "GetChange"}) == 0)
    a = g("vip monitor (local)", "ours", "api_n")
    i = g("vip monitor (local)", "ours", "imds_n")
    T.append(("vip monitor depth 0: 0 AWS and ≤ 1 IMDS requests",
              "–" if a is None else f"{a:g} AWS, {i:g} IMDS", None if a is None else a == 0 and i <= 1))
    # fence_ec2 against fence_aws (issue 12).
    rat("fence off: wall ≤ 1/10", "fence off", "wall_s", 1 / 10)
    rat("fence monitor: CPU ≤ 1/20", "fence monitor", "cpu_s", 1 / 20)
    rat("fence status: peak RSS ≤ 1/3", "fence status", "rss_kb", 1 / 3)
    # The race check is one DescribeInstances (this node's own instance and
    # the target's state), then StopInstances, then DescribeInstances until
    # stopped (moto stops at once: one poll).
    api_floor("fence off = 1 DescribeInstances (race check) + 1 StopInstances + the polls",
              "fence off",
              lambda a: a.get("StopInstances") == 1 and a.get("DescribeInstances", 0) >= 2
              and extra(a, {"DescribeInstances", "StopInstances"}) == 0)
    p = g("fence off", "ours", "api")
    T.append(("fence off: polls (DescribeInstances after StopInstances) here, where moto "
              "stops at once", "–" if p is None else f"{p.get('DescribeInstances', 0) - 1}",
              None if p is None else p.get("DescribeInstances", 0) - 1 == 1))
    for agent in ("vip", "eip", "dns", "az"):
        w = g(f"{agent} meta-data", "ours", "wall_s")
        T.append((f"{agent} meta-data ≤ 5 ms wall", "–" if w is None else f"{w * 1000:.1f} ms",
                  None if w is None else w <= 0.005))
    return T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="ocf-aws binary to measure")
    ap.add_argument("--venv", required=True, help="moto venv (tests/world/setup-venv.sh)")
    ap.add_argument("--awscli-venv", required=True, help="AWS CLI venv (bench/setup-awscli.sh)")
    ap.add_argument("--fence-aws-pythonpath", required=True,
                    help="fence_aws's newer boto3 (bench/setup-fence-aws.sh)")
    ap.add_argument("--quick", action="store_true", help="one run each, no warm-up (CI)")
    ap.add_argument("--runs", type=int, default=5, help="measured runs per case (full mode)")
    ap.add_argument("--snapshot", action="store_true",
                    help="also write bench/results/snapshot.md/.json")
    ap.add_argument("--only", help="regex: run only cases whose name matches")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = ap.parse_args()
    if args.snapshot and args.quick:
        sys.exit("bench: a snapshot is a full run; drop --quick")
    if os.getuid() != 0:
        sys.exit("bench: run me through bench/run.sh (as root, in a new namespace)")
    t0 = time.monotonic()
    lab = Lab(args)
    rows = []
    try:
        lab.up()
        for c in cases(lab, args):
            if args.only and not re.search(args.only, c.key):
                continue
            runs = 1 if args.quick else args.runs
            warm = 0 if args.quick else 1
            if c.runs is not None:
                runs, warm = min(runs, c.runs), 0
            if args.quick and c.impl == "theirs" and c.key.endswith(QUICK_SKIPS):
                # Their start and monitor take the same path as the cold
                # start and the monitor before them; CI's quick mode only
                # guards the harness, and these cost a minute of its time.
                runs = 0
                c.note = "skipped in quick mode (the same code path as start cold / monitor)"
            if runs == 0:
                rows.append({"key": c.key, "impl": c.impl, "agent": c.agent, "action": c.action,
                             "skipped": True, "ok": True, "note": c.note})
                continue
            rows.append(measure(lab, c, runs, warm))
    finally:
        lab.down()
    elapsed = time.monotonic() - t0
    mach = machine(args)
    md, targets = report(rows, mach, args, elapsed)
    data = {"mode": "quick" if args.quick else "full", "runs": 1 if args.quick else args.runs,
            "elapsed_s": elapsed, "machine": mach, "rows": rows,
            "targets": [{"target": n, "measured": m, "met": ok} for n, m, ok in targets]}
    os.makedirs(args.out, exist_ok=True)
    names = ["latest"] + (["snapshot"] if args.snapshot else [])
    for n in names:
        with open(os.path.join(args.out, n + ".md"), "w") as f:
            f.write(md)
        with open(os.path.join(args.out, n + ".json"), "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
    print(md)
    bad = [r for r in rows if not r["ok"] and not r.get("known_failure")]
    print(f"bench: {len(rows)} cases, {len(bad)} failed correctness, {elapsed:.0f} s; "
          f"wrote {', '.join(os.path.join(args.out, n + '.{md,json}') for n in names)}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
