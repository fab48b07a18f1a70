# shellcheck shell=bash
# The e2e harness's building blocks: the emulated AWS, simulated cluster
# nodes (namespaces), corosync + pacemaker started by hand, and the checks.
# Sourced by tests/e2e/run.sh, which has already put us inside a private
# PID + mount + network namespace (see run.sh): everything started here dies
# with it, and nothing here is visible on the host.
#
# Network (every address exists only inside namespaces the harness made):
#
#   harness netns ("aws")                     node netns (one per node)
#   ┌──────────────────────────────┐          ┌─────────────────────────────┐
#   │ lo 127.0.0.1   moto :5000    │          │ lo  169.254.169.254 imds.py │
#   │ br0 10.0.0.250 fault_proxy:80├─ v-nodeN ─ eth0 10.0.N.10/24 (ENI MAC)  │
#   │     10.0.0.2   dns :53       │   veth   │ route 10.0.0.0/16 dev eth0  │
#   └──────────────────────────────┘          └─────────────────────────────┘
#
# The agents reach the EC2 / Route 53 API at http://10.0.0.250 (like a VPC
# interface endpoint; AWS_ENDPOINT_URL in the node's /etc/default/pacemaker)
# and the instance metadata at the real 169.254.169.254:80 of their node.

E2E_API_IP=10.0.0.250
E2E_RESOLVER_IP=10.0.0.2
E2E_API=http://$E2E_API_IP
E2E_MOTO=http://127.0.0.1:5000
E2E_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SYSPY=/usr/bin/python3
# Owner of the nodes' Pacemaker files, as the nodes' /etc/passwd names it
# (numeric ids of another release's root: root.sh's e2e_root_layer).
E2E_HA_OWNER=${E2E_HA_OWNER:-hacluster:haclient}
# The one module that starts the emulators, waits for them and reads the
# world (tests/world/world.py).
WORLD_PY=$E2E_ROOT/tests/world/world.py

declare -A NODE_PID=()   # node name -> pid of the process holding its namespaces
declare -A NODE_IDENT=() # node name -> the world's node it impersonates (node1|node2)
BOOT_HOOKS=()            # functions node_power_on calls with the node's name, last
EXAMPLE_SED=()           # more sed -e arguments for example (a scenario's placeholders)

# ------------------------------------------------------------------ output

e2e_t0=${e2e_t0:-$(date +%s.%N)}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[%6ss] %s\n' "$(elapsed "$e2e_t0")" "$*"; }
indent() { sed 's/^/      /'; }
nocolour() { sed 's/\x1b\[[0-9;]*m//g'; }

# Failures inside a scenario: fail "message" records it and returns 1 so the
# scenario function can `|| return 1`.
fail() {
    say "FAIL: $*"
    return 1
}

# wait_for TIMEOUT_S DESCRIPTION CMD... : run CMD every 0.2 s until it
# succeeds; fail after TIMEOUT_S.
wait_for() {
    local timeout=$1 what=$2
    shift 2
    local end
    end=$(awk -v t="$timeout" -v n="$(now)" 'BEGIN { printf "%.3f", n + t }')
    while true; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if awk -v e="$end" -v n="$(now)" 'BEGIN { exit !(n > e) }'; then
            fail "timed out after ${timeout}s waiting for: $what"
            return 1
        fi
        sleep 0.2
    done
}

wait_file() { # FILE TIMEOUT WHAT
    wait_for "$2" "$3" test -s "$1"
}

# ------------------------------------------------------------ emulated AWS

