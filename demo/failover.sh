#!/usr/bin/env bash
# Failover demo: a two-node Pacemaker cluster on the emulated AWS (moto and
# the project's instance-metadata emulator, no AWS account), running
# crm-examples/group.crm as it is: vip + eip + dns + an application in one
# group, the az clone, and fencing with fence_ec2. node1 crashes; node2
# fences it (its instance is stopped in EC2), starts the group, and every
# route, the Elastic IP and the DNS record follow. Prints crm_mon and the AWS
# state before and after, and the failover as a bar chart on one time axis.
#
#   sudo bash demo/failover.sh          # ~2 min (plus the first build and apt)
#   sudo bash demo/failover.sh --quick  # the single-agent walk-through: the
#                                       # script plays Pacemaker for ocf:aws:vip
#
# It is the end-to-end harness (tests/e2e/run.sh) running one more scenario,
# defined below: real Pacemaker 2.1 and Corosync 3 in network namespaces, the
# nodes' fates tied to their instances' states (tests/e2e/README.md).
# Root because it makes namespaces; installs what it needs (tests/deps.sh,
# tests/e2e/deps.sh), builds with `cargo build`, leaves nothing behind.
set -euo pipefail

# ------------------------------------------- the scenario, for run.sh
# run.sh sources this file (E2E_EXTRA) inside its namespaces, after lib.sh
# and scenarios.sh, and runs scenario_demo.
if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
    SCENARIO_TITLE[demo]="failover demo: node1 crashes, node2 fences it and takes vip + eip + dns (crm-examples/group.crm)"
    if [[ -t 1 ]]; then DEMO_BOLD=$'\033[1m' DEMO_PLAIN=$'\033[0m'; else DEMO_BOLD="" DEMO_PLAIN=""; fi
    demo_heading() { printf '\n%s=== %s ===%s\n' "$DEMO_BOLD" "$*" "$DEMO_PLAIN"; }
    demo_aws() { # what EC2 and Route 53 say now
        local st
        st=$(aws_state)
        "$SYSPY" - "$WORLD" "$st" "$("$PY" "$E2E_DIR/aws.py" instances --world "$WORLD" --endpoint "$E2E_MOTO")" <<'EOF'
import json, sys
w, st, inst = json.load(open(sys.argv[1])), json.loads(sys.argv[2]), json.loads(sys.argv[3])
who = {n["eni_id"]: k for k, n in w["nodes"].items()}
ips = {n["private_ip"]: k for k, n in w["nodes"].items()}
for k, n in sorted(w["nodes"].items()):
    print(f"      instance {n['instance_id']} ({k}, Name={k}): {inst.get(k)}")
for rt, eni in sorted(st["routes"].items()):
    print(f"      route table {rt}: {w['vip']}/32 -> {eni} ({who.get(eni, '?')})")
e = st["eip"]
print(f"      Elastic IP {w['eip']['public_ip']}: -> {e['eni']} / {e['private_ip']} ({who.get(e['eni'], 'nobody')})")
print(f"      {w['zone']['record']} A {', '.join(st['record'])} ({', '.join(ips.get(v, '?') for v in st['record'])})")
EOF
    }
    demo_mon() { nx "$1" crm_mon -1 2>&1 | sed -n '/Node List/,$p' | indent; }
    scenario_demo() {
        demo_heading "A two-node cluster on the emulated AWS"
        say "node1 and node2 are network namespaces of this machine, each with its"
        say "instance's ENI MAC and private IP, its own instance metadata, and real"
        say "Corosync + Pacemaker; crm-examples/group.crm is loaded with only its"
        say "placeholders filled in (fence_ec2 finds each node by its Name tag)."
        two_node_cluster crm || return 1
        demo_heading "BEFORE: crm_mon on node1"
        demo_mon node1
        demo_heading "BEFORE: AWS"
        demo_aws
        demo_heading "node1 crashes (SIGKILL of its corosync and pacemakerd, no stop runs)"
        crash_failover demo || return 1
        demo_heading "AFTER: crm_mon on node2"
        demo_mon node2
        demo_heading "AFTER: AWS"
        demo_aws
        demo_heading "The failover, step by step (seconds after the crash)"
        local cols=${COLUMNS:-120}
        [[ $cols =~ ^[0-9]+$ ]] || cols=120
        "$SYSPY" "$E2E_DIR/timeline.py" bars "$E2E_WORK/timeline.jsonl" \
            --width "$(((cols > 100 ? cols : 100) - 70))"
        say "Fencing is the reboot Pacemaker asks for: StopInstances, then StartInstances"
        say "(the test world's boot time, E2E_BOOT_MS, stands in for EC2's); node1 rejoins."
        fate_stop
        cluster_down
    }
    return 0
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# prepare WHY: both modes start as root (WHY it must be), with the Debian
# packages, a Rust toolchain and a fresh debug build.
prepare() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "demo/failover.sh must run as root: it $1 (try: sudo bash demo/failover.sh)" >&2
        exit 1
    fi
    # shellcheck source=tests/deps.sh
    . tests/deps.sh
    deps_packages
    deps_rust
    echo "==> cargo build (the first build compiles the AWS SDK: ~5 min)" >&2
    cargo build
}

if [[ ${1:-} != --quick && ${1:-} != --inside ]]; then
    prepare "creates network namespaces and runs Pacemaker"
    rc=0
    COLUMNS=${COLUMNS:-$(tput cols 2>/dev/null || echo 120)} \
        E2E_EXTRA="$root/demo/failover.sh" E2E_TIMEOUT=${E2E_TIMEOUT:-600} \
        bash tests/e2e/run.sh demo || rc=$?
    ((rc == 0)) && echo "demo: passed" || echo "demo: FAILED (rc $rc)"
    exit "$rc"
fi
[[ ${1:-} != --quick ]] || shift

VIP=10.1.0.10
TABLES=3

if [[ ${1:-} != --inside ]]; then
    prepare "creates a private network namespace"
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
