#!/usr/bin/env python3
"""Authoritative-style DNS server answering from moto's CURRENT Route 53 state.

    python3 dns_responder.py --endpoint http://127.0.0.1:MOTO --port-file F
        [--zone-id ZONE] [--host 127.0.0.1] [--port 0] [--cache-ms 0]
        [--verbose] [--no-pdeathsig | --detached]
    python3 dns_responder.py query --port P [--tcp] NAME [TYPE]   (a tiny dig)

UDP and TCP on one port of 127.0.0.1. Every query reads the records from moto's Route 53
REST API (ListHostedZones + ListResourceRecordSets, paginated), so a record an
agent has just UPSERTed is what the next query sees. --cache-ms N reuses what
was read for N ms (keep it <= 200 to stay "current"); default 0, no cache.

STDLIB ONLY (wire format with struct, Route 53 XML with ElementTree, HTTP with
http.client): it runs with any python3 and is ready in ~60 ms, where boto3
alone takes ~0.4 s to import. The port is written to --port-file (tmp +
rename) once the socket is bound. No control endpoint; SIGTERM stops it.

Answers, as an authoritative server for the zone(s):
  - the zone is the one given by --zone-id, else every hosted zone whose name
    is the longest suffix of the query name (zones sharing a name are merged:
    parallel tests with look-alike private zones should pass --zone-id);
    a name under no zone -> REFUSED
  - names are case-insensitive; the answer's owner name echoes the question
  - records of the asked type -> NOERROR with them (TTL from the record set;
    several record sets of one name+type, e.g. weighted ones, are merged);
    a CNAME is returned and followed within the known zones; an alias
    (AliasTarget) is followed when its target lies in a known zone (TTL 60)
  - name exists (or is an empty non-terminal) without that type -> NOERROR,
    no answer, the zone's SOA in the authority section (NODATA)
  - otherwise a matching wildcard (*.parent) answers, else NXDOMAIN + SOA
  - encodable types: A AAAA CNAME NS SOA MX TXT PTR SRV (others: NODATA)
  - moto unreachable or the zone gone -> SERVFAIL; opcode != QUERY -> NOTIMP
  - EDNS(0) OPT echoed (payload 1232); an answer too large for the UDP size
    is sent empty with TC set, for the client to retry over TCP.
"""
import sys

sys.modules.setdefault("ssl", None)  # see imds.py: no TLS here

import argparse
import http.client
import ipaddress
import os
import re
import socket
import socketserver
import struct
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import world  # noqa: E402  (the emulators' shared plumbing, tests/world/world.py)

API = "/2013-04-01"
AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/route53/aws4_request, "
        "SignedHeaders=host, Signature=0")
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33, "OPT": 41, "ANY": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
ALIAS_TTL = 60
EDNS_PAYLOAD = 1232


class Unavailable(Exception):
    """moto could not be read (or the zone is gone): answer SERVFAIL."""

# ------------------------------------------------------------- names


def norm(name):
    """Route 53 name -> lowercase, dot-terminated, escapes decoded (\\052 = *)."""
    name = re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), name)
    name = name.lower()
    return name if name.endswith(".") else name + "."


def parent(name):
    return name.split(".", 1)[1] if name != "." else None


def in_zone(name, zone):
    return zone == "." or name == zone or name.endswith("." + zone)

# ------------------------------------------------------------- moto reads


