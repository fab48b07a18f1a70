#!/usr/bin/env python3
"""EC2 instance metadata service (IMDS) emulator, impersonating one seeded node.

    python3 imds.py --world world.json --node node1 [--host 127.0.0.1] [--port 0]
        [--port-file F] [--mode v2-optional|v2-only|v1-only] [--role NAME]
        [--token-ttl-max SECONDS] [--v1-put-status 403] [--verbose]
        [--no-pdeathsig | --detached]

STDLIB ONLY on purpose: tests start one per node per test, so it must start in
tens of milliseconds with any python3, without the moto venv.

Modes (what the instance's HttpTokens setting would give):
  v2-optional  token optional on GET (a supplied token must still be valid)
  v2-only      GET without a token -> 401 (HttpTokens=required)
  v1-only      IMDSv2 unavailable: the token PUT fails (403 by default, the
               status real IMDS uses for "forbidden/turned off"; SDKs fall back
               to v1 on 403, 404 and 405 alike, see --v1-put-status) and any
               token header on GET is ignored, as a pre-v2 IMDS would.

Test hooks (not counted in the stats):
  GET  /_emulator/stats           {"requests","token_puts","tokens_issued",
                                   "by_path","by_status","mode"}
  POST /_emulator/reset-stats
  POST /_emulator/expire-tokens   forget all tokens: the next GET with one is 401
  POST /_emulator/mode?m=MODE     switch mode at runtime
"""
import sys

# http.server imports http.client, which imports ssl if it can: ~10-20 ms of
# start-up for TLS we never serve. Marking it absent makes that import fail
# softly (http.client expects that on builds without ssl).
sys.modules.setdefault("ssl", None)

import argparse
import datetime
import http.server
import json
import secrets
import string
import threading
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import world  # noqa: E402  (the emulators' shared plumbing, tests/world/world.py)

TOKEN_PATH = "/latest/api/token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
MODES = ("v2-optional", "v2-only", "v1-only")
CRED_LIFETIME = 3600

ERROR_PAGE = world.IMDS_ERROR_PAGE


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def aws_json(obj):
    # EC2 pretty-prints its JSON documents with " : " separators.
    return json.dumps(obj, indent=2, separators=(",", " : "))


def fake_key(prefix, n):
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(n))


class Credentials:
    """Role credentials that rotate like EC2's: valid an hour, replaced once
    less than 15 minutes remain. moto accepts any key, so they also work
    against the moto server."""

    def __init__(self):
        self.lock = threading.Lock()
        self.issued = 0.0

    def document(self):
        with self.lock:
            now = time.time()
            if now > self.issued + CRED_LIFETIME - 900:
                self.issued = now
                self.doc = {
                    "Code": "Success",
                    "LastUpdated": iso(now),
                    "Type": "AWS-HMAC",
                    "AccessKeyId": fake_key("ASIA", 16),
                    "SecretAccessKey": secrets.token_urlsafe(30)[:40],
                    "Token": secrets.token_urlsafe(96),
                    "Expiration": iso(now + CRED_LIFETIME),
                }
            return aws_json(self.doc)


# Real IMDS lists an ENI's addresses as they are now (secondary ones come
# and go); the seed only knows the first ones. Ask moto, as of this request;
# if it cannot answer, say what the seed knows.
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def describe_eni(world_doc, n):
    """moto's DescribeNetworkInterfaces item for the node's ENI, or None."""
    endpoint = world_doc.get("endpoint")
    if not endpoint:
        return None
    body = urllib.parse.urlencode({
        "Action": "DescribeNetworkInterfaces",
        "Version": "2016-11-15",
        "NetworkInterfaceId.1": n["eni_id"],
    }).encode()
    req = urllib.request.Request(endpoint.rstrip("/") + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        # moto reads the region (and account) from the credential scope.
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIMDSEMULATOR/20260101/"
                         f"{world_doc['region']}/ec2/aws4_request, SignedHeaders=host, Signature=0",
    })
    try:
        with NO_PROXY.open(req, timeout=2) as r:
            return ET.fromstring(r.read())
    except (OSError, ValueError, ET.ParseError):
        return None


