#!/usr/bin/env python3
"""Run moto's EC2 emulator in server mode on a free loopback port.

    <venv>/bin/python moto_server.py --port-file F [--host 127.0.0.1]
                                     [--warm-region us-east-1 ...] [--verbose]
                                     [--no-pdeathsig | --detached]

The port is written to F (via F.tmp + rename, so a reader polling F never sees
a half-written number) only after the server has answered HTTP *and* a warm-up
EC2 call, so the first real test request does not pay moto's lazy EC2 start-up
(~1 s, mostly botocore parsing its endpoint tables). Then it blocks until
SIGTERM/SIGINT, or until its parent goes away, and shuts down cleanly.
"""
import argparse
import json
import logging
import os
import sys
import threading
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import world  # noqa: E402  (the emulators' shared plumbing, tests/world/world.py)

# Set before moto is imported. Loading moto's default AMI catalogue costs ~0.3 s
# per region backend, and nothing here needs DescribeImages: run_instances
# accepts any ami-* id while MOTO_ENABLE_AMI_VALIDATION is off (the default).
# setdefault: a caller that wants the AMIs can still export "true".
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

def patch_moto():
    """Where moto 5.2.5 answers otherwise than EC2, answer as EC2 does
    (tests/world/README.md, "Where the test world corrects moto")."""
    # moto's server answers each request on a thread of its own, and its
    # backends are plain dicts walked by Python loops: a request that walks
    # the ENIs while another adds one fails with "dictionary changed size
    # during iteration", an HTML 500 that no AWS API gives (seen twice when
    # the integration tests seed worlds in parallel). So moto answers one
    # request at a time; each takes milliseconds, and the faults that hold a
    # request (hang, latency) live in fault_proxy.py, in front of this lock.
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    moto_call = DomainDispatcherApplication.__call__
    one_at_a_time = threading.Lock()

    def serialized(self, environ, start_response):
        with one_at_a_time:
            return moto_call(self, environ, start_response)

    DomainDispatcherApplication.__call__ = serialized

    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses.elastic_ip_addresses import ElasticIPAddresses

    moto_associate = ElasticIPAddresses.associate_address

    def associate_address(self):
        eni_id = self._get_param("NetworkInterfaceId")
        private_ip = self._get_param("PrivateIpAddress")
        if eni_id and private_ip:
            # EC2 maps the EIP to one of the ENI's own addresses and refuses
            # any other; moto ignores PrivateIpAddress and associates anyway.
            eni = self.ec2_backend.get_network_interface(eni_id)
            own = {a.get("PrivateIpAddress") for a in eni.private_ip_addresses}
            own.add(eni.private_ip_address)
            if private_ip not in own:
                raise EC2ClientError(
                    "InvalidParameterValue",
                    f"The private IP address {private_ip} is not associated with the "
                    f"network interface {eni_id}.")
        if self._get_param("AllowReassociation") is None:
            # EC2 (every account is EC2-VPC-only now) reassociates an address
            # held elsewhere unless AllowReassociation=false; moto refuses
            # unless it is true.
            self.params["AllowReassociation"] = True
        answer = moto_associate(self)
        # EC2 maps the address asked for (a secondary one included); moto
        # always maps the ENI's primary. Remember the one asked.
        alloc = self._get_param("AllocationId")
        public = self._get_param("PublicIp")
        found = (self.ec2_backend.address_by_allocation([alloc]) if alloc
                 else self.ec2_backend.address_by_ip([public]) if public else [])
        for eip in found:
            eip.ocf_private_ip = private_ip if eni_id else None
        return answer

    ElasticIPAddresses.associate_address = associate_address

    from moto.ec2.models.elastic_ip_addresses import ElasticAddress
    moto_private_ip = ElasticAddress.private_ip_address

    def private_ip_address(self):
        mapped = getattr(self, "ocf_private_ip", None)
        if mapped and self.eni:
            own = {a.get("PrivateIpAddress") for a in self.eni.private_ip_addresses}
            if mapped in own or mapped == self.eni.private_ip_address:
                return mapped
        return moto_private_ip.fget(self)

    ElasticAddress.private_ip_address = property(private_ip_address)

    from moto.ec2.responses.elastic_network_interfaces import ElasticNetworkInterfaces
    moto_assign = ElasticNetworkInterfaces.assign_private_ip_addresses

    def assign_private_ip_addresses(self):
        # EC2 moves a secondary address held by another ENI of the subnet
        # with AllowReassignment, and refuses without it; moto leaves it on
        # both ENIs.
        target = self.ec2_backend.get_network_interface(self._get_param("NetworkInterfaceId"))
        asked = set(self._get_param("PrivateIpAddresses", []))
        allow = str(self._get_param("AllowReassignment", "false")).lower() == "true"
        for other in list(self.ec2_backend.enis.values()):
            if other.id == target.id or other.subnet.id != target.subnet.id:
                continue
            held = {a.get("PrivateIpAddress") for a in other.private_ip_addresses
                    if not a.get("Primary")} & asked
            if held and not allow:
                raise EC2ClientError(
                    "InvalidParameterValue",
                    f"The address {sorted(held)[0]} is already assigned to {other.id}: "
                    "set AllowReassignment to move it.")
            other.private_ip_addresses = [a for a in other.private_ip_addresses
                                          if a.get("PrivateIpAddress") not in held]
        return moto_assign(self)

    ElasticNetworkInterfaces.assign_private_ip_addresses = assign_private_ip_addresses

    moto_assign6 = ElasticNetworkInterfaces.assign_ipv6_addresses

    def assign_ipv6_addresses(self):
        # IPv6 has no AllowReassignment: EC2 refuses an address another ENI
        # holds (unassign it there first); moto puts it on both.
        target = self.ec2_backend.get_network_interface(self._get_param("NetworkInterfaceId"))
        asked = {ipv6_norm(a) for a in self._get_param("Ipv6Addresses", [])}
        for other in list(self.ec2_backend.enis.values()):
            if other.id == target.id:
                continue
            held = asked & {ipv6_norm(a) for a in other.ipv6_addresses}
            if held:
                raise EC2ClientError("InvalidIPAddress.InUse",
                                     f"Address {sorted(held)[0]} is in use.")
        return moto_assign6(self)

    ElasticNetworkInterfaces.assign_ipv6_addresses = assign_ipv6_addresses

    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    moto_eni_filter = NetworkInterface.get_filter_value

    def eni_filter_value(self, filter_name, method_name=None):
        # EC2 matches every private address of the ENI (moto: the primary
        # only), and knows the IPv6 filters (moto: HTTP 500).
        if filter_name in ("addresses.private-ip-address", "private-ip-address"):
            return [a.get("PrivateIpAddress") for a in self.private_ip_addresses] or \
                [self.private_ip_address]
        if filter_name in ("ipv6-addresses.ipv6-address", "ipv6-address"):
            return [ipv6_norm(a) for a in self.ipv6_addresses]
        return moto_eni_filter(self, filter_name, method_name)

    NetworkInterface.get_filter_value = eni_filter_value

    from moto.ec2.models.route_tables import RouteTable
    moto_rt_filter = RouteTable.get_filter_value

    def rt_filter_value(self, filter_name, method_name=None):
        # EC2 filters on IPv6 routes as on IPv4 ones (moto: HTTP 500).
        if filter_name == "route.destination-ipv6-cidr-block":
            return [r.destination_ipv6_cidr_block for r in self._routes.values()
                    if r.destination_ipv6_cidr_block is not None]
        return moto_rt_filter(self, filter_name, method_name)

    RouteTable.get_filter_value = rt_filter_value

    from moto.route53.responses import Route53
    moto_change = Route53.change_resource_record_sets

    def change_resource_record_sets(self):
        # Route 53 answers with the change batch's Comment in ChangeInfo;
        # moto leaves it out. ClusterLabs' aws-vpc-route53 finds the change
        # id by its position after the comment in the AWS CLI's text output.
        answer = moto_change(self)
        comment = self._get_param("ChangeBatch.Comment")
        info = answer.result.get("ChangeInfo") if isinstance(answer.result, dict) else None
        if comment and info is not None:
            info["Comment"] = comment
        return answer

    Route53.change_resource_record_sets = change_resource_record_sets


    patch_sts()


STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def sts_error(status, code, message):
    """An STS error answer as STS words it (ErrorResponse, Type Sender)."""
    import uuid
    from xml.sax.saxutils import escape
    body = (f'<ErrorResponse xmlns="{STS_NS}">\n  <Error>\n    <Type>Sender</Type>\n'
            f"    <Code>{code}</Code>\n    <Message>{escape(message)}</Message>\n"
            f"  </Error>\n  <RequestId>{uuid.uuid4()}</RequestId>\n</ErrorResponse>\n")
    return body, {"status": status, "Content-Type": "text/xml"}


def trust_allows(document, external_id):
    """Whether a role's trust policy lets AssumeRole through with this
    ExternalId: an Allow statement for sts:AssumeRole whose
    StringEquals sts:ExternalId condition (if any) names it. (Principal is
    not checked: moto cannot tell which role an IMDS key belongs to.)"""
    try:
        doc = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return False
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if st.get("Effect") != "Allow" or not any(a in ("sts:AssumeRole", "sts:*", "*")
                                                  for a in actions):
            continue
        wanted = st.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        if wanted is None:
            return True
        wanted = [wanted] if isinstance(wanted, str) else wanted
        if external_id in wanted:
            return True
    return False


def patch_sts():
    """STS AssumeRole as AWS answers it: moto 5.2.5 hands out credentials
    for any RoleArn (existing or not), ignores the role's trust policy and
    its sts:ExternalId condition, and checks only the RoleSessionName's
    length."""
    import re
    from moto.iam.models import iam_backends
    from moto.sts.responses import TokenResponse

    moto_assume_role = TokenResponse.assume_role

    def assume_role(self):
        arn = self._get_param("RoleArn") or ""
        name = self._get_param("RoleSessionName") or ""
        external_id = self._get_param("ExternalId")
        if not re.fullmatch(r"[\w+=,.@-]{2,64}", name, re.ASCII):
            return sts_error(400, "ValidationError", (
                f"1 validation error detected: Value '{name}' at 'roleSessionName' failed "
                "to satisfy constraint: Member must satisfy regular expression pattern: "
                "[\\w+=,.@-]*"))
        caller = self.backend.get_caller_identity(self.get_access_key(), self.region)[1]
        denied = sts_error(403, "AccessDenied", (
            f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {arn}"))
        parts = arn.split(":")
        if len(parts) < 6:
            return denied
        try:
            role = iam_backends[parts[4]][parts[1]].get_role_by_arn(arn)
        except Exception:  # no such role (or account): AWS says AccessDenied
            return denied
        if not trust_allows(role.assume_role_policy_document, external_id):
            return denied
        return moto_assume_role(self)

    TokenResponse.assume_role = assume_role


def ipv6_norm(a):
    """An IPv6 address in its canonical (RFC 5952) text, as EC2 shows them."""
    import ipaddress
    try:
        return str(ipaddress.IPv6Address(a))
    except ValueError:
        return a


def warm_up(base, region):
    """One EC2 call builds moto's Flask app and the region's backend. Moto does
    not check signatures, it only reads the service and region from the
    credential scope, so a fixed fake Authorization header is enough."""
    req = urllib.request.Request(
        base + "/",
        data=b"Action=DescribeVpcs&Version=2016-11-15",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/"
            f"{region}/ec2/aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warm-region", action="append",
                    help="region(s) to pre-build (default us-east-1)")
    world.server_options(ap, port_file_required=True)
    args = ap.parse_args()
    life = world.Lifetime(args)

    t0 = time.monotonic()
    from moto.server import ThreadedMotoServer  # slow import: after prctl

    patch_moto()
    if not args.verbose:
        # werkzeug logs one line per request to stderr; tests make thousands.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    base = f"http://{'[%s]' % host if ':' in host else host}:{port}"
    try:
        with urllib.request.urlopen(base + "/moto-api/", timeout=30) as r:
            r.read()
        for region in args.warm_region or ["us-east-1"]:
            warm_up(base, region)
    except Exception as e:
        print(f"moto_server: not ready: {e}", file=sys.stderr)
        server.stop()
        return 1

    world.write_atomically(args.port_file, f"{port}\n")
    if args.verbose:
        print(f"moto_server: {base} ready in {time.monotonic() - t0:.2f}s",
              file=sys.stderr)
    life.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    rc = main()
    # The server is already stopped; skip interpreter teardown, which spends
    # ~0.8 s freeing moto's thousands of objects and would slow every test.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