class Route53:
    def __init__(self, endpoint, zone_id, cache_ms):
        u = urllib.parse.urlsplit(endpoint)
        if u.scheme != "http" or not u.hostname or not u.port:
            raise ValueError("--endpoint must look like http://127.0.0.1:PORT")
        self.host, self.port = u.hostname, u.port
        self.zone_id = zone_id.rsplit("/", 1)[-1] if zone_id else None
        self.cache_s = cache_ms / 1000
        self.lock = threading.Lock()
        self.cache = {}  # key -> (monotonic time, value)

    def get(self, path, params=None):
        if params:
            path += "?" + urllib.parse.urlencode(params)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Authorization": AUTH})
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise Unavailable(f"GET {path}: {e}") from None
        finally:
            conn.close()
        if resp.status != 200:
            raise Unavailable(f"GET {path}: HTTP {resp.status} {data[:200]!r}")
        try:
            return ET.fromstring(data)
        except ET.ParseError as e:
            raise Unavailable(f"GET {path}: bad XML: {e}") from None

    def cached(self, key, fetch):
        if self.cache_s <= 0:
            return fetch()
        now = time.monotonic()
        with self.lock:
            hit = self.cache.get(key)
        if hit and now - hit[0] < self.cache_s:
            return hit[1]
        value = fetch()
        with self.lock:
            self.cache[key] = (now, value)
        return value

    def zones(self):
        """[(zone id, normalised name)] of every hosted zone (or --zone-id's)."""
        def fetch():
            if self.zone_id:
                doc = self.get(f"{API}/hostedzone/{self.zone_id}")
                return [(self.zone_id, norm(doc.findtext("{*}HostedZone/{*}Name", "")))]
            out, marker = [], None
            while True:
                doc = self.get(f"{API}/hostedzone", {"marker": marker} if marker else None)
                for z in doc.iterfind("{*}HostedZones/{*}HostedZone"):
                    out.append((z.findtext("{*}Id", "").rsplit("/", 1)[-1],
                                norm(z.findtext("{*}Name", ""))))
                marker = doc.findtext("{*}NextMarker")
                if doc.findtext("{*}IsTruncated") != "true" or not marker:
                    return out
        return self.cached("zones", fetch)

    def record_sets(self, zone_id):
        """[{name, type, ttl, values, alias}] of one zone, all pages."""
        def fetch():
            out, params = [], {}
            while True:
                doc = self.get(f"{API}/hostedzone/{zone_id}/rrset", params or None)
                for rr in doc.iterfind("{*}ResourceRecordSets/{*}ResourceRecordSet"):
                    alias = rr.find("{*}AliasTarget")
                    out.append({
                        "name": norm(rr.findtext("{*}Name", "")),
                        "type": rr.findtext("{*}Type", "").upper(),
                        "ttl": int(rr.findtext("{*}TTL") or ALIAS_TTL),
                        "values": [v.text or "" for v in
                                   rr.iterfind("{*}ResourceRecords/{*}ResourceRecord/{*}Value")],
                        "alias": norm(alias.findtext("{*}DNSName", "")) if alias is not None
                        else None,
                    })
                if doc.findtext("{*}IsTruncated") != "true":
                    return out
                params = {"name": doc.findtext("{*}NextRecordName", ""),
                          "type": doc.findtext("{*}NextRecordType", "")}
                ident = doc.findtext("{*}NextRecordIdentifier")
                if ident:
                    params["identifier"] = ident
        return self.cached("rrset:" + zone_id, fetch)

# ------------------------------------------------------------- resolution


def soa_fields(text, zone):
    """SOA value -> (mname, rname, serial, refresh, retry, expire, minimum).
    moto 5.2.5 stores it as a Python dict repr,
    "{'Value': 'ns-2048.awsdns-64.com. hostmaster.example.com. 1 7200 ...'}",
    so pick the seven fields out of whatever surrounds them."""
    m = re.search(r"([^\s'\"{]+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", text)
    if not m:
        return ("ns-2048.awsdns-64.com.", "hostmaster." + zone, 1, 7200, 900, 1209600, 86400)
    f = m.groups()
    return (norm(f[0]), norm(f[1]), *map(int, f[2:]))