def child_text(elem, name, default=None):
    return next((c.text for c in elem if c.tag.endswith(name)), default)


def live_ipv4s(world_doc, n):
    primary = n["private_ip"]
    root = describe_eni(world_doc, n)
    if root is None:
        return primary
    ips = []
    for item in root.iter():
        if item.tag.endswith("privateIpAddressesSet"):
            for a in item:
                ip = child_text(a, "privateIpAddress")
                if ip:
                    ips.insert(0, ip) if child_text(a, "primary", "false") == "true" \
                        else ips.append(ip)
    return "\n".join(ips) if ips else primary


def live_ipv6s(world_doc, n):
    """The ENI's IPv6 addresses now; None (404, as IMDS) when it has none."""
    root = describe_eni(world_doc, n)
    if root is None:
        return n.get("ipv6")
    ips = []
    for item in root.iter():
        if item.tag.endswith("ipv6AddressesSet"):
            ips.extend(ip for ip in (child_text(a, "ipv6Address") for a in item) if ip)
    return "\n".join(ips) or None


def build_tree(world, node, role):
    """The metadata namespace as nested dicts. A dict is a directory (listed
    with a trailing '/'); a str is a leaf; a callable is a leaf computed per
    request. Keys absent on a real instance (public-ipv4 without a public IP,
    iam/ without a role) are left out, so they 404 and are not listed."""
    n = world["nodes"][node]
    region = world["region"]
    account = world.get("account_id", "123456789012")
    domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    local_host = "ip-" + n["private_ip"].replace(".", "-") + "." + domain
    public_ip = n.get("public_ip")
    cidrs = world.get("vpc_cidrs") or ["10.0.0.0/16"]

    iface = {
        "device-number": str(n.get("device_number", 0)),
        "interface-id": n["eni_id"],
        "local-hostname": local_host,
        "local-ipv4s": lambda: live_ipv4s(world, n),
        "mac": n["mac"],
        "owner-id": account,
        "security-groups": "default",
        "subnet-id": n["subnet_id"],
        "vpc-id": world["vpc_id"],
        "vpc-ipv4-cidr-block": cidrs[0],
        "vpc-ipv4-cidr-blocks": "\n".join(cidrs),
    }
    if n.get("subnet_cidr"):
        iface["subnet-ipv4-cidr-block"] = n["subnet_cidr"]
        iface["subnet-ipv4-cidr-blocks"] = n["subnet_cidr"]
    # IPv6 (a dual-stack world): the blocks are the seed's, the addresses
    # live. IMDS has these keys only where the VPC, subnet, ENI have IPv6.
    if world.get("vpc_ipv6_cidrs"):
        iface["vpc-ipv6-cidr-blocks"] = "\n".join(world["vpc_ipv6_cidrs"])
    if n.get("subnet_ipv6_cidr"):
        iface["subnet-ipv6-cidr-blocks"] = n["subnet_ipv6_cidr"]
        iface["ipv6s"] = lambda: live_ipv6s(world, n)
    meta = {
        "ami-id": n.get("ami_id", "ami-1e749f67"),
        "ami-launch-index": "0",
        "hostname": local_host,
        "instance-id": n["instance_id"],
        "instance-type": n.get("instance_type", "t3.micro"),
        "local-hostname": local_host,
        "local-ipv4": n["private_ip"],
        "mac": n["mac"],
        "network": {"interfaces": {"macs": {n["mac"]: iface}}},
        "placement": {"availability-zone": n["az"], "region": region},
        "security-groups": "default",
        "services": {"domain": "amazonaws.com", "partition": "aws"},
    }
    if public_ip:
        pub_host = "ec2-" + public_ip.replace(".", "-") + (
            ".compute-1.amazonaws.com" if region == "us-east-1"
            else f".{region}.compute.amazonaws.com")
        meta["public-ipv4"] = public_ip
        meta["public-hostname"] = pub_host
        iface["public-ipv4s"] = public_ip
        iface["public-hostname"] = pub_host
    if role:
        creds = Credentials()
        meta["iam"] = {
            "info": aws_json({
                "Code": "Success",
                "LastUpdated": iso(time.time()),
                "InstanceProfileArn": f"arn:aws:iam::{account}:instance-profile/{role}",
                "InstanceProfileId": fake_key("AIPA", 17),
            }),
            "security-credentials": {role: creds.document},
        }
    identity = aws_json({
        "accountId": account,
        "architecture": "x86_64",
        "availabilityZone": n["az"],
        "billingProducts": None,
        "devpayProductCodes": None,
        "marketplaceProductCodes": None,
        "imageId": meta["ami-id"],
        "instanceId": n["instance_id"],
        "instanceType": meta["instance-type"],
        "kernelId": None,
        "pendingTime": iso(time.time()),
        "privateIp": n["private_ip"],
        "ramdiskId": None,
        "region": region,
        "version": "2017-09-30",
    })
    latest = {"meta-data": meta, "dynamic": {"instance-identity": {"document": identity}}}
    return {"latest": latest}


