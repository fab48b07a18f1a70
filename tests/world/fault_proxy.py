#!/usr/bin/env python3
"""Fault-injecting HTTP proxy between the agents and moto (or imds.py).

    python3 fault_proxy.py --upstream http://127.0.0.1:PORT --port-file F
        [--host 127.0.0.1] [--port 0] [--upstream-timeout 60] [--verbose]
        [--no-pdeathsig | --detached]

STDLIB ONLY, like imds.py: any python3, ready in ~50 ms. Agents get
AWS_ENDPOINT_URL=http://127.0.0.1:<proxy port>; every request (method, path,
query, headers incl. Host, body) is forwarded unchanged to the upstream and the
response relayed with a fresh Content-Length (moto's `Connection: close` is
hop-by-hop and not relayed: the client side stays keep-alive). No
X-Forwarded-For is added: imds.py, like real IMDS, refuses tokens to proxied
requests.

Control endpoints (never forwarded, not counted), JSON answers:
  POST /_proxy/reset                  clear rules, counters, log and rewrites
  GET  /_proxy/stats                  {"requests","by_action","faults_injected",
                                       "by_fault","hanging","rules","zone_states",
                                       "hold_pending","instance_states"}
  GET  /_proxy/log                    last 1000 requests: [{"n","action","service",
                                       "fault","status","key"}] (status null: no
                                       answer; key: the access key id of the
                                       signature's Credential=, null if unsigned);
                                       STS AssumeRole entries also carry
                                       "role_arn","external_id","session_name" (as
                                       sent) and "issued_key" (the AccessKeyId of a
                                       200 answer)
  GET  /_proxy/rules                  active rules
  POST /_proxy/rule?action=X&fault=F[&count=N][&after=K][&service=S][&...]
        action: the request's action name (see below) or * for all
        count:  apply to the next N matches, then expire (default -1 = forever)
        after:  let the first K matches through untouched before applying
        service: only requests of that service (ec2, route53, other, or the
                 SigV4 scope name of another service)
        fault=latency&ms=M        delay M ms, then forward
        fault=hang[&ms=M]         read the request, never answer; ends when the
                                  client gives up (or after M ms: close, no answer)
        fault=reset               read the request, then RST (SO_LINGER 0)
        fault=status&code=500     answer that status with the service's error
                                  body (&error=Code&message=Text to override)
        fault=throttle[&code=C]   EC2 RequestLimitExceeded/503; Route 53
                                  Throttling/400 (code=PriorRequestNotComplete)
        fault=deny                EC2 UnauthorizedOperation/403; Route 53
                                  AccessDenied/403
        fault=stale&ms=M          for M ms after each write forwarded (ReplaceRoute,
                                  AssociateAddress, ChangeResourceRecordSets, ...),
                                  a read (DescribeRouteTables, DescribeAddresses,
                                  DescribeNetworkInterfaces, DescribeInstances,
                                  ListResourceRecordSets) gets the answer the same
                                  read got before the write (stale.py); count/after
                                  count the stale answers
  POST /_proxy/delete-rule?id=N
  POST /_proxy/zone-state?zone=us-east-1a&state=impaired   (state=available undoes)
  POST /_proxy/hold-pending?on=1|0    GetChange/ChangeResourceRecordSets say PENDING
  POST /_proxy/instance-state?id=i-...&state=stopping[&seconds=S]
                                      DescribeInstances reports that state for the
                                      instance (for S seconds; state=clear undoes)

EC2 requests with DryRun=true that no rule matches are answered like EC2
does (412 DryRunOperation) instead of being forwarded: moto ignores DryRun
for some mutating actions (ReplaceRoute, CreateRoute, AssociateAddress) and
would carry them out.

Action names: EC2 (and other query services): the form field Action= (body or
query string). Route 53 (REST, /2013-04-01/...): the API operation derived
from method + path (ListResourceRecordSets, ChangeResourceRecordSets, GetChange,
GetHostedZone, ListHostedZones, CreateHostedZone, ...). Anything else (IMDS):
"METHOD path", e.g. "PUT /latest/api/token".
"""
import sys

# Nothing here speaks TLS; skip ssl's import cost (see imds.py).
sys.modules.setdefault("ssl", None)