# Bring up the harness's own network (the bridge) and the emulators. Runs
# once per harness run; moto is shared by every scenario (each seeds its own
# VPC), like tests/world does for the Rust tests.
aws_up() {
    ip link set lo up
    ip link add br0 type bridge
    # No STP, no forwarding delay: a fresh veth forwards at once.
    ip link set br0 type bridge forward_delay 0 stp_state 0
    ip link set br0 up
    ip addr add "$E2E_RESOLVER_IP/16" dev br0
    ip addr add "$E2E_API_IP/16" dev br0

    # moto, the fault proxy in front of it and the DNS responder; their
    # port files and logs (moto.log, proxy.log, dns.log) in $E2E_WORK.
    "$SYSPY" "$WORLD_PY" up --venv "$E2E_VENV" --moto-host 127.0.0.1 --moto-port 5000 \
        --no-world --proxy --proxy-host "$E2E_API_IP" --proxy-port 80 \
        --dns --dns-host "$E2E_RESOLVER_IP" --dns-port 53 \
        --dir "$E2E_WORK" --json-out "$E2E_WORK/aws.json" >"$E2E_WORK/world.log" 2>&1 &
    "$SYSPY" "$WORLD_PY" wait "$E2E_WORK/aws.json" --timeout 90 --pid $! \
        --what "the emulated AWS (see $E2E_WORK/world.log)" >/dev/null
}

proxy() { # METHOD PATH?QUERY: the fault proxy's control API
    curl_py "$1" "$E2E_API/_proxy/$2"
}

# curl is not a dependency.
curl_py() { "$SYSPY" "$WORLD_PY" http "$1" "$2"; }

# new_world NAME [aws.py world options]: a fresh VPC + EIP + hosted zone;
# sets WORLD (the JSON file).
new_world() {
    local name=$1
    shift
    WORLD=$E2E_WORK/world-$name.json
    "$PY" "$E2E_DIR/aws.py" world --endpoint "$E2E_MOTO" "$@" >"$WORLD" || {
        fail "could not seed the world"
        return 1
    }
}

wj() { "$SYSPY" "$WORLD_PY" get "$WORLD" "$1"; } # world json field, dotted path

aws_state() { "$PY" "$E2E_DIR/aws.py" state --world "$WORLD" --endpoint "$E2E_MOTO"; }
aws_wait_owner() { # NODE TIMEOUT: prints the epoch when first seen
    "$PY" "$E2E_DIR/aws.py" wait --world "$WORLD" --endpoint "$E2E_MOTO" --owner "$1" --timeout "$2"
}

# The agents, as the installed binary lists them (never a hand-kept list).
agents() { /usr/sbin/ocf-aws --list; }

# ------------------------------------------------------------------- nodes

node_dir() { echo "$E2E_WORK/nodes/$1"; }

