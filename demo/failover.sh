#!/usr/bin/env bash
# Failover demo: ocf:aws:vip moves an overlay IP from node1 to node2 of a
# simulated two-node cluster, against the local AWS emulator (moto) and the
# project's instance-metadata emulator. No AWS account, no Pacemaker: the
# script plays Pacemaker's part and runs the agent exactly as Pacemaker
# would (through its resource.d symlink, clean environment, action as argv[1]).
#
#   sudo bash demo/failover.sh        # fresh Debian 12 is fine; ~5 min first time (build)
#
# Root because it works in a private network + mount namespace, so nothing
# touches the host's interfaces. Installs what it needs like tests/run.sh
# (tests/deps.sh), builds with `cargo build`, then re-runs itself inside
# `unshare`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

VIP=10.1.0.10
TABLES=3

# ---------------------------------------------------------------- outside
if [[ ${1:-} != --inside ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "demo/failover.sh must run as root: it creates a private network namespace (try: sudo bash demo/failover.sh)" >&2
        exit 1
    fi
    # shellcheck source=tests/deps.sh
    . tests/deps.sh
    deps_packages
    deps_rust
    echo "==> cargo build (the first build compiles the AWS SDK: ~5 min)" >&2
    cargo build
    venv=$(bash tests/world/setup-venv.sh | tail -n1)
    # A target dir relative to the repo would break once we are elsewhere.
    bin=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/ocf-aws
    # Everything after this line lives in a namespace that disappears with
    # the script: interfaces, addresses and the /sys mount included.
    exec unshare --net --mount --propagation private -- \
        env DEMO_VENV="$venv" DEMO_BIN="$bin" bash "${BASH_SOURCE[0]}" --inside
fi

# ---------------------------------------------------------------- inside
venv=$DEMO_VENV
py=$venv/bin/python
work=$(mktemp -d /tmp/ocf-aws-demo.XXXXXX)
pids=()

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    ip link del node1-eth0 2>/dev/null || true
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link set lo up
# /sys/class/net lists the devices of the namespace that mounted sysfs; the
# agent maps the metadata's MAC to a device through it, so it must see ours.
mount -t sysfs sysfs /sys

say() { printf '%s\n' "$*"; }
# Bold headings on a terminal only; logs get plain text.
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
heading() { printf '\n%s=== %s ===%s\n' "$bold" "$*" "$plain"; }
indent() { sed 's/^/    /'; }

# ---- the emulated AWS: moto, one seeded VPC, one IMDS per node, all
# started (and stopped) by the test world's own module, tests/world/world.py.
# The route exists once per table (the admin creates it at set-up time, as
# the vip agent requires) and happens to point at node2's ENI: a realistic
# leftover, and it makes node1's start visibly switch every table.
# --role: credentials come from the "instance role", as in production.
world() { /usr/bin/python3 tests/world/world.py "$@"; }
/usr/bin/python3 tests/world/world.py up --venv "$venv" --dir "$work/emulators" --json-out "$work/world.json" \
    --seed-arg=--tables --seed-arg="$TABLES" --seed-arg=--vip --seed-arg="$VIP" \
    --seed-arg=--owner --seed-arg=node2 --imds-arg=--role --imds-arg=ha-cluster-node \
    2>"$work/world.log" &
pids+=($!)
world wait "$work/world.json" --timeout 90 --pid $! --what "the emulated AWS" >/dev/null ||
    { cat "$work/world.log" >&2; exit 1; }
jget() { world get "$work/world.json" "$1" --join " "; }
EP=$(jget emulators.moto)
VPC=$(jget vpc_id)

declare -A IMDS ENI MAC
for n in node1 node2; do
    IMDS[$n]=$(jget "emulators.imds.$n")
    ENI[$n]=$(jget "nodes.$n.eni_id")
    MAC[$n]=$(jget "nodes.$n.mac")
    mkdir -p "$work/run-$n"
done

# ---- the nodes' network interfaces: a veth pair (this kernel has no dummy
# driver), each end with its node's ENI MAC and primary private IP.
ip link add node1-eth0 type veth peer name node2-eth0
for n in node1 node2; do
    ip link set "$n-eth0" address "${MAC[$n]}"
    ip addr add "$(jget "nodes.$n.private_ip")/24" dev "$n-eth0"
    ip link set "$n-eth0" up
done

# ---- the agent, installed the way a package installs it
bash ocf/install.sh --root "$work/root" "$DEMO_BIN" >/dev/null
AGENT=$work/root/usr/lib/ocf/resource.d/aws/vip

rc_name() {
    case $1 in
        0) echo OCF_SUCCESS ;; 1) echo OCF_ERR_GENERIC ;; 2) echo OCF_ERR_ARGS ;;
        3) echo OCF_ERR_UNIMPLEMENTED ;; 4) echo OCF_ERR_PERM ;; 5) echo OCF_ERR_INSTALLED ;;
        6) echo OCF_ERR_CONFIGURED ;; 7) echo OCF_NOT_RUNNING ;; *) echo "?" ;;
    esac
}