class ZoneData:
    """Records of the zone(s) that own a query name, indexed for lookup."""

    def __init__(self, zone_names, record_sets):
        self.zones = zone_names
        self.rrs = {}  # name -> type -> [ttl, [values], [alias targets]]
        for rs in record_sets:
            slot = self.rrs.setdefault(rs["name"], {}).setdefault(rs["type"], [rs["ttl"], [], []])
            slot[0] = min(slot[0], rs["ttl"])
            if rs["alias"]:
                slot[2].append(rs["alias"])
            for v in rs["values"]:
                if rs["type"] == "SOA":
                    v = soa_fields(v, rs["name"])
                if v not in slot[1]:
                    slot[1].append(v)

    def soa(self, name):
        """(zone apex, negative-answer ttl, SOA fields) of the zone holding name."""
        zone = max((z for z in self.zones if in_zone(name, z)), key=len)
        slot = self.rrs.get(zone, {}).get("SOA")
        fields = slot[1][0] if slot and slot[1] else soa_fields("", zone)
        ttl = slot[0] if slot else 900
        return zone, min(ttl, fields[6]), fields  # RFC 2308: min(SOA TTL, MINIMUM)

    def exists(self, name):
        if name in self.rrs:
            return True
        suffix = "." + name
        return any(n.endswith(suffix) for n in self.rrs)  # empty non-terminal

    def lookup(self, name):
        """Types at name, with wildcard synthesis: (type map, found?)."""
        if name in self.rrs:
            return self.rrs[name], True
        if self.exists(name):
            return {}, True
        node = name
        while True:
            node = parent(node)
            if node is None or not any(in_zone(node, z) for z in self.zones):
                return {}, False
            wild = "*." + node
            if wild in self.rrs:
                return self.rrs[wild], True
            if self.exists(node):
                return {}, False  # closest encloser exists, no wildcard

    def resolve(self, qname, qtype, depth=0):
        """(rcode, answers [(name, type, ttl, value)], authority) for a query."""
        types, found = self.lookup(qname)
        answers = []
        if qtype == "ANY":
            for t, (ttl, values, _) in types.items():
                answers += [(qname, t, ttl, v) for v in values]
        elif qtype in types:
            ttl, values, aliases = types[qtype]
            answers += [(qname, qtype, ttl, v) for v in values]
            for target in aliases:
                if depth < 8 and any(in_zone(target, z) for z in self.zones):
                    _, more, _ = self.resolve(target, qtype, depth + 1)
                    answers += [(qname, t, ALIAS_TTL, v) for (_, t, _, v) in more if t == qtype]
        elif "CNAME" in types and types["CNAME"][1]:
            ttl, values, _ = types["CNAME"]
            target = norm(values[0])
            answers.append((qname, "CNAME", ttl, target))
            if depth < 8 and any(in_zone(target, z) for z in self.zones):
                rcode, more, auth = self.resolve(target, qtype, depth + 1)
                return rcode, answers + more, auth
            return NOERROR, answers, []
        if answers:
            return NOERROR, answers, []
        zone, ttl, fields = self.soa(qname)
        return (NOERROR if found else NXDOMAIN), [], [(zone, "SOA", ttl, fields)]

# ------------------------------------------------------------- wire format


class Writer:
    def __init__(self):
        self.buf = bytearray()
        self.names = {}  # lowercase suffix -> offset, for compression

    def name(self, name, keep_case=None):
        labels = [label for label in (keep_case or name).split(".") if label]
        for i in range(len(labels)):
            key = ".".join(labels[i:]).lower()
            if key in self.names:
                self.buf += struct.pack("!H", 0xC000 | self.names[key])
                return
            if len(self.buf) < 0x3FFF:
                self.names[key] = len(self.buf)
            raw = labels[i].encode("latin-1")
            if len(raw) > 63:
                raise ValueError(f"label too long in {name!r}")
            self.buf += bytes([len(raw)]) + raw
        self.buf += b"\0"


def txt_strings(value):
    """Route 53 TXT value ('"a" "b"', escapes allowed) -> list of byte strings."""
    out = [m.group(1) for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', value)]
    if not out:
        out = [value]
    res = []
    for s in out:
        s = re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), s)
        s = re.sub(r"\\(.)", r"\1", s).encode("latin-1", "replace")
        res += [s[i:i + 255] for i in range(0, max(len(s), 1), 255)]
    return res