# node_create NAME IDENTITY: a fresh node called NAME (hostname, cluster node
# name) impersonating IDENTITY (node1|node2) of the current world: network
# namespace with eth0 carrying that ENI's MAC and private IP, its own IMDS on
# 169.254.169.254:80, private /etc/corosync, /var/lib/pacemaker, ..., /run,
# /tmp, /dev/shm (node-init.sh).
node_create() {
    local name=$1 ident=$2 dir d
    dir=$(node_dir "$name")
    rm -rf "$dir"
    for d in etc/corosync/uidgid.d etc/default var/lib/corosync var/log/corosync \
        var/lib/pacemaker/cib var/lib/pacemaker/pengine var/lib/pacemaker/blackbox \
        var/lib/pacemaker/cores var/log/pacemaker/bundles var/log/crmsh var/log/pcsd root tmp; do
        mkdir -p "$dir/$d"
    done
    chown -R "$E2E_HA_OWNER" "$dir/var/lib/pacemaker" "$dir/var/log/pacemaker"
    chmod 0750 "$dir"/var/lib/pacemaker/*
    chmod 0770 "$dir/var/log/pacemaker"
    chmod 1777 "$dir/tmp"
    chmod 0700 "$dir/root"
    # What a node's /etc/default/pacemaker holds in production on a cluster
    # that reaches AWS through a VPC endpoint: the daemons (and so every
    # agent) inherit it. No credentials: the instance role via IMDS.
    cat >"$dir/etc/default/pacemaker" <<EOF
# Written by tests/e2e (private to this simulated node)
AWS_ENDPOINT_URL=$E2E_API
PCMK_logfile=/var/log/pacemaker/pacemaker.log
EOF
    printf '127.0.0.1 localhost\n%s %s\n' "$(wj "nodes.$ident.private_ip")" "$name" >"$dir/etc/hosts"
    printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$E2E_RESOLVER_IP" >"$dir/etc/resolv.conf"

    unshare --net --mount --uts --ipc --propagation private -- \
        bash "$E2E_DIR/node-init.sh" "$name" "$dir" >"$dir/init.log" 2>&1 &
    NODE_PID[$name]=$!
    disown "$!" # no "Killed" job notice when the node is destroyed
    wait_file "$dir/ready" 10 "node $name namespaces" || {
        cat "$dir/init.log" >&2
        return 1
    }
    NODE_IDENT[$name]=$ident
    local pid=${NODE_PID[$name]}
    # A dead node's network namespace may outlive its processes for a while
    # (the kernel frees it asynchronously), and its veth with it.
    ip link del "v-$name" 2>/dev/null || true
    ip link add "v-$name" type veth peer name eth0 netns "$pid"
    ip link set "v-$name" master br0 up
    node_net "$name"
    # The node's instance metadata, at the address the agents use by default.
    # Run from the work directory: the node's /tmp is private, and the
    # checkout (CI's fresh clone) may well live under /tmp.
    mkdir -p "$E2E_WORK/world"
    cp "$E2E_ROOT/tests/world/world.py" "$E2E_ROOT/tests/world/imds.py" "$E2E_WORK/world/"
    nx_raw "$name" "$SYSPY" "$E2E_WORK/world/world.py" up --world "$WORLD" --nodes "$ident" \
        --endpoint "$E2E_MOTO" --imds-host 169.254.169.254 --imds-port 80 \
        --imds-arg=--role --imds-arg=ha-cluster-node \
        --dir "$dir/imds" --json-out "$dir/imds.json" >"$dir/imds.log" 2>&1 &
    disown "$!"
    "$SYSPY" "$WORLD_PY" wait "$dir/imds.json" --timeout 10 --pid $! \
        --what "imds.py on $name (see $dir/imds.log, $dir/imds/)" >/dev/null || return 1
}

# node_net NODE: the node's network as its instance boots with it: eth0
# with the ENI's MAC and primary private IP, the VPC route, the metadata
# address on lo; anything else (a VIP an agent added, a route a test added
# to cut a link) is gone, as after a reboot.
node_net() {
    local n=$1 ident=${NODE_IDENT[$1]} mac ip
    mac=$(wj "nodes.$ident.mac")
    ip=$(wj "nodes.$ident.private_ip")
    nsenter -t "${NODE_PID[$n]}" -n -- sh -ec "
        ip link set eth0 down
        ip addr flush dev eth0
        ip route flush table main
        ip link set eth0 address $mac
        ip addr add $ip/24 dev eth0
        ip link set eth0 up
        ip route add 10.0.0.0/16 dev eth0
        ip addr replace 169.254.169.254/32 dev lo"
}

# nx_raw NODE CMD...: CMD inside NODE's namespaces, environment untouched.
nx_raw() {
    local n=$1
    shift
    nsenter -t "${NODE_PID[$n]}" -n -m -u -i -- "$@"
}

# nx NODE CMD...: CMD as an administrator's root shell on NODE would run it:
# a clean environment, plus what /etc/default/pacemaker sets (so that
# crm_resource --validate/--force-check, which run agents with the caller's
# environment, reach the emulated AWS like the cluster does).
nx() {
    local n=$1
    shift
    # Bounded: a wedged cluster must not hang the harness (pcs resource move
    # waits for the cluster to settle, for instance).
    nsenter -t "${NODE_PID[$n]}" -n -m -u -i -- env -i PATH="$E2E_PATH" HOME=/root \
        LC_ALL=C.UTF-8 TERM=dumb AWS_ENDPOINT_URL="$E2E_API" \
        timeout -k 5 "${E2E_CMD_TIMEOUT:-120}" "$@"
}

# Every process in NODE's network namespace, the holder included.
node_pids() {
    local want p
    want=$(readlink "/proc/${NODE_PID[$1]}/ns/net") || return 0
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/ns/net" 2>/dev/null) == "$want" ]] && echo "${p#/proc/}"
    done
}

# Make the node vanish: SIGKILL everything in it (the network namespace, its
# veth pair and the mount namespace go with the last process).
node_destroy() {
    local n=$1 pids i
    [[ -n ${NODE_PID[$n]:-} ]] || return 0
    for ((i = 0; i < 50; i++)); do
        mapfile -t pids < <(node_pids "$n")
        ((${#pids[@]})) || break
        kill -9 "${pids[@]}" 2>/dev/null || true
        sleep 0.1
    done
    ip link del "v-$n" 2>/dev/null || true
    unset "NODE_PID[$n]"
}

# ----------------------------------------------------------------- cluster

# cluster_up NODE...: corosync (knet, two_node for two) and pacemakerd on
# each node, started by hand with a clean environment, as their systemd
# units would (EnvironmentFile=/etc/default/{corosync,pacemaker}).
cluster_up() {
    local nodes=("$@") n i=0 conf cib
    conf=$E2E_WORK/corosync.conf
    {
        cat <<EOF
totem {
    version: 2
    cluster_name: ocfaws-e2e
    transport: knet
    token: ${E2E_TOKEN:-1000}
    crypto_cipher: none
    crypto_hash: none
}
logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: no
    to_stderr: no
    timestamp: hires
}
quorum {
    provider: corosync_votequorum
EOF
        ((${#nodes[@]} == 2)) && echo "    two_node: 1"
        echo "}"
        echo "nodelist {"
        for n in "${nodes[@]}"; do
            i=$((i + 1))
            printf '    node {\n        name: %s\n        nodeid: %d\n        ring0_addr: %s\n    }\n' \
                "$n" "$i" "$(node_ip "$n")"
        done
        echo "}"
    } >"$conf"
    # A scenario may rewrite it from an example (scenarios-quorum.sh: the
    # quorum device, three nodes): CLUSTER_CONF_HOOK FILE NODE...
    [[ -z ${CLUSTER_CONF_HOOK:-} ]] || "$CLUSTER_CONF_HOOK" "$conf" "${nodes[@]}" || return 1
    # The CIB every node starts from (what `pcs cluster setup` + the first
    # `pcs property set`s would leave): dc-deadtime 2s cuts the start-up
    # election wait from ~20 s; stonith-enabled=false until an example
    # file turns fencing on (every crm-examples cluster file does, with
    # fence_ec2); no-quorum-policy left at its default (stop): with
    # two_node's wait_for_all a node that boots without seeing its peer
    # must not start anything (or fence the peer); resource-stickiness=1 as
    # pcs 0.11's cluster setup sets it (without it `pcs resource move`
    # refuses: the group could move back).
    cib=$E2E_WORK/cib-seed.xml
    cat >"$cib" <<'EOF'
<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
    <rsc_defaults>
      <meta_attributes id="build-resource-defaults">
        <nvpair id="build-resource-stickiness" name="resource-stickiness" value="1"/>
      </meta_attributes>
    </rsc_defaults>
  </configuration>
  <status/>
</cib>
EOF
    for n in "${nodes[@]}"; do
        local dir
        dir=$(node_dir "$n")
        install -m 0644 "$conf" "$dir/etc/corosync/corosync.conf"
        install -o "${E2E_HA_OWNER%%:*}" -g "${E2E_HA_OWNER#*:}" -m 0600 "$cib" "$dir/var/lib/pacemaker/cib/cib.xml"
        corosync_start "$n"
    done
    for n in "${nodes[@]}"; do
        wait_for 20 "corosync on $n" nx "$n" corosync-cfgtool -s || return 1
    done
    # The first node starts Pacemaker alone and becomes the DC before the
    # others join, so that the DC is always node1: a crash of node1 then
    # also costs a DC election, the worst case, every time.
    pcmk_start "${nodes[0]}"
    if ((${#nodes[@]} > 1)); then
        wait_for 30 "${nodes[0]} to become the DC" is_dc "${nodes[0]}" || return 1
    fi
    for n in "${nodes[@]:1}"; do
        pcmk_start "$n"
    done
    for n in "${nodes[@]}"; do
        wait_for 60 "pacemaker on $n: all ${#nodes[@]} nodes online with a DC" \
            cluster_ready "$n" "${#nodes[@]}" || { nx "$n" crm_mon -1 2>&1 | indent; return 1; }
    done
    [[ -z ${E2E_DISTRO_ROOT:-} ]] || e2e_root_check "${nodes[@]}" || return 1
}

# corosync as its unit starts it (foreground, clean environment).
corosync_start() {
    local n=$1
    nx_raw "$n" env -i PATH="$E2E_PATH" sh -c 'cd / && exec corosync -f' \
        </dev/null >>"$(node_dir "$n")/corosync.out" 2>&1 &
    disown "$!"
}

# pacemakerd with exactly the environment its unit gives it.
pcmk_start() {
    local n=$1 dir
    dir=$(node_dir "$n")
    nx_raw "$n" env -i PATH="$E2E_PATH" bash -c \
        'set -a; . /etc/default/pacemaker; set +a; cd /; exec pacemakerd' \
        </dev/null >"$dir/pacemakerd.out" 2>&1 &
    disown "$!"
}

is_dc() { [[ $(pcmk "$1" dc) == "$1" ]]; }

node_ip() { # NODE: its eth0 address
    nsenter -t "${NODE_PID[$1]}" -n -- ip -4 -o addr show dev eth0 | awk '{ sub(/\/.*/, "", $4); print $4; exit }'
}