import argparse
import collections
import http.client
import http.server
import io
import json
import re
import select
import socket
import struct
import threading
import time
import urllib.parse
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import world  # noqa: E402  (the emulators' shared plumbing, tests/world/world.py)
import stale  # noqa: E402  (fault=stale: reads from before a write, tests/world/stale.py)

CONTROL = "/_proxy/"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
              "proxy-authorization", "te", "trailer", "trailers",
              "transfer-encoding", "upgrade", "content-length", "expect"}
FAULTS = ("latency", "hang", "reset", "status", "throttle", "deny", "stale")
R53_NS = "https://route53.amazonaws.com/doc/2013-04-01/"
ACCOUNT = "123456789012"
PRINCIPAL = f"arn:aws:sts::{ACCOUNT}:assumed-role/ocf-aws-test/i-0123456789abcdef0"

# ---------------------------------------------------------------- classifying

SCOPE_RE = re.compile(r"Credential=[^/,\s]+/[^/]+/([^/]+)/([^/]+)/aws4_request")
KEY_RE = re.compile(r"Credential=([^/,\s]+)/")
ISSUED_KEY_RE = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
R53_PATH_RE = re.compile(r"^/(\d{4}-\d{2}-\d{2})(/.*)?$")


def route53_action(method, path):
    """Route 53 operation for a REST path (None when not recognisable)."""
    m = R53_PATH_RE.match(path)
    if not m:
        return None
    seg = [urllib.parse.unquote(s) for s in (m.group(2) or "").split("/") if s]
    n = len(seg)
    head = seg[0] if seg else ""
    table = {
        ("hostedzone", 1): {"GET": "ListHostedZones", "POST": "CreateHostedZone"},
        ("hostedzone", 2): {"GET": "GetHostedZone", "DELETE": "DeleteHostedZone",
                            "POST": "UpdateHostedZoneComment"},
        ("hostedzonesbyname", 1): {"GET": "ListHostedZonesByName"},
        ("hostedzonesbyvpc", 1): {"GET": "ListHostedZonesByVPC"},
        ("hostedzonecount", 1): {"GET": "GetHostedZoneCount"},
        ("change", 2): {"GET": "GetChange"},
        ("healthcheck", 1): {"GET": "ListHealthChecks", "POST": "CreateHealthCheck"},
        ("healthcheck", 2): {"GET": "GetHealthCheck", "POST": "UpdateHealthCheck",
                             "DELETE": "DeleteHealthCheck"},
        ("healthcheckcount", 1): {"GET": "GetHealthCheckCount"},
        ("tags", 3): {"GET": "ListTagsForResource", "POST": "ChangeTagsForResource"},
        ("tags", 2): {"POST": "ListTagsForResources"},
        ("delegationset", 1): {"GET": "ListReusableDelegationSets",
                               "POST": "CreateReusableDelegationSet"},
        ("delegationset", 2): {"GET": "GetReusableDelegationSet",
                               "DELETE": "DeleteReusableDelegationSet"},
    }
    if head == "hostedzone" and n == 3:
        table[("hostedzone", 3)] = {
            "rrset": {"GET": "ListResourceRecordSets", "POST": "ChangeResourceRecordSets"},
            "associatevpc": {"POST": "AssociateVPCWithHostedZone"},
            "disassociatevpc": {"POST": "DisassociateVPCFromHostedZone"},
            "dnssec": {"GET": "GetDNSSEC"},
        }.get(seg[2], {})
    if head == "healthcheck" and n == 3 and seg[2] == "status":
        table[("healthcheck", 3)] = {"GET": "GetHealthCheckStatus"}
    return table.get((head, n), {}).get(method)


def form_field(data, name):
    try:
        return urllib.parse.parse_qs(data, keep_blank_values=True).get(name, [None])[0]
    except (ValueError, UnicodeDecodeError):
        return None