def lookup(tree, path):
    """Body for a GET path, or None for 404. Directories answer with or
    without the trailing slash (as IMDS does); a leaf with one is a 404."""
    node = tree
    for part in [p for p in path.split("/") if p]:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, dict):
        return "\n".join(k + "/" if isinstance(v, dict) else k
                         for k, v in sorted(node.items()))
    if path.endswith("/"):
        return None
    return node() if callable(node) else node


class State:
    def __init__(self, tree, mode, ttl_max, v1_put_status):
        self.tree = tree
        self.mode = mode
        self.ttl_max = ttl_max
        self.v1_put_status = v1_put_status
        self.lock = threading.Lock()
        self.tokens = {}  # token -> monotonic expiry
        self.reset_stats()

    def reset_stats(self):
        with self.lock:
            self.requests = 0
            self.token_puts = 0  # PUT /latest/api/token, whatever the answer
            self.tokens_issued = 0
            self.by_path = {}
            self.by_status = {}

    def count(self, path, status, is_put):
        with self.lock:
            self.requests += 1
            self.token_puts += is_put
            self.by_path[path] = self.by_path.get(path, 0) + 1
            self.by_status[str(status)] = self.by_status.get(str(status), 0) + 1

    def issue(self, ttl):
        token = secrets.token_urlsafe(42)
        with self.lock:
            self.tokens_issued += 1
            self.tokens[token] = time.monotonic() + min(ttl, self.ttl_max)
        return token

    def valid(self, token):
        with self.lock:
            expiry = self.tokens.get(token)
            if expiry is not None and expiry <= time.monotonic():
                del self.tokens[token]
                expiry = None
        return expiry is not None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as agents reuse connections
    # Send each response in one write with TCP_NODELAY: separate header and
    # body writes hit Nagle + delayed ACK and cap a connection at ~25 req/s.
    # (handle_one_request flushes wfile after every request.)
    wbufsize = -1
    disable_nagle_algorithm = True
    server_version = "EC2ws"
    sys_version = ""
    state: State  # set on the subclass in main()
    verbose = False

    def version_string(self):
        return self.server_version  # base class appends " Python/x.y"

    def log_message(self, fmt, *args):
        if self.verbose:
            super().log_message(fmt, *args)

    def send(self, status, body="", ctype="text/plain", headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status

    def error(self, status, headers=()):
        reason = http.HTTPStatus(status).phrase
        return self.send(status, ERROR_PAGE.format(code=status, reason=reason),
                         "text/html", headers)

    def drain_body(self):
        # Unread request bytes would be parsed as the next keep-alive request.
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)

    def dispatch(self):
        self.drain_body()
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/_emulator/"):
            return self.emulator(url)
        is_put = self.command == "PUT" and url.path == TOKEN_PATH
        status = self.serve(url.path)
        self.state.count(url.path, status, is_put)

    def serve(self, path):
        st = self.state
        if path == TOKEN_PATH:
            if self.command != "PUT":
                return self.error(405, [("Allow", "PUT")])
            if st.mode == "v1-only":
                return self.error(st.v1_put_status)
            if "X-Forwarded-For" in self.headers:
                return self.error(403)  # IMDS refuses tokens to proxied requests
            try:
                ttl = int(self.headers.get(TTL_HEADER, ""))
            except ValueError:
                return self.error(400)
            if not 1 <= ttl <= 21600:
                return self.error(400)
            # The header echoes the requested TTL even when --token-ttl-max
            # cuts the real lifetime: that models a token dying early, which
            # clients must survive by re-fetching on 401.
            return self.send(200, st.issue(ttl), headers=[(TTL_HEADER, str(ttl))])
        if self.command not in ("GET", "HEAD"):
            return self.error(405, [("Allow", "GET")])
        token = self.headers.get(TOKEN_HEADER)
        if st.mode != "v1-only":
            if token is not None and not st.valid(token):
                return self.error(401)
            if token is None and st.mode == "v2-only":
                return self.error(401)
        body = lookup(st.tree, path)
        if body is None:
            return self.error(404)
        return self.send(200, body)

    def emulator(self, url):
        st = self.state
        op = url.path[len("/_emulator/"):]
        if op == "stats" and self.command == "GET":
            with st.lock:
                doc = {"requests": st.requests, "token_puts": st.token_puts,
                       "tokens_issued": st.tokens_issued,
                       "by_path": dict(st.by_path), "by_status": dict(st.by_status),
                       "mode": st.mode}
            return self.send(200, json.dumps(doc), "application/json")
        if self.command != "POST":
            return self.error(405, [("Allow", "POST")])
        if op == "reset-stats":
            st.reset_stats()
        elif op == "expire-tokens":
            with st.lock:
                st.tokens.clear()
        elif op == "mode":
            mode = urllib.parse.parse_qs(url.query).get("m", [""])[0]
            if mode not in MODES:
                return self.send(400, f"mode must be one of {', '.join(MODES)}\n")
            st.mode = mode
        else:
            return self.error(404)
        return self.send(200, "ok\n")

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = dispatch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", required=True, help="JSON printed by seed.py")
    ap.add_argument("--node", required=True)
    ap.add_argument("--mode", choices=MODES, default="v2-optional")
    ap.add_argument("--role", help="IAM role name (no iam/ tree without it)")
    ap.add_argument("--token-ttl-max", type=int, default=21600,
                    help="cap on real token lifetime, to test refresh")
    ap.add_argument("--v1-put-status", type=int, default=403, choices=(403, 404, 405),
                    help="token PUT status in v1-only mode")
    world.server_options(ap)
    args = ap.parse_args()
    life = world.Lifetime(args)

    with open(args.world) as f:
        seeded = json.load(f)
    if args.node not in seeded["nodes"]:
        ap.error(f"--node {args.node}: world has {', '.join(seeded['nodes'])}")

    Handler.state = State(build_tree(seeded, args.node, args.role), args.mode,
                          args.token_ttl_max, args.v1_put_status)
    Handler.verbose = args.verbose

    class Server(http.server.ThreadingHTTPServer):
        address_family = world.family(args.host)
        daemon_threads = True  # idle keep-alive connections must not block exit

    server = Server((args.host, args.port), Handler)
    port = server.server_address[1]
    if args.verbose:
        print(f"imds: {args.node} on {args.host}:{port} mode {args.mode}", file=sys.stderr)
    world.serve(life, [server], port, args.port_file)


if __name__ == "__main__":
    main()