def rdata(w, rtype, value):
    """Append type-specific RDATA (length prefix included) to writer w."""
    at = len(w.buf)
    w.buf += b"\0\0"
    if rtype == "A":
        w.buf += ipaddress.IPv4Address(value.strip()).packed
    elif rtype == "AAAA":
        w.buf += ipaddress.IPv6Address(value.strip()).packed
    elif rtype in ("CNAME", "NS", "PTR"):
        w.name(norm(value.strip()))
    elif rtype == "MX":
        pref, host = value.split()
        w.buf += struct.pack("!H", int(pref))
        w.name(norm(host))
    elif rtype == "SRV":
        prio, weight, port, target = value.split()
        w.buf += struct.pack("!HHH", int(prio), int(weight), int(port))
        w.name(norm(target))
    elif rtype == "TXT":
        for s in txt_strings(value):
            w.buf += bytes([len(s)]) + s
    elif rtype == "SOA":
        mname, rname, *nums = value
        w.name(mname)
        w.name(rname)
        w.buf += struct.pack("!IIIII", *nums)
    else:
        raise ValueError(f"cannot encode {rtype}")
    struct.pack_into("!H", w.buf, at, len(w.buf) - at - 2)


def parse_query(data):
    """(id, flags, qname as sent, qtype, qclass, edns payload or None)."""
    if len(data) < 12:
        raise ValueError("short header")
    qid, flags, qd, an, ns, ar = struct.unpack("!6H", data[:12])
    if qd != 1:
        raise ValueError(f"QDCOUNT {qd}")
    pos, labels = 12, []
    while True:
        n = data[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0:
            raise ValueError("compressed question name")
        labels.append(data[pos + 1:pos + 1 + n].decode("latin-1"))
        pos += 1 + n
    qtype, qclass = struct.unpack("!HH", data[pos:pos + 4])
    pos += 4
    edns = None
    for _ in range(an + ns + ar):  # look for an OPT in what follows
        while data[pos] != 0 and not data[pos] & 0xC0:
            pos += 1 + data[pos]
        pos += 2 if data[pos] & 0xC0 else 1
        rtype, rclass, _ttl, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
        if rtype == TYPES["OPT"]:
            edns = max(512, rclass)
        pos += 10 + rdlen
    return qid, flags, ".".join(labels) + ".", qtype, qclass, edns


def build_response(qid, flags, qname, qtype, qclass, edns, rcode, answers=(), authority=()):
    opcode = (flags >> 11) & 0xF
    rd = flags & 0x0100
    aa = 0x0400 if rcode in (NOERROR, NXDOMAIN) else 0
    w = Writer()
    w.buf += struct.pack("!6H", qid, 0x8000 | (opcode << 11) | aa | rd | rcode, 1,
                         len(answers), len(authority), 1 if edns else 0)
    w.name(qname, keep_case=qname)
    w.buf += struct.pack("!HH", qtype, qclass)
    for owner, rtype, ttl, value in list(answers) + list(authority):
        w.name(owner)  # compressed: points at the question's spelling
        w.buf += struct.pack("!HHI", TYPES[rtype], 1, ttl)
        rdata(w, rtype, value)
    if edns:
        w.buf += b"\0" + struct.pack("!HHIH", TYPES["OPT"], EDNS_PAYLOAD, 0, 0)
    return bytes(w.buf)


def answer(r53, data, verbose=False, tcp=False):
    try:
        qid, flags, qname_raw, qtype_num, qclass, edns = parse_query(data)
    except (ValueError, IndexError, struct.error):
        if len(data) >= 2:  # FORMERR with an empty question section
            return struct.pack("!6H", struct.unpack("!H", data[:2])[0], 0x8001, 0, 0, 0, 0)
        return None
    if flags & 0x8000:
        return None  # a response, not a query: ignore
    limit = 65535 if tcp else edns or 512

    def reply(rcode, answers=(), authority=()):
        msg = build_response(qid, flags, qname_raw, qtype_num, qclass, edns, rcode,
                             answers, authority)
        if len(msg) > limit:  # too big for UDP: empty, TC set, retry over TCP
            msg = bytearray(build_response(qid, flags, qname_raw, qtype_num, qclass, edns,
                                           rcode))
            msg[2] |= 0x02
            msg = bytes(msg)
        return msg

    if (flags >> 11) & 0xF != 0:
        return reply(NOTIMP)
    qname = qname_raw.lower()
    qtype = TYPE_NAMES.get(qtype_num)
    if qclass not in (1, 255):
        return reply(REFUSED)
    try:
        zones = r53.zones()
        owners = [(zid, z) for zid, z in zones if in_zone(qname, z)]
        if not owners:
            rcode, answers, authority = REFUSED, [], []
        else:
            best = max(len(z) for _, z in owners)
            # Zones whose data may be needed: the owner(s), plus any zone a
            # CNAME/alias could point into (fetched only if such a target is
            # seen, to keep one query = a couple of moto calls).
            ids = [zid for zid, z in owners if len(z) == best]
            names = {z for _, z in owners if len(z) == best}
            record_sets = [rs for zid in ids for rs in r53.record_sets(zid)]
            targets = {norm(v) for rs in record_sets if rs["type"] == "CNAME"
                       for v in rs["values"]} | {rs["alias"] for rs in record_sets
                                                 if rs["alias"]}
            for zid, z in zones:
                if z not in names and any(in_zone(t, z) for t in targets):
                    names.add(z)
                    record_sets += r53.record_sets(zid)
            data_ = ZoneData(sorted(names), record_sets)
            if qtype in (None, "OPT"):
                exists = data_.lookup(qname)[1]
                zone, ttl, fields = data_.soa(qname)
                rcode, answers, authority = (NOERROR if exists else NXDOMAIN), [], [
                    (zone, "SOA", ttl, fields)]
            else:
                rcode, answers, authority = data_.resolve(qname, qtype)
    except Unavailable as e:
        print(f"dns_responder: {e}", file=sys.stderr)
        return reply(SERVFAIL)
    encodable = []
    for rr in answers:
        try:
            rdata(Writer(), rr[1], rr[3])
            encodable.append(rr)
        except (ValueError, TypeError):
            pass  # a type (or a value) we cannot encode: leave it out
    if verbose:
        print(f"dns_responder: {qname} {qtype or qtype_num} -> rcode {rcode} "
              f"{[(t, v) for _, t, _, v in encodable]}", file=sys.stderr)
    return reply(rcode, encodable, authority)

# ------------------------------------------------------------- client


def read_name(data, pos):
    labels, end = [], None
    for _ in range(128):
        n = data[pos]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = struct.unpack("!H", data[pos:pos + 2])[0] & 0x3FFF
            continue
        if n == 0:
            return ".".join(labels) + ".", end if end is not None else pos + 1
        labels.append(data[pos + 1:pos + 1 + n].decode("latin-1"))
        pos += 1 + n
    raise ValueError("name loop")


def decode_rdata(data, pos, rtype, rdlen):
    t = TYPE_NAMES.get(rtype, str(rtype))
    raw = data[pos:pos + rdlen]
    if t == "A":
        return str(ipaddress.IPv4Address(raw))
    if t == "AAAA":
        return str(ipaddress.IPv6Address(raw))
    if t in ("CNAME", "NS", "PTR"):
        return read_name(data, pos)[0]
    if t == "MX":
        return f"{struct.unpack('!H', raw[:2])[0]} {read_name(data, pos + 2)[0]}"
    if t == "SRV":
        return "%d %d %d " % struct.unpack("!HHH", raw[:6]) + read_name(data, pos + 6)[0]
    if t == "TXT":
        out, i = [], 0
        while i < len(raw):
            out.append('"%s"' % raw[i + 1:i + 1 + raw[i]].decode("latin-1"))
            i += 1 + raw[i]
        return " ".join(out)
    if t == "SOA":
        mname, p = read_name(data, pos)
        rname, p = read_name(data, p)
        return f"{mname} {rname} " + " ".join(map(str, struct.unpack("!5I", data[p:p + 20])))
    return raw.hex()


RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def query(port, name, qtype="A", host="127.0.0.1", timeout=2.0, tcp=False):
    """Ask the responder; returns {"rcode", "aa", "tc", "answer", "authority"}
    with records as (name, type, ttl, value) — for tests without dig."""
    qid = int.from_bytes(os.urandom(2), "big")
    w = Writer()
    w.buf += struct.pack("!6H", qid, 0, 1, 0, 0, 0)
    w.name(name)
    w.buf += struct.pack("!HH", TYPES.get(qtype.upper()) or int(qtype), 1)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if tcp:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(struct.pack("!H", len(w.buf)) + w.buf)
            f = s.makefile("rb")
            data = f.read(struct.unpack("!H", f.read(2))[0])
    else:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(bytes(w.buf), (host, port))
            while True:
                data = s.recv(65535)
                if data[:2] == w.buf[:2]:
                    break
    _, flags, qd, an, ns, _ = struct.unpack("!6H", data[:12])
    pos = 12
    for _ in range(qd):
        pos = read_name(data, pos)[1] + 4
    sections = []
    for count in (an, ns):
        rrs = []
        for _ in range(count):
            owner, pos = read_name(data, pos)
            rtype, _cls, ttl, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
            pos += 10
            rrs.append((owner, TYPE_NAMES.get(rtype, str(rtype)), ttl,
                        decode_rdata(data, pos, rtype, rdlen)))
            pos += rdlen
        sections.append(rrs)
    return {"rcode": RCODES.get(flags & 0xF, str(flags & 0xF)), "aa": bool(flags & 0x0400),
            "tc": bool(flags & 0x0200), "answer": sections[0], "authority": sections[1]}


def client_main(argv):
    ap = argparse.ArgumentParser(prog="dns_responder.py query",
                                 description="ask a DNS server on loopback, print the answer")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("name")
    ap.add_argument("type", nargs="?", default="A")
    args = ap.parse_args(argv)
    r = query(args.port, args.name, args.type, args.host, tcp=args.tcp)
    print(r["rcode"] + (" TC" if r["tc"] else ""))
    for owner, t, ttl, value in r["answer"]:
        print(f"{owner}\t{ttl}\t{t}\t{value}")
    return 0 if r["rcode"] in ("NOERROR", "NXDOMAIN") else 1

# ------------------------------------------------------------- server


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True, help="moto URL, http://127.0.0.1:PORT")
    ap.add_argument("--zone-id", help="answer for this hosted zone only (default: all)")
    ap.add_argument("--cache-ms", type=int, default=0,
                    help="reuse moto's answers this long (default 0: read per query)")
    world.server_options(ap, port_file_required=True)
    args = ap.parse_args()
    life = world.Lifetime(args)
    try:
        r53 = Route53(args.endpoint, args.zone_id, args.cache_ms)
    except ValueError as e:
        ap.error(str(e))

    class UDPHandler(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            msg = answer(r53, data, args.verbose)
            if msg:
                sock.sendto(msg, self.client_address)

    class TCPHandler(socketserver.StreamRequestHandler):
        """RFC 1035 4.2.2 framing: 2-byte length, then the message; several
        queries may share a connection."""

        def handle(self):
            while True:
                head = self.rfile.read(2)
                if len(head) < 2:
                    return
                data = self.rfile.read(struct.unpack("!H", head)[0])
                msg = answer(r53, data, args.verbose, tcp=True)
                if not msg:
                    return
                self.wfile.write(struct.pack("!H", len(msg)) + msg)

    family = world.family(args.host)

    class UDPServer(socketserver.ThreadingUDPServer):
        address_family = family
        daemon_threads = True

    class TCPServer(socketserver.ThreadingTCPServer):
        address_family = family
        daemon_threads = True
        allow_reuse_address = True

    # UDP and TCP on the same port number (dig asks ANY over TCP, and a
    # resolver retries over TCP after TC): take a free UDP port, then the
    # same TCP port; on the rare clash pick another.
    for attempt in range(20):
        udp = UDPServer((args.host, args.port), UDPHandler)
        port = udp.server_address[1]
        try:
            tcp = TCPServer((args.host, port), TCPHandler)
            break
        except OSError:
            udp.server_close()
            if args.port or attempt == 19:
                raise
    if args.verbose:
        print(f"dns_responder: udp+tcp {args.host}:{port} <- {args.endpoint} "
              f"zone {args.zone_id or 'all'}", file=sys.stderr)
    world.serve(life, [udp, tcp], port, args.port_file)


if __name__ == "__main__":
    if sys.argv[1:2] == ["query"]:
        sys.exit(client_main(sys.argv[2:]))
    main()