# Run `vip ACTION` on NODE as Pacemaker would, plus extra VAR=value pairs.
# Shows the agent's log lines, its exit code and exit reason; sets LAST_RC
# and LAST_MS.
agent() {
    local node=$1 action=$2 out t0
    shift 2
    say "\$ [$node] vip $action${*:+   ($*)}"
    t0=$(date +%s%N)
    out=$(cd / && env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C \
        OCF_ROOT=/usr/lib/ocf OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1 \
        OCF_RESOURCE_INSTANCE=rsc_vip OCF_RESOURCE_TYPE=vip OCF_RESOURCE_PROVIDER=aws \
        OCF_EXIT_REASON_PREFIX=ocf-exit-reason: \
        OCF_RESKEY_CRM_meta_on_node="$node" OCF_RESKEY_CRM_meta_timeout=20000 \
        OCF_RESKEY_ip="$VIP" \
        AWS_ENDPOINT_URL="$EP" AWS_EC2_METADATA_SERVICE_ENDPOINT="${IMDS[$node]}" \
        HA_RSCTMP="$work/run-$node" \
        "$@" "$AGENT" "$action" 2>&1 </dev/null) && LAST_RC=0 || LAST_RC=$?
    LAST_MS=$((($(date +%s%N) - t0) / 1000000))
    grep -v '^ocf-exit-reason:' <<<"$out" | grep . | indent || true
    say "    -> rc $LAST_RC ($(rc_name "$LAST_RC")) in ${LAST_MS} ms"
    local reason
    reason=$(grep '^ocf-exit-reason:' <<<"$out" | tail -n1 | sed 's/^ocf-exit-reason://') || true
    [[ -z $reason ]] || say "    -> exit reason: $reason"
}

# What a recurring depth-10 monitor gets (op monitor interval=60s OCF_CHECK_LEVEL=10).
deep_monitor() {
    agent "$1" monitor OCF_RESKEY_CRM_meta_interval=60000 OCF_CHECK_LEVEL=10
}

state() {
    say "Route tables of $VPC (tests/world/show.py):"
    "$py" tests/world/show.py --endpoint "$EP" --vpc "$VPC" --vip "$VIP" | indent
    say "Local addresses (ip -br -4 addr; nodeN-eth0 plays nodeN's eth0):"
    # Drop lo and the "@peer" suffix of veth names, which only adds noise.
    ip -br -4 addr show | awk '$1 != "lo" {
        sub(/@.*/, "", $1); printf "%-11s %-15s", $1, $2
        for (i = 3; i <= NF; i++) printf " %s", $i
        print "" }' | sort | indent
}

# ---------------------------------------------------------------- the story
heading "ocf:aws:vip failover demo"
say "Emulated AWS: moto at $EP, one VPC $VPC (10.0.0.0/16)."
say "  node1: ENI ${ENI[node1]}, MAC ${MAC[node1]}, device node1-eth0, metadata at ${IMDS[node1]}"
say "  node2: ENI ${ENI[node2]}, MAC ${MAC[node2]}, device node2-eth0, metadata at ${IMDS[node2]}"
say "Overlay IP $VIP lies outside the VPC. At set-up the admin created the route"
say "$VIP/32 once in each of $TABLES route tables; it points at node2's ENI, but no"
say "node holds the address: the resource is stopped everywhere."
say "Agent: ocf:aws:vip = $AGENT -> $(readlink "$AGENT")"
say "(installed by ocf/install.sh); AWS credentials come from the instance role via IMDSv2."

heading "BEFORE"
state

heading "Pacemaker starts the VIP on node1"
agent node1 start
say
state

heading "node1's recurring depth-10 monitor (local address + every route)"
deep_monitor node1

heading "node1 crashes"
say "\$ ip link set node1-eth0 down     (no stop runs on node1: it is gone)"
ip link set node1-eth0 down
say "In a real cluster Pacemaker now fences node1, then starts the VIP elsewhere."

heading "Pacemaker starts the VIP on node2 (the failover)"
agent node2 start
failover_ms=$LAST_MS
failover_rc=$LAST_RC

heading "AFTER"
state
say "(node2-eth0 shows LOWERLAYERDOWN only because its veth peer, node1's"
say " interface, is down; the agent does not care about carrier.)"

heading "Monitors after the failover"
say "node1, had it survived (say a network partition rather than a crash):"
deep_monitor node1
node1_rc=$LAST_RC
say
say "node2:"
deep_monitor node2
node2_rc=$LAST_RC

heading "Summary"
say "Failover start on node2: rc $failover_rc in ${failover_ms} ms against the local emulator"
say "(all $TABLES route tables switched and the address added; on AWS the API round trips dominate)."
say "node1 deep monitor: rc $node1_rc ($(rc_name "$node1_rc")); node2 deep monitor: rc $node2_rc ($(rc_name "$node2_rc"))."
if [[ $failover_rc -ne 0 || $node1_rc -ne 7 || $node2_rc -ne 0 ]]; then
    say "UNEXPECTED: the demo expected 0, 7 and 0."
    exit 1
fi
