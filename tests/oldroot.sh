#!/usr/bin/env bash
# The .deb on an older userland: Debian 11 (bullseye, glibc 2.31, the oldest
# glibc among the Debian releases still in use, and older than the 2.34 a
# plain `cargo build` on Debian 12 requires). Builds (once, then cached) a
# minimal bullseye root with debootstrap from the Debian archive, installs
# the .deb in a throw-away copy of it with dpkg, and runs the packaged agents
# from inside it against the emulated AWS world:
#   meta-data of every agent (valid against ra-api-1.dtd and metadata.rng,
#   fence_ec2 against fence-agents' metadata.rng), validate-all, vip
#   start / monitor / stop with the routes checked in moto and the address
#   on the interface, and fence_ec2 status and list.
#
#   bash tests/oldroot.sh DEB          # as root
#
# Cache: $OCF_AWS_ROOT_CACHE (default /var/cache/ocf-aws/roots), one root per
# recipe (suite, mirror, packages); ~2 min to build, then ~2 s to copy.
# Everything else lives in a private network and mount namespace and a
# temporary directory that vanish with the script. Last line:
# `oldroot: N passed, M failed` (tests/run.sh adds it to its summary).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

SUITE=bullseye
MIRROR=${OCF_AWS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What a minimal server of that release has that the package needs:
# iproute2 is its one declared dependency besides libc6.
INCLUDE=iproute2
VIP=10.1.0.10

die() {
    echo "tests/oldroot.sh: $*" >&2
    exit 1
}

if [[ ${1:-} != --inside ]]; then
    (($# == 1)) || die "usage: bash tests/oldroot.sh DEB"
    [[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot, namespaces)"
    deb=$(realpath "$1")
    [[ -f $deb ]] || die "no package at $1"
    command -v debootstrap >/dev/null || { . tests/deps.sh && deps_apt debootstrap; }
    command -v xmllint >/dev/null || { . tests/deps.sh && deps_apt libxml2-utils; }

    cache=${OCF_AWS_ROOT_CACHE:-/var/cache/ocf-aws/roots}
    recipe=$(printf '%s\n' "$SUITE" "$MIRROR" "$INCLUDE" minbase | sha256sum | cut -c1-12)
    base=$cache/$SUITE-$recipe
    mkdir -p "$cache"
    # One builder at a time; a root appears under its final name only when
    # complete, so an interrupted debootstrap never passes for a cached one.
    exec 9>"$cache/.lock"
    flock 9
    if [[ ! -x $base/usr/bin/dpkg ]]; then
        t0=$SECONDS
        echo "oldroot: debootstrap $SUITE from $MIRROR (~2 min, once; cached in $cache)" >&2
        rm -rf "$base.tmp"
        debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$base.tmp" "$MIRROR" \
            >"$cache/$SUITE.log" 2>&1 || { tail -n 20 "$cache/$SUITE.log" >&2; die "debootstrap failed"; }
        mv "$base.tmp" "$base"
        echo "oldroot: root built in $((SECONDS - t0))s" >&2
    fi
    flock -u 9

    venv=$(bash tests/world/setup-venv.sh | tail -n1)
    work=$(mktemp -d /tmp/ocf-aws-oldroot.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    # A copy per run: dpkg -i must not change the cached root.
    cp -a "$base" "$work/root"
    cp "$deb" "$work/root/tmp/ocf-aws.deb"
    rc=0
    unshare --net --mount --propagation private -- \
        env OLDROOT_VENV="$venv" OLDROOT_WORK="$work" bash ${OLDROOT_TRACE:+-x} "${BASH_SOURCE[0]}" --inside || rc=$?
    exit "$rc"
fi

# ---------------------------------------------------------------- inside
venv=$OLDROOT_VENV
work=$OLDROOT_WORK
r=$work/root
pids=()
cleanup() {
    local rc=$?
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    exit "$rc"
}
trap cleanup EXIT

# shellcheck source=tests/checks.sh
. tests/checks.sh

ip link set lo up
mount -t sysfs sysfs /sys
# The root sees this namespace's devices (the agent maps the metadata's MAC
# to a device through /sys/class/net), processes and /dev.
mount --rbind /sys "$r/sys"
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"

world() { /usr/bin/python3 tests/world/world.py "$@"; }
world up --venv "$venv" --dir "$work/emulators" --json-out "$work/world.json" \
    --seed-arg=--vip --seed-arg="$VIP" --seed-arg=--owner --seed-arg=node2 \
    --imds-arg=--role --imds-arg=ha-cluster-node 2>"$work/world.log" &
pids+=($!)
world wait "$work/world.json" --timeout 90 --pid $! --what "the emulated AWS" >/dev/null ||
    { cat "$work/world.log" >&2; exit 1; }
jget() { world get "$work/world.json" "$1" --join " "; }
EP=$(jget emulators.moto)
IMDS=$(jget emulators.imds.node1)

# node1's interface: its ENI's MAC and primary private IP (veth: this
# kernel may have no dummy driver).
ip link add node1-eth0 type veth peer name node2-eth0
ip link set node1-eth0 address "$(jget nodes.node1.mac)"
ip addr add "$(jget nodes.node1.private_ip)/24" dev node1-eth0
ip link set node1-eth0 up
ip link set node2-eth0 up

glibc=$(chroot "$r" ldd --version | awk 'NR == 1 { print $NF }')
echo "oldroot: $(cat "$r/etc/debian_version") root, glibc $glibc"

if out=$(chroot "$r" dpkg -i /tmp/ocf-aws.deb 2>&1); then
    ok "dpkg -i on Debian $(cat "$r/etc/debian_version") (glibc $glibc)"
else
    bad "dpkg -i on Debian $(cat "$r/etc/debian_version") (glibc $glibc): $out"
    echo "oldroot: $passed passed, $failed failed"
    exit 1
fi

# node1's clean environment: moto as the endpoint, node1's IMDS.
node_env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
    AWS_ENDPOINT_URL="$EP" AWS_EC2_METADATA_SERVICE_ENDPOINT="$IMDS")
# Run an installed resource agent in the root as Pacemaker would. Sets OUT
# and RC.
in_root() {
    OUT=$(chroot "$r" env -i "${node_env[@]}" \
        OCF_ROOT=/usr/lib/ocf OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1 \
        OCF_RESOURCE_INSTANCE=rsc_test OCF_RESOURCE_PROVIDER=aws \
        OCF_RESKEY_CRM_meta_on_node=node1 OCF_RESKEY_CRM_meta_timeout=20000 \
        "$@" 2>&1 </dev/null) && RC=0 || RC=$?
}

agents=$(chroot "$r" /usr/lib/ocf/lib/aws/ocf-aws --list)
[[ -n $agents ]] && ok "ocf-aws --list runs: $(tr '\n' ' ' <<<"$agents")" || bad "ocf-aws --list"
dtd=/usr/share/resource-agents/ra-api-1.dtd
rng=/usr/share/resource-agents/metadata.rng
for a in $agents; do
    in_root /usr/lib/ocf/resource.d/aws/"$a" meta-data
    if ((RC == 0)) && xmllint --noout --dtdvalid "$dtd" - <<<"$OUT" 2>/dev/null &&
        xmllint --noout --relaxng "$rng" - <<<"$OUT" 2>/dev/null; then
        ok "$a meta-data valid (ra-api-1.dtd, metadata.rng)"
    else
        bad "$a meta-data (rc $RC)"
    fi
done
in_root /usr/sbin/fence_ec2 -o metadata
if ((RC == 0)) && xmllint --noout --relaxng /usr/share/cluster/relaxng/metadata.rng - <<<"$OUT" 2>/dev/null; then
    ok "fence_ec2 metadata valid (fence-agents metadata.rng)"
else
    bad "fence_ec2 metadata (rc $RC)"
fi

# The ENIs the VIP's routes point at, over the seeded tables (the main
# table never holds the route).
routes_to() {
    "$venv/bin/python" tests/world/show.py --endpoint "$EP" --vpc "$(jget vpc_id)" --vip "$VIP" --json |
        "$venv/bin/python" -c '
import json, sys
rows = [r for r in json.load(sys.stdin)["tables"] if not r["main"]]
print(" ".join(sorted({r["eni_id"] or "-" for r in rows})))'
}
# (a here-string, not a pipe: grep -q would end ip early, and pipefail
# would count its SIGPIPE as "not there")
on_device() { grep -qw "$VIP" <<<"$(ip -o addr show dev node1-eth0)"; }

# step WHAT RC ACTION [VAR=value...]: vip ACTION must exit RC.
step() {
    local what=$1 want=$2 action=$3
    shift 3
    in_root OCF_RESKEY_ip="$VIP" OCF_RESKEY_interface=node1-eth0 "$@" /usr/lib/ocf/resource.d/aws/vip "$action"
    if ((RC == want)); then ok "vip $what: rc $RC"; else bad "vip $what: rc $RC, want $want: $OUT"; fi
}
step validate-all 0 validate-all
step "probe before start" 7 monitor OCF_RESKEY_CRM_meta_interval=0
step start 0 start
eni1=$(jget nodes.node1.eni_id)
got=$(routes_to)
[[ $got == "$eni1" ]] && ok "every $VIP/32 route points at node1's $eni1" || bad "routes after start: '$got', want $eni1"
on_device && ok "$VIP is on node1-eth0" || bad "$VIP not on node1-eth0 after start"
step "monitor depth 10" 0 monitor OCF_RESKEY_CRM_meta_interval=10000 OCF_CHECK_LEVEL=10
step stop 0 stop
on_device && bad "$VIP still on node1-eth0 after stop" || ok "$VIP gone from node1-eth0 after stop"
step "monitor after stop" 7 monitor OCF_RESKEY_CRM_meta_interval=10000

id1=$(jget nodes.node1.instance_id)
# fence LINE...: fence_ec2 as pacemaker-fenced runs it (key=value lines on stdin).
fence() { OUT=$(printf '%s\n' "$@" | chroot "$r" env -i "${node_env[@]}" /usr/sbin/fence_ec2 2>&1) && RC=0 || RC=$?; }
fence action=status "plug=$id1"
((RC == 0)) && ok "fence_ec2 status of $id1: rc 0 (on)" || bad "fence_ec2 status: rc $RC: $OUT"
fence action=list
grep -q "$id1" <<<"$OUT" && ok "fence_ec2 list names $id1" || bad "fence_ec2 list (rc $RC): $OUT"

echo "oldroot: $passed passed, $failed failed"
((failed == 0))
