#!/usr/bin/env python3
"""The test world in one module: the emulators' shared plumbing, starting and
stopping them, seeding, waiting for port files, and a JSON client for their
control endpoints. Standard library only, so the emulators that run with the
system python3 (imds.py, fault_proxy.py, dns_responder.py) import it too.

    python3 world.py up [--venv DIR] [--endpoint URL | --moto-host H --moto-port P]
                        [--no-world | --world FILE] [--seed-arg=ARG ...]
                        [--nodes node1,node2] [--imds-host H] [--imds-port P] [--imds-arg=ARG ...]
                        [--proxy [--proxy-host H --proxy-port P]]
                        [--dns [--dns-host H --dns-port P --dns-zone-id Z]]
                        [--dir DIR] [--json-out FILE] [--no-pdeathsig | --detached]
        Starts moto (unless --endpoint names a running one), seeds a world
        with seed.py (unless --no-world, or --world names one already seeded;
        --seed-arg=--tables --seed-arg=5 passes options on), one imds.py per
        node, optionally a fault proxy in front of moto and a DNS responder.
        Then writes the world description (below) to --json-out (atomically)
        or stdout, and stays until SIGTERM or its parent goes; everything it
        started goes with it.
    python3 world.py wait FILE [--timeout S] [--pid PID] [--what TEXT]
        Waits until FILE is non-empty (a port file, an `up` description);
        prints it. Fails at once when PID has exited.
    python3 world.py get FILE KEY.PATH [--join SEP]
        One field of a JSON file (lists joined with SEP, default ",").
    python3 world.py http METHOD URL
        One request to an emulator's control endpoint; prints the body.

The description is seed.py's world JSON (tests/world/README.md), unchanged,
plus "emulators": {"moto": URL, "imds": {node: URL}, "proxy": URL, "dns":
"127.0.0.1:PORT", "dir": DIR, "pid": PID} (proxy and dns only when asked).
With --no-world it is {"endpoint": URL, "emulators": {...}}.
"""
import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SYSPY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
PR_SET_PDEATHSIG = 1
# Captured at import, first thing a server does: a parent that dies while
# the arguments are parsed is still noticed.
PARENT_PID = os.getppid()

# ------------------------------------------------------ emulator plumbing


def die_with_parent(parent_pid=PARENT_PID):
    """Ask the kernel to SIGTERM us when the parent dies, so a crashed test
    never leaves an emulator behind. Caveat: Linux fires this when the parent
    *thread* that spawned us exits, not the whole process; a server shared
    across test threads must be started with --no-pdeathsig (Lifetime.wait's
    getppid() watch still covers the parent process dying)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: rely on the getppid() watch
    # The parent may have died before prctl took effect.
    if os.getppid() != parent_pid:
        sys.exit(0)


def write_atomically(path, text):
    """Via path.tmp + rename: a reader polling path never sees half a number."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def server_options(ap, port_file_required=False):
    """The command-line options every emulator shares."""
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    ap.add_argument("--port-file", required=port_file_required,
                    help="written (atomically) with the port once the server is ready")
    ap.add_argument("--verbose", action="store_true")
    lifetime_options(ap)


def lifetime_options(ap):
    ap.add_argument("--no-pdeathsig", action="store_true",
                    help="only watch the parent process, not the spawning thread")
    ap.add_argument("--detached", action="store_true",
                    help="outlive the parent (manual runs, demos)")


class Lifetime:
    """How long an emulator lives: until SIGTERM/SIGINT, or until its parent
    goes (PDEATHSIG unless --no-pdeathsig, and a getppid() watch unless
    --detached). `stop` is set when it is time to go."""

    def __init__(self, args):
        self.detached = args.detached
        if not (args.no_pdeathsig or args.detached):
            die_with_parent()
        self.stop = threading.Event()
        # The handler only notes the signal: Python runs it in the main
        # thread between two bytecodes, and had it called stop.set() while
        # that thread held the Event's (non-reentrant) lock, inside
        # stop.wait(), the process would hang for good, and with it the
        # test dropping it (seen once in some 200 worlds a test run).
        self.signalled = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._note)

    def _note(self, *_):
        self.signalled = True

    def wait(self):
        # Short sleeps so a signal or a vanished parent (without PDEATHSIG)
        # is noticed within 0.1 s.
        while not self.signalled:
            if not self.detached and os.getppid() != PARENT_PID:
                break
            time.sleep(0.1)
        self.stop.set()


def family(host):
    """The socket family a server bound to `host` needs."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def serve(life, servers, port, port_file):
    """Run socketservers on threads, announce the port, wait out the
    lifetime, shut down."""
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
    if port_file:
        write_atomically(port_file, f"{port}\n")
    life.wait()
    for server in servers:
        server.shutdown()
        server.server_close()

# Real IMDS answers errors with this XHTML page (Content-Type text/html);
# imds.py and fault_proxy.py (faults in front of imds.py) both send it.
IMDS_ERROR_PAGE = """<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>{code} - {reason}</title>
 </head>
 <body>
  <h1>{code} - {reason}</h1>
 </body>