class Request:
    """What the proxy needs to know about one forwarded request."""

    def __init__(self, method, target, headers, body):
        self.method = method
        self.headers = headers
        self.stale = None  # (status, headers, body) a stale rule answers with
        self.body = body
        url = urllib.parse.urlsplit(target)
        # Absolute-form (a client using us as HTTP_PROXY): keep path+query only.
        self.path = url.path or "/"
        self.query = url.query
        self.target = self.path + ("?" + url.query if url.query else "")
        k = KEY_RE.search(headers.get("Authorization", ""))
        self.key = k.group(1) if k else None
        m = SCOPE_RE.search(headers.get("Authorization", ""))
        self.region, scope_service = (m.group(1), m.group(2).lower()) if m else (None, None)
        ctype = headers.get("Content-Type", "")
        fields = body.decode("latin-1") if body and (
            "x-www-form-urlencoded" in ctype or not ctype) else ""
        self.form = fields
        query_action = form_field(fields, "Action") or form_field(url.query, "Action")
        r53 = route53_action(method, self.path)
        if scope_service == "route53" or (scope_service is None and R53_PATH_RE.match(self.path)):
            self.service = "route53"
            self.action = r53 or f"{method} {self.path}"
        elif query_action and scope_service in (None, "ec2"):
            self.service, self.action = "ec2", query_action
        elif query_action:
            self.service, self.action = scope_service, query_action
        else:
            self.service = scope_service or "other"
            self.action = f"{method} {self.path}"
        self.version = form_field(fields, "Version") or form_field(url.query, "Version")

    def zone_id(self):
        m = re.search(r"/hostedzone/([^/?]+)", urllib.parse.unquote(self.path))
        return m.group(1) if m else None

    def filters(self):
        """EC2 Filter.N.Name/Filter.N.Value.M -> {name: [values]}."""
        try:
            q = urllib.parse.parse_qs(self.form + "&" + self.query)
        except ValueError:
            return {}
        out = {}
        for k, v in q.items():
            m = re.fullmatch(r"Filter\.(\d+)\.Name", k)
            if m:
                vals = [q[x][0] for x in sorted(
                    (x for x in q if re.fullmatch(rf"Filter\.{m.group(1)}\.Value\.\d+", x)),
                    key=lambda x: int(x.rsplit(".", 1)[1]))]
                out.setdefault(v[0], []).extend(vals)
        return out

# ------------------------------------------------------------- error bodies


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


IMDS_PAGE = world.IMDS_ERROR_PAGE

EC2_DEFAULTS = {  # status -> (Code, Message) as EC2 words them
    500: ("InternalError", "An internal error has occurred. Retry your request, but "
          "if the problem persists, contact us with details by posting a message on "
          "the AWS forums."),
    503: ("Unavailable", "The server is overloaded and can't handle the request."),
}
R53_DEFAULTS = {  # status -> (Type, Code, Message)
    500: ("Receiver", "InternalFailure",
          "The request processing has failed because of an unknown error, exception or failure."),
    503: ("Receiver", "ServiceUnavailable",
          "The request has failed due to a temporary failure of the server."),
}
R53_THROTTLES = {
    "Throttling": "Rate exceeded",
    "PriorRequestNotComplete": "The request was rejected because Route 53 was still "
                               "processing a prior request.",
}


def ec2_error(status, code, message, request_id):
    # Byte-for-byte EC2's shape; the SDKs read Errors/Error/Code and RequestID.
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{xml_escape(code)}</Code>"
            f"<Message>{xml_escape(message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>")
    return status, body, [("Content-Type", "text/xml;charset=UTF-8"),
                          ("Server", "AmazonEC2")]


def query_error(service, version, status, etype, code, message, request_id):
    # awsQuery services other than EC2 (STS, IAM, ...) wrap errors in ErrorResponse.
    ns = f' xmlns="https://{service}.amazonaws.com/doc/{version}/"' if version else ""
    body = (f"<ErrorResponse{ns}>\n  <Error>\n    <Type>{etype}</Type>\n"
            f"    <Code>{xml_escape(code)}</Code>\n"
            f"    <Message>{xml_escape(message)}</Message>\n  </Error>\n"
            f"  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n")
    return status, body, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]


