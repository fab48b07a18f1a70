"""The fault proxy's stale reads: EC2 and Route 53 reads that do not yet
reflect a write, as AWS documents they may ("eventual consistency"), while
moto's reads are always fresh.

A `fault=stale&ms=M` rule opens a window of M ms after each write the proxy
forwards successfully (WRITES); in the window, a read of READS that the rule's
action matches is answered with the answer the same read (same method, path,
query and body) got before the write, without asking the upstream. A read
never answered before is forwarded. Every forwarded 200 answer of a read is
kept (the last one per distinct read), so "before the write" is the last
answer forwarded before the window's write (or a fresher one forwarded inside
the window when the read had no answer kept).

STDLIB ONLY (imported by fault_proxy.py).
"""
import time

WRITES = frozenset((
    "ReplaceRoute", "CreateRoute", "AssociateAddress", "DisassociateAddress",
    "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses", "AssignIpv6Addresses",
    "UnassignIpv6Addresses", "ModifyNetworkInterfaceAttribute", "StopInstances",
    "StartInstances", "ChangeResourceRecordSets"))
READS = frozenset((
    "DescribeRouteTables", "DescribeAddresses", "DescribeNetworkInterfaces",
    "DescribeInstances", "ListResourceRecordSets"))


def key(req):
    """What makes two reads "the same read": the signature headers differ
    between them (date, nonce), the request line and body do not."""
    return (req.service, req.method, req.target, req.body)


class Answers:
    """The last forwarded 200 answer per distinct read (the lock of the
    proxy's State held by every caller)."""

    def __init__(self):
        self.kept = {}

    def keep(self, req, status, headers, data):
        if req.action in READS and status == 200:
            self.kept[key(req)] = (status, list(headers), data)

    def get(self, req):
        return self.kept.get(key(req))


def check_params(params):
    if "ms" not in params:
        raise ValueError("fault=stale needs ms= (the window after each write)")
    if int(params["ms"]) <= 0:
        raise ValueError("ms= must be > 0")


def wrote(rules, req, status):
    """A write was answered: open the window of every stale rule."""
    if req.action not in WRITES or status != 200:
        return
    now = time.monotonic()
    for r in rules:
        if r.fault == "stale":
            r.until = max(getattr(r, "until", 0.0), now + int(r.params["ms"]) / 1000)


def in_window(rule, req):
    """Whether a stale rule would answer this read from before the write."""
    return req.action in READS and time.monotonic() < getattr(rule, "until", 0.0)