</html>
"""

# ------------------------------------------------------ waiting and HTTP


def wait_file(path, what, timeout=60.0, proc=None, pid=None):
    """The non-empty content of `path` once it appears; RuntimeError when
    `timeout` passes or the process that should write it has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                s = f.read().strip()
            if s:
                return s
        except FileNotFoundError:
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited (rc {proc.returncode}) before it was ready")
        if pid is not None and not alive(pid):
            raise RuntimeError(f"{what} (pid {pid}) exited before it was ready")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {timeout:g} s")
        time.sleep(0.01)


def alive(pid):
    """Whether `pid` still runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return False


# The emulators are local: never through an http_proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, timeout=10):
    """One request to an emulator's control endpoint: the JSON it answers,
    or the text when it is not JSON."""
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with OPENER.open(req, timeout=timeout) as r:
        body = r.read()
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


def field(doc, path):
    for k in path.split("."):
        doc = doc[k]
    return doc

# ------------------------------------------------------ the emulators


def find_venv():
    """The moto venv: $OCF_AWS_VENV if it has a python, else whatever
    setup-venv.sh makes (a no-op when it is current)."""
    v = os.environ.get("OCF_AWS_VENV")
    if v and os.path.exists(os.path.join(v, "bin", "python")):
        return v
    out = subprocess.run(["bash", os.path.join(HERE, "setup-venv.sh")], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


def seed(python, endpoint, args=()):
    """A fresh world in moto (seed.py, run with the venv's `python`): the
    parsed world and its JSON text."""
    out = subprocess.run([python, os.path.join(HERE, "seed.py"), "--endpoint", endpoint,
                          *args], check=True, stdout=subprocess.PIPE, text=True,
                         timeout=120).stdout
    return json.loads(out), out


class Emulators:
    """Processes of the test world, each with its port file and log in
    `dir` (NAME.port, NAME.log); stop() ends them all."""

    def __init__(self, dir=None, venv=None):
        self.own_dir = dir is None
        self.dir = dir or tempfile.mkdtemp(prefix="ocf-aws-world-")
        os.makedirs(self.dir, exist_ok=True)
        self._venv = venv
        self.procs = {}

    @property
    def python(self):
        """The venv's python (moto, boto3)."""
        if self._venv is None:
            self._venv = find_venv()
        return os.path.join(self._venv, "bin", "python")

    def spawn(self, name, argv):
        if name in self.procs:
            raise ValueError(f"{name} is already running")
        pf = os.path.join(self.dir, name + ".port")
        if os.path.exists(pf):
            os.unlink(pf)
        with open(os.path.join(self.dir, name + ".log"), "w") as log:
            self.procs[name] = subprocess.Popen(argv + ["--port-file", pf],
                                                stdout=subprocess.DEVNULL, stderr=log)
        return name

    def wait(self, name, timeout=30):
        """The port `name` announced."""
        pf = os.path.join(self.dir, name + ".port")
        try:
            return int(wait_file(pf, name, timeout, proc=self.procs[name]))
        except RuntimeError as e:
            raise RuntimeError(f"{e}; see {os.path.join(self.dir, name + '.log')}") from None

    def start(self, name, argv, timeout=30):
        return self.wait(self.spawn(name, argv), timeout)

    def moto(self, host="127.0.0.1", port=0, name="moto"):
        argv = [self.python, os.path.join(HERE, "moto_server.py"), "--host", host,
                "--port", str(port)]
        return f"http://{host}:{self.start(name, argv, timeout=90)}"

    def proxy(self, upstream, host="127.0.0.1", port=0, name="proxy"):
        argv = [SYSPY, os.path.join(HERE, "fault_proxy.py"), "--upstream", upstream,
                "--host", host, "--port", str(port)]
        return f"http://{host}:{self.start(name, argv)}"

    def dns(self, endpoint, zone_id=None, host="127.0.0.1", port=0, name="dns"):
        """A dns_responder.py on moto's Route 53: its (UDP and TCP) port."""
        argv = [SYSPY, os.path.join(HERE, "dns_responder.py"), "--endpoint", endpoint,
                "--host", host, "--port", str(port)]
        if zone_id:
            argv += ["--zone-id", zone_id]
        return self.start(name, argv)

    def imds(self, world_file, nodes, host="127.0.0.1", port=0, args=(), python=SYSPY):
        """One imds.py per node (started together): {node: URL}."""
        names = {n: self.spawn(f"imds-{n}", [python, os.path.join(HERE, "imds.py"),
                                             "--world", world_file, "--node", n,
                                             "--host", host, "--port", str(port), *args])
                 for n in nodes}
        h = f"[{host}]" if ":" in host else host  # an IPv6 host is bracketed in a URL
        return {n: f"http://{h}:{self.wait(name)}" for n, name in names.items()}

    def seed(self, endpoint, args=()):
        """A fresh world; also written to DIR/world-<vpc>.json, whose path is
        returned with it."""
        world, text = seed(self.python, endpoint, args)
        path = os.path.join(self.dir, f"world-{world['vpc_id']}.json")
        with open(path, "w") as f:
            f.write(text)
        return world, path

    def stop(self, name=None):
        """End `name`, or every process (the last started first)."""
        names = [name] if name else list(reversed(self.procs))
        procs = [self.procs.pop(n) for n in names if n in self.procs]
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if name is None and self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

# ------------------------------------------------------ command line


def cmd_up(args):
    life = Lifetime(args)
    em = Emulators(args.dir, args.venv)
    try:
        endpoint = args.endpoint or em.moto(args.moto_host, args.moto_port)
        emu = {"moto": endpoint, "dir": em.dir, "pid": os.getpid()}
        if args.world:
            world_file = args.world
            with open(world_file) as f:
                world = json.load(f)
        elif args.no_world:
            world_file, world = None, {"endpoint": endpoint}
        else:
            world, world_file = em.seed(endpoint, args.seed_arg)
        if world_file:
            nodes = args.nodes.split(",") if args.nodes else list(world["nodes"])
            emu["imds"] = em.imds(world_file, nodes, args.imds_host, args.imds_port,
                                  args.imds_arg)
        if args.proxy:
            emu["proxy"] = em.proxy(endpoint, args.proxy_host, args.proxy_port)
        if args.dns:
            port = em.dns(endpoint, args.dns_zone_id, args.dns_host, args.dns_port)
            emu["dns"] = f"{args.dns_host}:{port}"
        world["emulators"] = emu
        text = json.dumps(world) + "\n"
        if args.json_out:
            write_atomically(args.json_out, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        life.wait()
    except (RuntimeError, subprocess.SubprocessError, OSError, ValueError, KeyError) as e:
        print(f"world.py up: {e}", file=sys.stderr)
        return 1
    finally:
        em.stop()
    return 0


def cmd_wait(args):
    try:
        print(wait_file(args.file, args.what or args.file, args.timeout, pid=args.pid))
    except RuntimeError as e:
        print(f"world.py wait: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_get(args):
    with open(args.file) as f:
        v = field(json.load(f), args.key)
    print(args.join.join(map(str, v)) if isinstance(v, list) else
          json.dumps(v) if isinstance(v, dict) else v)
    return 0


def cmd_http(args):
    v = http(args.method, args.url)
    print(v if isinstance(v, str) else json.dumps(v))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the emulated AWS and a seeded world")
    up.add_argument("--venv", help="the moto venv (default: setup-venv.sh's)")
    up.add_argument("--endpoint", help="a running moto (default: start one)")
    up.add_argument("--moto-host", default="127.0.0.1")
    up.add_argument("--moto-port", type=int, default=0)
    up.add_argument("--no-world", action="store_true", help="no seeding, no imds.py")
    up.add_argument("--world", help="a seeded world's JSON: start its imds.py only")
    up.add_argument("--seed-arg", action="append", default=[], metavar="ARG",
                    help="passed to seed.py (repeat; --seed-arg=--owner --seed-arg=node2)")
    up.add_argument("--nodes", help="comma-separated nodes that get an imds.py (default all)")
    up.add_argument("--imds-host", default="127.0.0.1")
    up.add_argument("--imds-port", type=int, default=0)
    up.add_argument("--imds-arg", action="append", default=[], metavar="ARG",
                    help="passed to each imds.py (repeat; --imds-arg=--role --imds-arg=NAME)")
    up.add_argument("--proxy", action="store_true", help="a fault_proxy.py in front of moto")
    up.add_argument("--proxy-host", default="127.0.0.1")
    up.add_argument("--proxy-port", type=int, default=0)
    up.add_argument("--dns", action="store_true", help="a dns_responder.py on moto's Route 53")
    up.add_argument("--dns-host", default="127.0.0.1")
    up.add_argument("--dns-port", type=int, default=0)
    up.add_argument("--dns-zone-id")
    up.add_argument("--dir", help="port files and logs (default: a temporary directory)")
    up.add_argument("--json-out", help="write the description here (default: stdout)")
    lifetime_options(up)
    wait = sub.add_parser("wait", help="wait for a port or description file")
    wait.add_argument("file")
    wait.add_argument("--timeout", type=float, default=60)
    wait.add_argument("--pid", type=int, help="fail as soon as this process has exited")
    wait.add_argument("--what", help="what is awaited, for the error message")
    get = sub.add_parser("get", help="one field of a JSON file")
    get.add_argument("file")
    get.add_argument("key", help="dotted path, e.g. nodes.node1.eni_id")
    get.add_argument("--join", default=",", help="separator for lists")
    req = sub.add_parser("http", help="one request to a control endpoint")
    req.add_argument("method", choices=["GET", "POST"])
    req.add_argument("url")
    args = ap.parse_args()
    return {"up": cmd_up, "wait": cmd_wait, "get": cmd_get, "http": cmd_http}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