def route53_error(status, etype, code, message, request_id):
    body = ('<?xml version="1.0"?>\n'
            f'<ErrorResponse xmlns="{R53_NS}"><Error><Type>{etype}</Type>'
            f"<Code>{xml_escape(code)}</Code><Message>{xml_escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return status, body, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]


def phrase(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def plain_error(status):
    # Not an AWS API (IMDS): the XHTML page real IMDS sends with its errors.
    return status, IMDS_PAGE.format(code=status, reason=phrase(status)), [
        ("Content-Type", "text/html")]


def fault_response(req, rule):
    """(status, body, headers) for a status/throttle/deny rule, in the error
    format of the request's service. Optional rule params: error=/code= (the
    error code), message=, and for throttle status= (the HTTP status)."""
    rid = str(uuid.uuid4())
    p = rule.params
    svc = req.service

    def aws(status, etype, code, msg):
        if svc == "ec2":
            return ec2_error(status, code, msg, rid)
        if svc == "route53":
            return route53_error(status, etype, code, msg, rid)
        return query_error(svc, req.version, status, etype, code, msg, rid)

    if rule.fault == "status":
        status = int(p.get("code", 500))
        if svc == "other":
            return plain_error(status)
        if svc == "ec2":
            code, msg = EC2_DEFAULTS.get(status, (
                "InternalError" if status >= 500 else "InvalidRequest", phrase(status)))
            etype = None
        else:
            etype, code, msg = R53_DEFAULTS.get(status, (
                "Receiver" if status >= 500 else "Sender",
                "InternalFailure" if status >= 500 else "InvalidInput", phrase(status)))
        return aws(status, etype, p.get("error", code), p.get("message", msg))

    if rule.fault == "throttle":
        if svc == "other":
            return plain_error(int(p.get("status", 429)))
        if svc == "ec2":
            code = p.get("code", "RequestLimitExceeded")
            return aws(int(p.get("status", 503)), None, code,
                       p.get("message", "Request limit exceeded."))
        code = p.get("code", "Throttling")
        return aws(int(p.get("status", 400)), "Sender", code,
                   p.get("message", R53_THROTTLES.get(code, "Rate exceeded")))

    if rule.fault == "deny":
        if svc == "other":
            return plain_error(403)
        perm = f"{'route53' if svc == 'route53' else svc}:{req.action}"
        zone = req.zone_id() if svc == "route53" else None
        on = f" on resource: arn:aws:route53:::hostedzone/{zone}" if zone else ""
        role = form_field(req.form, "RoleArn") if svc == "sts" else None
        if role:
            on = f" on resource: {role}"
        why = (f"User: {PRINCIPAL} is not authorized to perform: {perm}{on} "
               f"because no identity-based policy allows the {perm} action")
        if svc == "ec2":
            msg = ("You are not authorized to perform this operation. " + why
                   + ". Encoded authorization failure message: "
                   + uuid.uuid4().hex + uuid.uuid4().hex)
            return aws(403, None, p.get("code", "UnauthorizedOperation"), p.get("message", msg))
        return aws(403, "Sender", p.get("code", "AccessDenied"), p.get("message", why))
    raise ValueError(rule.fault)

# ------------------------------------------------------------------ rewrites


ITEM_TAG_RE = re.compile(rb"<item>|<item/>|</item>")


def top_level_items(body, start, end):
    """(start, end) byte spans of the top-level <item>...</item> in body[start:end]."""
    spans, depth, open_at = [], 0, None
    for m in ITEM_TAG_RE.finditer(body, start, end):
        tag = m.group()
        if tag == b"<item/>":
            continue
        if tag == b"<item>":
            if depth == 0:
                open_at = m.start()
            depth += 1
        else:
            depth -= 1
            if depth == 0 and open_at is not None:
                spans.append((open_at, m.end()))
    return spans


def rewrite_zones(body, zone_states, state_filter):
    """Apply zone-state overrides to a DescribeAvailabilityZones response; with a
    `state` filter in the request, drop zones whose (rewritten) state no longer
    matches it, as EC2 would."""
    info = re.search(rb"<availabilityZoneInfo>(.*)</availabilityZoneInfo>", body, re.S)
    if not info:
        return body
    out, pos = [], info.start(1)
    out.append(body[:pos])
    for s, e in top_level_items(body, info.start(1), info.end(1)):
        out.append(body[pos:s])
        item = body[s:e]
        name = re.search(rb"<zoneName>([^<]*)</zoneName>", item)
        state = re.search(rb"<zoneState>([^<]*)</zoneState>", item)
        if name and state:
            new = zone_states.get(name.group(1).decode())
            if new is not None:
                item = (item[:state.start(1)] + xml_escape(new).encode()
                        + item[state.end(1):])
                cur = new
            else:
                cur = state.group(1).decode()
            if state_filter is not None and cur not in state_filter:
                item = b""
        out.append(item)
        pos = e
    out.append(body[pos:])
    return b"".join(out)

INSTANCE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
                  "stopping": 64, "stopped": 80}


def own_element(item, tag):
    """The first <tag>...</tag> of an <item> that is its own child, not inside
    one of its nested items: a match object, or None."""
    inner = top_level_items(item, len(b"<item>"), len(item) - len(b"</item>"))
    for m in re.finditer(rb"<%s>(.*?)</%s>" % (tag, tag), item, re.S):
        if not any(s <= m.start() < e for s, e in inner):
            return m
    return None


def rewrite_instances(body, instance_states, state_filter):
    """Apply instance-state overrides ({id: state}) to a DescribeInstances
    response: the instance's <instanceState> code and name. With an
    `instance-state-name` filter in the request, drop instances whose
    (rewritten) state no longer matches it, and reservations left empty, as
    EC2 would (an instance moto left out for its real state stays out)."""
    rset = re.search(rb"<reservationSet>(.*)</reservationSet>", body, re.S)
    if not rset:
        return body
    out, pos = [body[:rset.start(1)]], rset.start(1)
    for rs, re_ in top_level_items(body, rset.start(1), rset.end(1)):
        out.append(body[pos:rs])
        res = body[rs:re_]
        iset = re.search(rb"<instancesSet>(.*)</instancesSet>", res, re.S)
        if iset:
            parts, ipos, kept = [res[:iset.start(1)]], iset.start(1), 0
            for s, e in top_level_items(res, iset.start(1), iset.end(1)):
                parts.append(res[ipos:s])
                item = res[s:e]
                iid = own_element(item, b"instanceId")
                st = own_element(item, b"instanceState")
                cur = None
                if iid and st:
                    new = instance_states.get(iid.group(1).decode())
                    name = re.search(rb"<name>([^<]*)</name>", st.group(1))
                    cur = name.group(1).decode() if name else None
                    if new is not None:
                        state = (b"<code>%d</code><name>%s</name>"
                                 % (INSTANCE_CODES[new], new.encode()))
                        item = item[:st.start(1)] + state + item[st.end(1):]
                        cur = new
                if state_filter is not None and cur not in state_filter:
                    item = b""
                else:
                    kept += 1
                parts.append(item)
                ipos = e
            parts.append(res[ipos:])
            res = b"".join(parts)
            if state_filter is not None and kept == 0:
                res = b""
        out.append(res)
        pos = re_
    out.append(body[pos:])
    return b"".join(out)

# --------------------------------------------------------------------- state


class Rule:
    def __init__(self, rid, action, fault, count, after, service, params):
        self.id, self.action, self.fault = rid, action, fault
        self.count, self.after, self.service, self.params = count, after, service, params
        self.hits = 0

    def doc(self):
        return {"id": self.id, "action": self.action, "fault": self.fault,
                "count": self.count, "after": self.after, "service": self.service,
                "hits": self.hits, "params": self.params}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.next_id = 1
        self.hanging = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.rules = []
            self.requests = 0
            self.by_action = {}
            self.faults = 0
            self.by_fault = {}
            self.zone_states = {}
            self.hold_pending = False
            self.instance_states = {}  # id -> (state, until monotonic or None)
            self.answers = stale.Answers()
            self.log = collections.deque(maxlen=1000)

    def held_instances(self):
        """{id: state} of the instance-state overrides still in force (the
        lock held); expired ones are dropped."""
        now = time.monotonic()
        for iid, (_, until) in list(self.instance_states.items()):
            if until is not None and until <= now:
                del self.instance_states[iid]
        return {iid: st for iid, (st, _) in self.instance_states.items()}

    def begin(self, req):
        """Count the request and pick the rule that applies to it (if any)."""
        with self.lock:
            self.requests += 1
            n = self.requests
            self.by_action[req.action] = self.by_action.get(req.action, 0) + 1
            chosen = None
            for rule in self.rules:
                if rule.action not in ("*", req.action):
                    continue
                if rule.service and rule.service != req.service:
                    continue
                if rule.fault == "stale":
                    # Applies only to a read in a window with an answer kept.
                    req.stale = self.answers.get(req) if stale.in_window(rule, req) else None
                    if req.stale is None:
                        continue
                if rule.after > 0:
                    rule.after -= 1
                    continue
                rule.hits += 1
                if rule.count > 0:
                    rule.count -= 1
                    if rule.count == 0:
                        self.rules.remove(rule)
                chosen = rule
                break
            if chosen:
                self.faults += 1
                self.by_fault[chosen.fault] = self.by_fault.get(chosen.fault, 0) + 1
            entry = {"n": n, "action": req.action, "service": req.service,
                     "fault": chosen.fault if chosen else None, "status": None,
                     "key": req.key, "t": round(time.time(), 3)}
            if req.service == "sts" and req.action == "AssumeRole":
                for field, name in (("RoleArn", "role_arn"), ("ExternalId", "external_id"),
                                    ("RoleSessionName", "session_name")):
                    entry[name] = form_field(req.form, field) or form_field(req.query, field)
            self.log.append(entry)
            return chosen, entry

    def add_rule(self, q):
        action = q.get("action")
        fault = q.get("fault")
        if not action:
            raise ValueError("action= is required (an action name or *)")
        if fault not in FAULTS:
            raise ValueError(f"fault= must be one of {', '.join(FAULTS)}")
        count = int(q.get("count", -1))
        after = int(q.get("after", 0))
        if count == 0 or count < -1 or after < 0:
            raise ValueError("count must be -1 or >= 1, after >= 0")
        params = {k: v for k, v in q.items()
                  if k not in ("action", "fault", "count", "after", "service")}
        if fault == "latency" and "ms" not in params:
            raise ValueError("fault=latency needs ms=")
        if fault == "stale":
            stale.check_params(params)
        for k in ("ms", "status") + (("code",) if fault == "status" else ()):
            if k in params:
                int(params[k])  # ValueError on junk
        if fault == "status":
            code = int(params.get("code", 500))
            if not 100 <= code <= 599:
                raise ValueError("code must be an HTTP status")
        with self.lock:
            rule = Rule(self.next_id, action, fault, count, after, q.get("service"), params)
            self.next_id += 1
            self.rules.append(rule)
            return rule.doc()

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "by_action": dict(self.by_action),
                    "faults_injected": self.faults, "by_fault": dict(self.by_fault),
                    "hanging": self.hanging, "rules": len(self.rules),
                    "zone_states": dict(self.zone_states),
                    "hold_pending": self.hold_pending,
                    "instance_states": self.instance_state_doc()}

    def instance_state_doc(self):
        self.held_instances()
        now = time.monotonic()
        return {iid: {"state": st, "seconds_left": None if until is None
                      else round(until - now, 3)}
                for iid, (st, until) in self.instance_states.items()}

