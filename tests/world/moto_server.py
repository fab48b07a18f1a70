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
import ctypes
import logging
import os
import signal
import sys
import threading
import time
import urllib.request

# Set before moto is imported. Loading moto's default AMI catalogue costs ~0.3 s
# per region backend, and nothing here needs DescribeImages: run_instances
# accepts any ami-* id while MOTO_ENABLE_AMI_VALIDATION is off (the default).
# setdefault: a caller that wants the AMIs can still export "true".
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid):
    """Ask the kernel to SIGTERM us when the parent dies, so a crashed test never
    leaves a moto server behind. Caveat: Linux fires this when the parent
    *thread* that spawned us exits, not the whole process; a server shared
    across test threads must be started with --no-pdeathsig (the getppid()
    watch in main() still covers the parent process dying)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: rely on the getppid() watch
    # The parent may have died before prctl took effect.
    if os.getppid() != parent_pid:
        sys.exit(0)


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


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
    parent_pid = os.getppid()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    ap.add_argument("--warm-region", action="append",
                    help="region(s) to pre-build (default us-east-1)")
    ap.add_argument("--no-pdeathsig", action="store_true",
                    help="only watch the parent process, not the spawning thread")
    ap.add_argument("--detached", action="store_true",
                    help="outlive the parent (manual runs, demos)")
    ap.add_argument("--verbose", action="store_true", help="log every request")
    args = ap.parse_args()

    if not (args.no_pdeathsig or args.detached):
        die_with_parent(parent_pid)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    t0 = time.monotonic()
    from moto.server import ThreadedMotoServer  # slow import: after prctl

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

    write_atomically(args.port_file, f"{port}\n")
    if args.verbose:
        print(f"moto_server: {base} ready in {time.monotonic() - t0:.2f}s",
              file=sys.stderr)

    # Short waits so the signal handler runs promptly and a vanished parent is
    # noticed even without PDEATHSIG.
    while not stop.wait(0.5):
        if not args.detached and os.getppid() != parent_pid:
            break
    server.stop()
    return 0


if __name__ == "__main__":
    rc = main()
    # The server is already stopped; skip interpreter teardown, which spends
    # ~0.8 s freeing moto's thousands of objects and would slow every test.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