cluster_ready() { # NODE COUNT
    local xml
    xml=$(nx "$1" crm_mon -1 --output-as=xml 2>/dev/null) || return 1
    "$SYSPY" "$E2E_DIR/pcmk.py" ready "$2" <<<"$xml"
}

# pcmk NODE SUBCOMMAND ARGS: ask pcmk.py about NODE's view of crm_mon.
pcmk() {
    local n=$1 xml
    shift
    xml=$(nx "$n" crm_mon -1 --output-as=xml 2>/dev/null) || return 1
    "$SYSPY" "$E2E_DIR/pcmk.py" "$@" <<<"$xml"
}

# Where a resource is started, per NODE's view ("" when stopped).
where() { pcmk "$1" where "$2"; }
is_on() { [[ $(where "$1" "$2") == "$3" ]]; }

cluster_down() {
    local n
    for n in "${!NODE_PID[@]}"; do
        node_destroy "$n"
    done
}

# Every process in a network namespace other than the harness's: what is
# left of the nodes of a scenario that ran in a subshell. SIGKILL them.
kill_all_nodes() {
    local mine p pids i
    mine=$(readlink /proc/self/ns/net)
    for ((i = 0; i < 50; i++)); do
        pids=()
        for p in /proc/[0-9]*; do
            local ns
            ns=$(readlink "$p/ns/net" 2>/dev/null) || continue
            [[ $ns == "$mine" ]] || pids+=("${p#/proc/}")
        done
        ((${#pids[@]})) || break
        kill -9 "${pids[@]}" 2>/dev/null || true
        sleep 0.1
    done
    for p in "${pids[@]}"; do
        say "kill_all_nodes: pid $p ($(cat "/proc/$p/comm" 2>/dev/null), state $(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)) survived SIGKILL"
    done
    # A node's veth goes with its network namespace, once nothing holds
    # that any more; one still here would make the next node of that name
    # fail ("File exists"): remove it, and say so.
    # (The kernel frees a namespace asynchronously: give it 2 s.)
    local l links=()
    for ((i = 0; i < 20; i++)); do
        mapfile -t links < <(ip -o link show type veth 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); if ($2 ~ /^v-/) print $2 }')
        ((${#links[@]})) || return 0
        sleep 0.1
    done
    for l in "${links[@]}"; do
        say "kill_all_nodes: removing the leftover $l (its node's namespace outlived its processes)"
        ip link del "$l" 2>/dev/null || true
    done
}

# ------------------------------------------------------------ node fates
#
# The fate watcher turns the emulated instances' states into the nodes'
# fates, so that fence_ec2's StopInstances really kills the node and a
# reboot really brings it back. aws.py power polls moto every 100 ms and
# prints each change; for each line:
#   stopping/stopped/shutting-down/terminated -> node_power_off: its links
#       down (both ends of the veth), then SIGKILL every process of the node
#       (corosync, pacemakerd and its children, running agents, anything a
#       test started there) except the namespace holder and the node's
#       IMDS (the instance metadata service is not the instance's OS);
#   running (after an off) -> node_power_on: a boot: fresh /run and
#       /dev/shm, the network as the instance boots with it (node_net),
#       links up, then corosync and pacemakerd as their units start them.
#       /var/lib/pacemaker and /var/log are the node's disk and persist.
# EC2 takes tens of seconds to start an instance; moto starts it at once,
# so a reboot (StopInstances, StartInstances) would be over before a
# watcher saw it. The fault proxy delays every StartInstances answer (and
# so the start itself) by E2E_BOOT_MS (2000 ms): the test world's boot time.
# One watcher per scenario (fate_start), bounded by E2E_TIMEOUT, stopped by
# fate_stop or with the scenario (BG_PIDS); events go to $FATE_LOG as
# "epoch node event" lines (the timeline reads them) and to the output.

fate_start() {
    local fifo
    FATE_LOG=$E2E_WORK/fate-s$SCENARIO.log
    fifo=$E2E_WORK/fate-s$SCENARIO.$BASHPID.fifo
    rm -f "$fifo"
    mkfifo "$fifo"
    proxy POST reset >/dev/null || return 1
    proxy POST "rule?action=StartInstances&fault=latency&ms=${E2E_BOOT_MS:-2000}" >/dev/null || return 1
    # E2E_STALE=MS: EC2 and Route 53 reads answer as before each write for
    # MS ms (the fault proxy's stale reads: AWS's eventual consistency).
    if [[ -n ${E2E_STALE:-} ]]; then
        proxy POST "rule?action=*&fault=stale&ms=$E2E_STALE" >/dev/null || return 1
    fi
    "$PY" "$E2E_DIR/aws.py" power --world "$WORLD" --endpoint "$E2E_MOTO" \
        --max-seconds "${E2E_TIMEOUT:-900}" >"$fifo" &
    FATE_POWER_PID=$!
    BG_PIDS+=("$FATE_POWER_PID")
    fate_loop <"$fifo" &
    FATE_PID=$!
    BG_PIDS+=("$FATE_PID")
    # Not removed here: the children open the fifo only once they run, and
    # a writer that finds it gone creates a plain file instead (seen under
    # load: no watcher, so no fencing ever "happened"). fate_stop removes
    # it, the work directory's cleanup otherwise.
    FATE_FIFO=$fifo
}

fate_stop() {
    [[ -n ${FATE_PID:-} ]] || return 0
    kill "$FATE_POWER_PID" 2>/dev/null || true
    wait "$FATE_PID" 2>/dev/null || true
    wait "$FATE_POWER_PID" 2>/dev/null || true
    FATE_PID=""
    rm -f "${FATE_FIFO:-}"
    if [[ -n ${E2E_STALE:-} ]]; then
        # Proof that the reads were stale: the proxy's count of them.
        say "stale reads answered by the fault proxy: $(proxy GET stats | "$SYSPY" -c 'import json, sys
print(json.load(sys.stdin).get("by_fault", {}).get("stale", 0))')"
    fi
    proxy POST reset >/dev/null || true
}

fate_loop() {
    local ts ident state n
    declare -A power=()
    while read -r ts ident state; do
        n=""
        for k in "${!NODE_IDENT[@]}"; do
            [[ ${NODE_IDENT[$k]} == "$ident" ]] && n=$k
        done
        [[ -n $n && -n ${NODE_PID[$n]:-} ]] || continue
        echo "$ts $n $state" >>"$FATE_LOG"
        case $state in
            stopping | stopped | shutting-down | terminated)
                [[ ${power[$n]:-on} == off ]] && continue
                power[$n]=off
                node_power_off "$n"
                echo "$(now) $n killed" >>"$FATE_LOG"
                say "fate: $n's instance is $state in EC2 -> $n powered off (links down, every process killed)"
                ;;
            running)
                [[ ${power[$n]:-on} == on ]] && continue
                power[$n]=on
                say "fate: $n's instance is running again -> $n boots (links up, corosync + pacemakerd)"
                node_power_on "$n"
                echo "$(now) $n booted" >>"$FATE_LOG"
                ;;
        esac
    done
}

node_power_off() {
    local n=$1 p pids i
    ip link set "v-$n" down 2>/dev/null || true
    nsenter -t "${NODE_PID[$n]}" -n -- ip link set eth0 down 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        pids=()
        for p in $(node_pids "$n"); do
            [[ $p == "${NODE_PID[$n]}" ]] && continue
            # The node's imds.py (and the world.py that runs it).
            [[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) == *"$E2E_WORK/world/"* ]] && continue
            pids+=("$p")
        done
        ((${#pids[@]})) || return 0
        kill -9 "${pids[@]}" 2>/dev/null || true
        sleep 0.1
    done
}

node_power_on() {
    local n=$1
    nsenter -t "${NODE_PID[$n]}" -m -- sh -ec '
        umount -l /run
        mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
        umount -l /dev/shm
        mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
        mkdir -p /run/resource-agents /run/crm /run/lock
        chown hacluster:haclient /run/crm
        chmod 0750 /run/crm'
    node_net "$n"
    ip link set "v-$n" up
    corosync_start "$n"
    wait_for 20 "corosync on $n after its boot" nx "$n" corosync-cfgtool -s || return 0
    pcmk_start "$n"
    # What else the node's units start at boot (corosync-qdevice, ...).
    local h
    for h in "${BOOT_HOOKS[@]}"; do "$h" "$n"; done
}

# cut_link A B / heal_link A B: the path between two hosts (nodes, the
# qnetd host) fails (a blackhole route for the other's address on each
# side); both still reach AWS and their metadata. A boot of either heals
# its side. `replace`, so that cutting a path already cut is no error.
cut_link() {
    nsenter -t "${NODE_PID[$1]}" -n -- ip route replace blackhole "$(node_ip "$2")/32"
    nsenter -t "${NODE_PID[$2]}" -n -- ip route replace blackhole "$(node_ip "$1")/32"
}
heal_link() {
    nsenter -t "${NODE_PID[$1]}" -n -- ip route del blackhole "$(node_ip "$2")/32" 2>/dev/null || true
    nsenter -t "${NODE_PID[$2]}" -n -- ip route del blackhole "$(node_ip "$1")/32" 2>/dev/null || true
}

# ---------------------------------------------------------------- examples

# example FILE: a crm-examples file with its placeholders filled from the
# current world (only addresses and ids; nothing else is changed). @SECIP@
# is the world's secondary_ip, a free address of node1's subnet.
example() {
    sed -e "s|@VIP@|$(wj vip)|g" \
        -e "s|@RTB1@|$(wj route_tables | cut -d, -f1)|g" \
        -e "s|@RTB2@|$(wj route_tables | cut -d, -f2)|g" \
        -e "s|@ALLOC@|$(wj eip.allocation_id)|g" \
        -e "s|@ZONE@|$(wj zone.id)|g" \
        -e "s|@NAME@|$(wj zone.record)|g" \
        -e "s|@SECIP@|$(wj secondary_ip)|g" \
        -e "s|@TAG@|Name|g" "${EXAMPLE_SED[@]}" \
        "$E2E_ROOT/crm-examples/$1"
}

# load_crm NODE FILE: crmsh, as the file's header says (comments dropped).
# crmsh runs crm_verify and repeats its warnings; "Blind faith: not fencing
# unseen nodes" is about the test cluster's stonith-enabled=false, not about
# the example, and is left out of the output.
load_crm() {
    local out
    if ! out=$(example "$2" | sed -e '/^#/d' | nx "$1" crm configure load update - 2>&1); then
        say "crm configure load update $2 failed:"
        printf '%s\n' "$out" | nocolour | indent
        return 1
    fi
    out=$(grep -v 'Blind faith: not fencing unseen nodes' <<<"$out" | nocolour) || true
    [[ -z $out ]] || printf '%s\n' "$out" | indent
}

# load_pcs NODE FILE: the file's pcs commands, run as a shell script.
load_pcs() {
    local out
    if ! out=$(example "$2" | nx "$1" bash -euo pipefail -s 2>&1); then
        say "pcs commands of $2 failed:"
        printf '%s\n' "$out" | indent
        return 1
    fi
    [[ -z $out ]] || printf '%s\n' "$out" | nocolour | indent
}