# ------------------------------------------------------------------- handler


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # one write per response (see imds.py)
    disable_nagle_algorithm = True
    server_version = "fault-proxy"
    sys_version = ""
    state: State
    upstream: tuple  # (host, port)
    upstream_timeout = 60.0
    verbose = False
    stopping: threading.Event

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.verbose:
            super().log_message(fmt, *args)

    # -- plumbing

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, body, headers=(), reason=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response_only(status, reason)
        has_date = False
        for k, v in headers:
            has_date |= k.lower() == "date"
            self.send_header(k, v)
        if not has_date:
            self.send_header("Date", self.date_time_string())
        if not (100 <= status < 200 or status in (204, 304)):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        return status

    def json(self, status, doc):
        return self.reply(status, json.dumps(doc) + "\n", [("Content-Type", "application/json")])

    # -- faults that do not answer

    def hang(self, ms):
        """Hold the connection without answering until the client closes it
        (or ms elapse, or the proxy stops). Other connections are served by
        their own threads meanwhile."""
        sock = self.connection
        deadline = time.monotonic() + ms / 1000 if ms is not None else None
        with self.state.lock:
            self.state.hanging += 1
        try:
            while not self.stopping.is_set():
                wait = 0.25
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    wait = min(wait, left)
                r, _, _ = select.select([sock], [], [], wait)
                if r:
                    try:
                        if not sock.recv(65536):
                            break  # client gave up
                    except OSError:
                        break
        finally:
            with self.state.lock:
                self.state.hanging -= 1
        self.close_connection = True

    def reset_connection(self):
        """RST instead of FIN: SO_LINGER 0, then close before the base class
        gets to its graceful shutdown(SHUT_WR)."""
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        # The socket only really closes once its makefile() objects are closed
        # too; the base class flushes wfile after us, so swap in a sink.
        self.wfile.close()
        self.rfile.close()
        self.wfile = io.BytesIO()
        sock.close()

    # -- main path

    def dispatch(self):
        body = self.read_body()
        target = self.path
        if target.startswith(("http://", "https://")):
            u = urllib.parse.urlsplit(target)
            target = (u.path or "/") + ("?" + u.query if u.query else "")
        if target.startswith(CONTROL):
            return self.control(target)
        req = Request(self.command, target, self.headers, body)
        rule, entry = self.state.begin(req)
        if rule is not None:
            if self.verbose:
                print(f"fault_proxy: {req.action} <- {rule.fault} {rule.params}", file=sys.stderr)
            if rule.fault == "latency":
                time.sleep(int(rule.params["ms"]) / 1000)
            elif rule.fault == "hang":
                ms = rule.params.get("ms")
                return self.hang(int(ms) if ms is not None else None)
            elif rule.fault == "reset":
                return self.reset_connection()
            elif rule.fault == "stale":
                status, headers, data = req.stale
                entry["status"] = status
                return self.reply(status, self.rewrite(req, status, headers, data), headers)
            else:
                status, text, headers = fault_response(req, rule)
                entry["status"] = status
                return self.reply(status, text, headers)
        if req.service == "ec2" and (form_field(req.form, "DryRun") or "").lower() == "true":
            # moto carries out ReplaceRoute, CreateRoute and AssociateAddress
            # even with DryRun=true; EC2 only says whether it would have.
            status, text, headers = ec2_error(
                412, "DryRunOperation",
                "Request would have succeeded, but DryRun flag is set.", str(uuid.uuid4()))
            entry["status"] = status
            return self.reply(status, text, headers)
        entry["status"] = self.forward(req, entry)

    def forward(self, req, entry):
        host, port = self.upstream
        conn = http.client.HTTPConnection(host, port, timeout=self.upstream_timeout)
        try:
            conn.putrequest(req.method, req.target, skip_host=True,
                            skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in HOP_BY_HOP:
                    conn.putheader(k, v)
            if req.body or req.method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(req.body)))
            conn.endheaders(req.body or None)
            resp = conn.getresponse()
            data = resp.read()
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            status, reason = resp.status, resp.reason
        except (OSError, http.client.HTTPException) as e:
            msg = f"fault_proxy: upstream {host}:{port}: {e}\n"
            return self.reply(502, msg, [("Content-Type", "text/plain")])
        finally:
            conn.close()
        if self.command == "HEAD":
            # Relay the upstream's length for HEAD (reply() would say 0).
            length = next((v for k, v in resp.getheaders()
                           if k.lower() == "content-length"), None)
            self.send_response_only(status, reason)
            for k, v in headers:
                self.send_header(k, v)
            if length is not None:
                self.send_header("Content-Length", length)
            self.end_headers()
            return status
        with self.state.lock:
            self.state.answers.keep(req, status, headers, data)
            stale.wrote(self.state.rules, req, status)
        if status == 200 and req.service == "sts" and req.action == "AssumeRole":
            m = ISSUED_KEY_RE.search(data)
            with self.state.lock:
                entry["issued_key"] = m.group(1).decode() if m else None
        data = self.rewrite(req, status, headers, data)
        return self.reply(status, data, headers, reason)

    def rewrite(self, req, status, headers, data):
        st = self.state
        with st.lock:
            zones = dict(st.zone_states)
            pending = st.hold_pending
            held = st.held_instances()
        if status != 200:
            return data
        want_zones = req.action == "DescribeAvailabilityZones" and req.service == "ec2"
        want_instances = (req.action == "DescribeInstances" and req.service == "ec2"
                          and bool(held))
        if want_zones:
            f = req.filters()
            if not zones and "state" not in f:
                return data
        elif want_instances:
            f = req.filters()
        elif not (pending and req.action in ("GetChange", "ChangeResourceRecordSets")):
            return data
        gz = any(k.lower() == "content-encoding" and "gzip" in v.lower() for k, v in headers)
        if gz:
            import gzip
            data = gzip.decompress(data)
        if want_zones:
            data = rewrite_zones(data, zones, f.get("state"))
        elif want_instances:
            data = rewrite_instances(data, held, f.get("instance-state-name"))
        else:
            data = data.replace(b"<Status>INSYNC</Status>", b"<Status>PENDING</Status>")
        if gz:
            data = gzip.compress(data)
        return data

    # -- control

    def control(self, target):
        url = urllib.parse.urlsplit(target)
        op = url.path[len(CONTROL):].strip("/")
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        st = self.state
        if op in ("stats", "log", "rules"):
            if self.command not in ("GET", "POST"):
                return self.json(405, {"error": "GET"})
            if op == "stats":
                return self.json(200, st.stats())
            with st.lock:
                doc = (list(map(dict, st.log)) if op == "log"
                       else [r.doc() for r in st.rules])
            return self.json(200, doc)
        if self.command != "POST":
            return self.json(405, {"error": f"POST /_proxy/{op}"})
        try:
            if op == "reset":
                st.reset()
                return self.json(200, {"ok": True})
            if op == "rule":
                return self.json(200, st.add_rule(q))
            if op == "delete-rule":
                rid = int(q.get("id", ""))
                with st.lock:
                    before = len(st.rules)
                    st.rules = [r for r in st.rules if r.id != rid]
                    return self.json(200, {"deleted": before - len(st.rules)})
            if op == "zone-state":
                zone, state = q.get("zone"), q.get("state")
                if not zone or not state:
                    raise ValueError("zone= and state= are required")
                with st.lock:
                    if state == "available":
                        st.zone_states.pop(zone, None)
                    else:
                        st.zone_states[zone] = state
                    return self.json(200, {"zone_states": dict(st.zone_states)})
            if op == "instance-state":
                iid, state = q.get("id"), q.get("state")
                if not iid or not state:
                    raise ValueError("id= and state= are required")
                if state != "clear" and state not in INSTANCE_CODES:
                    raise ValueError("state= must be one of "
                                     + ", ".join(INSTANCE_CODES) + " or clear")
                secs = q.get("seconds")
                until = None
                if secs is not None:
                    secs = float(secs)
                    if secs <= 0:
                        raise ValueError("seconds= must be > 0")
                    until = time.monotonic() + secs
                with st.lock:
                    if state == "clear":
                        st.instance_states.pop(iid, None)
                    else:
                        st.instance_states[iid] = (state, until)
                    return self.json(200, {"instance_states": st.instance_state_doc()})
            if op == "hold-pending":
                on = q.get("on", "1").lower()
                if on not in ("0", "1", "true", "false", "on", "off"):
                    raise ValueError("on= must be 1 or 0")
                with st.lock:
                    st.hold_pending = on in ("1", "true", "on")
                    return self.json(200, {"hold_pending": st.hold_pending})
        except ValueError as e:
            return self.json(400, {"error": str(e)})
        return self.json(404, {"error": f"unknown control endpoint /_proxy/{op}"})

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = dispatch

# ---------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT (moto or imds.py)")
    ap.add_argument("--upstream-timeout", type=float, default=60.0)
    world.server_options(ap)
    args = ap.parse_args()
    life = world.Lifetime(args)

    up = urllib.parse.urlsplit(args.upstream)
    if up.scheme != "http" or not up.hostname or not up.port:
        ap.error("--upstream must look like http://127.0.0.1:PORT")

    Handler.state = State()
    Handler.upstream = (up.hostname, up.port)
    Handler.upstream_timeout = args.upstream_timeout
    Handler.verbose = args.verbose
    Handler.stopping = life.stop  # hung requests end with the proxy

    class Server(http.server.ThreadingHTTPServer):
        address_family = world.family(args.host)
        daemon_threads = True  # hung and idle keep-alive connections never block exit
        request_queue_size = 128

        def handle_error(self, request, client_address):
            # Clients vanishing mid-answer are routine under fault injection.
            if args.verbose:
                super().handle_error(request, client_address)

    server = Server((args.host, args.port), Handler)
    port = server.server_address[1]
    if args.verbose:
        print(f"fault_proxy: {args.host}:{port} -> {args.upstream}", file=sys.stderr)
    world.serve(life, [server], port, args.port_file)


if __name__ == "__main__":
    main()
