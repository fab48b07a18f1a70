# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034 # SCENARIO_TITLE (declared -A in scenarios.sh), CLUSTER_CONF_HOOK and BOOT_HOOKS are read by run.sh and lib.sh
# Split brain on AWS (issue 13): partitions of two nodes with a quorum device
# (corosync-qdevice on the nodes, corosync-qnetd on a host of its own, a
# third AZ, with the ocf-aws api-reachable heuristic) and of three nodes in
# three AZs, plus a soak of crash and move rounds. Sourced by run.sh after
# scenarios.sh, whose helpers it uses. Every scenario runs with fencing
# (fence_ec2 from the examples) and ends with the same checks (settled):
# every managed route, the EIP and the record point at exactly one node, the
# one Pacemaker runs the group on, and neither changes while sampled every
# 0.2 s for 30 s; no failed or blocked resource; the loser was fenced by
# fence_ec2 (its instance stopped in EC2).
#
# Network: the qnetd host is 10.0.9.10 on br0 (a namespace like a node's,
# without instance metadata). cut_link A B (lib.sh) / cut_aws NODE make blackhole
# routes inside the namespaces only; a node's boot (node_net) drops its own.

SCENARIO_TITLE[q1]="quorum device: node1 (holding the group) loses every link (peer, qnetd, AWS) -> node2 keeps quorum, fences node1, runs the group (qdevice.corosync.conf, group.crm)"
SCENARIO_TITLE[q2]="quorum device: link node1<->node2 cut, node2 (holding the group) cannot reach EC2 -> api-reachable makes qnetd choose node1, which fences node2 and takes the group (qdevice.pcs, group.pcs)"
SCENARIO_TITLE[q3]="three nodes in three AZs: the group's node isolated -> the two others keep quorum, fence it, one runs the group (three-az.corosync.conf, group.crm)"
SCENARIO_TITLE[q4]="soak (E2E_SOAK rounds, default 2): two nodes + qnetd, crash with fencing and graceful move in turn; one owner and the fenced node rejoins after each"
SCENARIO_TITLE[q6]="quorum device, against the tie-breaker: link cut, node1 (holding the group, lowest node id) cannot reach EC2 -> api-reachable makes qnetd choose node2, which fences node1 and takes the group (qdevice.corosync.conf)"
SCENARIO_TITLE[q5]="two nodes without a third host (priority-fencing.crm): link cut, both reach AWS -> the node that holds the group fences its peer"

QNETD_IP=10.0.9.10
CLUSTER_NAME=ocfaws-e2e

# ------------------------------------------------------------ qnetd host

# qnetd_create: the qnetd host, a namespace like a node's (node-init.sh) at
# $QNETD_IP; corosync-qnetd-certutil -i makes its CA and server certificate,
# corosync-qnetd runs as its unit runs it (User=coroqnetd, foreground).
qnetd_create() {
    local dir d
    dir=$(node_dir qnetd)
    rm -rf "$dir"
    for d in etc/corosync/qnetd etc/default var/lib/corosync var/lib/pacemaker var/log root tmp; do
        mkdir -p "$dir/$d"
    done
    chmod 1777 "$dir/tmp"
    : >"$dir/etc/default/pacemaker"
    printf '127.0.0.1 localhost\n%s qnetd\n' "$QNETD_IP" >"$dir/etc/hosts"
    : >"$dir/etc/resolv.conf"
    chown coroqnetd:coroqnetd "$dir/etc/corosync/qnetd"
    unshare --net --mount --uts --ipc --propagation private -- \
        bash "$E2E_DIR/node-init.sh" qnetd "$dir" >"$dir/init.log" 2>&1 &
    NODE_PID[qnetd]=$!
    disown "$!"
    wait_file "$dir/ready" 10 "qnetd host namespaces" || return 1
    ip link del v-qnetd 2>/dev/null || true # as in node_create
    ip link add v-qnetd type veth peer name eth0 netns "${NODE_PID[qnetd]}"
    ip link set v-qnetd master br0 up
    nsenter -t "${NODE_PID[qnetd]}" -n -- sh -ec "
        ip addr add $QNETD_IP/24 dev eth0
        ip link set eth0 up
        ip route add 10.0.0.0/16 dev eth0"
    nx qnetd runuser -u coroqnetd -- corosync-qnetd-certutil -i >"$dir/certutil.log" 2>&1 ||
        { indent <"$dir/certutil.log"; fail "corosync-qnetd-certutil -i"; return 1; }
    nx_raw qnetd sh -c 'mkdir -p /run/corosync-qnetd && chown coroqnetd:coroqnetd /run/corosync-qnetd'
    nx_raw qnetd env -i PATH="$E2E_PATH" runuser -u coroqnetd -- corosync-qnetd -f \
        </dev/null >"$dir/qnetd.out" 2>&1 &
    disown "$!"
    wait_for 10 "corosync-qnetd listening" nx qnetd corosync-qnetd-tool -s || return 1
}

# qdevice_certs NODE...: the nodes' certificates, the manual procedure of
# corosync-qdevice-net-certutil(8) (what pcs quorum device add does over
# pcsd): the CA on each node, a request on the first, signed by qnetd,
# imported there and exported to the others as PKCS#12.
qdevice_certs() {
    local first=$1 n q nssdb=etc/corosync/qdevice/net/nssdb
    q=$(node_dir qnetd)
    for n in "$@"; do
        cp "$q/etc/corosync/qnetd/nssdb/qnetd-cacert.crt" "$(node_dir "$n")/tmp/"
        nx "$n" corosync-qdevice-net-certutil -i -c /tmp/qnetd-cacert.crt >/dev/null 2>&1 ||
            { fail "corosync-qdevice-net-certutil -i on $n"; return 1; }
    done
    nx "$first" corosync-qdevice-net-certutil -r -n "$CLUSTER_NAME" >/dev/null 2>&1 ||
        { fail "corosync-qdevice-net-certutil -r on $first"; return 1; }
    cp "$(node_dir "$first")/$nssdb/qdevice-net-node.crq" "$q/tmp/"
    (cd "$q/tmp" && chmod 0644 qdevice-net-node.crq)
    nx qnetd sh -c "cd /tmp && runuser -u coroqnetd -- corosync-qnetd-certutil -s -c /tmp/qdevice-net-node.crq -n $CLUSTER_NAME" >/dev/null 2>&1 ||
        { fail "corosync-qnetd-certutil -s"; return 1; }
    cp "$q/etc/corosync/qnetd/nssdb/cluster-$CLUSTER_NAME.crt" "$(node_dir "$first")/tmp/"
    nx "$first" corosync-qdevice-net-certutil -M -c "/tmp/cluster-$CLUSTER_NAME.crt" >/dev/null 2>&1 ||
        { fail "corosync-qdevice-net-certutil -M on $first"; return 1; }
    for n in "${@:2}"; do
        cp "$(node_dir "$first")/$nssdb/qdevice-net-node.p12" "$(node_dir "$n")/tmp/"
        nx "$n" corosync-qdevice-net-certutil -m -c /tmp/qdevice-net-node.p12 >/dev/null 2>&1 ||
            { fail "corosync-qdevice-net-certutil -m on $n"; return 1; }
    done
}

# qdevice_start NODE: corosync-qdevice as its unit starts it (foreground).
# The environment is what /etc/default/corosync-qdevice holds on a cluster
# whose API endpoint is a VPC endpoint: the heuristic's AWS_ENDPOINT_URL
# (corosync-qdevice's children inherit it; Pacemaker's file is not read).
qdevice_start() {
    local n=$1
    nx_raw "$n" env -i PATH="$E2E_PATH" AWS_ENDPOINT_URL="$E2E_API" \
        sh -c 'cd / && exec corosync-qdevice -f' </dev/null >>"$(node_dir "$n")/qdevice.out" 2>&1 &
    disown "$!"
}

# The quorum device's vote is counted on NODE (corosync-quorumtool: the
# local node's qdevice flags Alive, Voting).
qdevice_votes() { nx "$1" corosync-quorumtool -s 2>/dev/null | grep -qE '^ +[0-9]+ +[0-9]+ +A,V,.*\(local\)'; }

# ------------------------------------------------- corosync.conf examples

# The harness's corosync.conf (cluster_up) with its quorum section (and
# nodelist when the example has one) replaced by an example's.
conf_with_example() { # CONF EXAMPLE
    local conf=$1 ex
    ex=$(example "$2" | sed -e '/^#/d')
    {
        awk '/^quorum \{/ { exit } { print }' "$conf"
        printf '%s\n' "$ex"
        grep -q '^nodelist {' <<<"$ex" || awk '/^nodelist \{/ { p = 1 } p { print }' "$conf"
    } >"$conf.new"
    mv "$conf.new" "$conf"
}
conf_qdevice_crm() { conf_with_example "$1" qdevice.corosync.conf; }
conf_three_az() { conf_with_example "$1" three-az.corosync.conf; }
# qdevice.pcs's commands as they are, with pcs editing the file instead of
# the live cluster's (--corosync_conf: no pcsd, no certificates; those are
# qdevice_certs' job here). pcs drops two_node itself.
conf_qdevice_pcs() {
    local conf=$1 out
    out=$( (printf 'pcs() { command pcs --corosync_conf=%q "$@"; }\n' "$conf"; example qdevice.pcs) |
        bash -euo pipefail -s 2>&1) || { printf '%s\n' "$out" | indent; fail "qdevice.pcs"; return 1; }
    ! grep -q two_node "$conf" || { fail "pcs quorum device add left two_node in corosync.conf"; return 1; }
}

# ---------------------------------------------------------------- cluster

# quorum_cluster TOOL HOLDER NODE...: the nodes (the world's nodes of the
# same names; --node3 for three) running group.TOOL with the group on
# HOLDER; with QDEVICE=crm|pcs a qnetd host and corosync-qdevice on each
# node, corosync.conf from qdevice.corosync.conf or qdevice.pcs; with three
# nodes from three-az.corosync.conf.
quorum_cluster() {
    local tool=$1 holder=$2 t n
    shift 2
    local nodes=("$@") world_args=()
    t=$(now)
    ((${#nodes[@]} == 3)) && world_args=(--node3)
    # The routes start at another node's ENI: the holder's start visibly
    # switches them.
    local seeded=node2
    [[ $holder != node2 ]] || seeded=node1
    new_world "s$SCENARIO" --owner "$seeded" --tables 2 --extra-tables-without-route 1 "${world_args[@]}" || return 1
    EXAMPLE_SED=(-e "s|@QNETD@|$QNETD_IP|g" -e "s|@REGION@|$(wj region)|g")
    for n in "${nodes[@]}"; do
        node_create "$n" "$n" || return 1
        EXAMPLE_SED+=(-e "s|@${n^^}_IP@|$(wj "nodes.$n.private_ip")|g")
    done
    CLUSTER_CONF_HOOK=""
    BOOT_HOOKS=()
    if [[ -n ${QDEVICE:-} ]]; then
        qnetd_create || return 1
        qdevice_certs "${nodes[@]}" || return 1
        CLUSTER_CONF_HOOK=conf_qdevice_$QDEVICE
        BOOT_HOOKS=(qdevice_start) # set before fate_start: its loop boots nodes
    elif ((${#nodes[@]} == 3)); then
        CLUSTER_CONF_HOOK=conf_three_az
    fi
    fate_start || return 1
    cluster_up "${nodes[@]}" || return 1
    if [[ -n ${QDEVICE:-} ]]; then
        for n in "${nodes[@]}"; do qdevice_start "$n"; done
        for n in "${nodes[@]}"; do
            wait_for 30 "the quorum device's vote on $n" qdevice_votes "$n" || return 1
        done
    fi
    say "cluster ${nodes[*]} up ($(elapsed "$t")s): $(quorum_kind)"
    for n in "${nodes[@]}"; do
        [[ $n == "$holder" ]] || nx "${nodes[0]}" crm_standby --node "$n" --update on || return 1
    done
    if [[ $tool == crm ]]; then
        load_crm "${nodes[0]}" group.crm || return 1
    else
        load_pcs "${nodes[0]}" group.pcs || return 1
    fi
    wait_for 60 "grp_app started on $holder" group_on "${nodes[0]}" "$holder" || return 1
    for n in "${nodes[@]}"; do
        [[ $n == "$holder" ]] || nx "${nodes[0]}" crm_standby --node "$n" --update off || return 1
    done
    wait_for 30 "the fence device fence_nodes started" fence_started "${nodes[0]}" || return 1
    wait_for 30 "rsc_az on every node" az_on_all "${nodes[0]}" "${#nodes[@]}" || return 1
    aws_check "$holder" || return 1
    say "configured with crm-examples/group.$tool: grp_app on $holder ($(elapsed "$t")s)"
}

quorum_kind() {
    case ${QDEVICE:-} in
        crm) echo "quorum device (crm-examples/qdevice.corosync.conf), qnetd at $QNETD_IP" ;;
        pcs) echo "quorum device (crm-examples/qdevice.pcs through pcs --corosync_conf), qnetd at $QNETD_IP" ;;
        *) echo "three nodes, one per AZ (crm-examples/three-az.corosync.conf)" ;;
    esac
}

az_on_all() { # VIEW_NODE COUNT
    [[ $(where "$1" rsc_az | tr ',' '\n' | grep -c .) == "$2" ]]
}

# ------------------------------------------------------------- link cuts

# cut_aws NODE: NODE can no longer reach the API endpoint (EC2, Route 53)
# and the VPC resolver; its instance metadata (on lo) still answers.
cut_aws() {
    nsenter -t "${NODE_PID[$1]}" -n -- ip route replace blackhole "$E2E_API_IP/32"
    nsenter -t "${NODE_PID[$1]}" -n -- ip route replace blackhole "$E2E_RESOLVER_IP/32"
}
# isolate NODE: every link of NODE (each other host, AWS) cut.
isolate() {
    local n=$1 o
    for o in "${!NODE_PID[@]}"; do
        [[ $o == "$n" ]] || cut_link "$n" "$o"
    done
    cut_aws "$n"
}
heal_all() { # NODE: the links isolate cut, on the other hosts' sides
    local n=$1 o
    for o in "${!NODE_PID[@]}"; do
        [[ $o == "$n" ]] || heal_link "$n" "$o"
    done
}

# --------------------------------------------------------------- checks

# settled OWNER LOSER VIEW: the end of every partition scenario. LOSER was
# fenced by fence_ec2 (its instance stopped in EC2, the fencing history of
# VIEW says so) and has rejoined; AWS and Pacemaker name OWNER alone, and
# still do in every sample, every 0.2 s for 30 s; nothing failed or blocked.
settled() {
    local owner=$1 loser=$2 view=$3 count=$4 hist
    grep -q " $loser stopped\$" "$FATE_LOG" || { fail "$loser's instance was never stopped (fencing)"; return 1; }
    # A reboot is done once the instance runs again (E2E_BOOT_MS).
    wait_for 30 "a successful fencing of $loser in $view's fencing history" fenced_ok "$view" "$loser" ||
        { nx "$view" stonith_admin --history "$loser" 2>&1 | indent; return 1; }
    hist=$(nx "$view" stonith_admin --history "$loser" 2>&1) || true
    say "fencing history: $(grep -E "of $loser successful" <<<"$hist" | head -n1 | sed 's/^ *//')"
    wait_for 60 "$loser booted" grep -q " $loser booted\$" "$FATE_LOG" || return 1
    wait_for 90 "$loser rejoined ($count nodes online, seen from $view)" cluster_ready "$view" "$count" || return 1
    [[ -z ${QDEVICE:-} ]] || wait_for 30 "the quorum device's vote on $loser" qdevice_votes "$loser" || return 1
    wait_for 30 "grp_app started on $owner" group_on "$view" "$owner" || return 1
    wait_for 60 "rsc_az on every node" az_on_all "$view" "$count" || return 1
    aws_check "$owner" || return 1
    holds_vip "$owner" || { fail "$owner does not hold the VIP"; return 1; }
    hold_owner "$owner" "$view" 30 || return 1
    no_failures "$view" || return 1
    local mon
    mon=$(nx "$view" crm_mon -1 -r 2>&1)
    ! grep -qiE 'blocked|FAILED|unmanaged|UNCLEAN' <<<"$mon" ||
        { printf '%s\n' "$mon" | indent; fail "crm_mon shows a failed, blocked or unclean resource or node"; return 1; }
    sed -n '/Node List/,$p' <<<"$mon" | indent
}

fenced_ok() { # VIEW LOSER
    nx "$1" stonith_admin --history "$2" 2>&1 | grep -qE "(reboot|off) of $2 successful"
}

# hold_owner OWNER VIEW SECONDS: every 0.2 s, AWS (aws.py hold: routes, EIP,
# record) and Pacemaker (VIEW's crm_mon: every group member) both name
# OWNER alone.
hold_owner() {
    local owner=$1 view=$2 secs=$3 end bad=0 samples=0 out hold
    "$PY" "$E2E_DIR/aws.py" hold --world "$WORLD" --endpoint "$E2E_MOTO" --owner "$owner" \
        --seconds "$secs" --interval 0.2 >"$E2E_WORK/hold-$SCENARIO.out" 2>&1 &
    hold=$!
    end=$(awk -v n="$(now)" -v s="$secs" 'BEGIN { printf "%.3f", n + s }')
    while awk -v e="$end" -v n="$(now)" 'BEGIN { exit !(n < e) }'; do
        samples=$((samples + 1))
        group_on "$view" "$owner" || { bad=$((bad + 1)); say "sample $samples: Pacemaker's grp_app is not (only) on $owner: $(where "$view" rsc_vip)"; }
        sleep 0.2
    done
    wait "$hold" || { indent <"$E2E_WORK/hold-$SCENARIO.out"; fail "AWS did not stay with $owner"; return 1; }
    out=$(cat "$E2E_WORK/hold-$SCENARIO.out")
    ((bad == 0)) || { fail "$bad of $samples Pacemaker samples not on $owner"; return 1; }
    say "held for ${secs}s: $out; Pacemaker: $samples samples, grp_app on $owner in each"
}

# ------------------------------------------------------------- scenarios

# isolate_until_fenced NODE PEERS: cut every link of NODE (PEERS, for the
# log, and the API endpoint), wait until it is fenced and powered off, then
# heal its links, so that it boots with them. Times from the caller's $t.
isolate_until_fenced() {
    local n=$1 peers=$2
    isolate "$n"
    say "$n isolated: blackhole routes for $peers and the API endpoint"
    wait_for 60 "$n fenced and powered off" grep -q " $n killed\$" "$FATE_LOG" || return 1
    say "$n powered off $(elapsed "$t")s after the cut; its links healed (it boots with them)"
    heal_all "$n"
}

scenario_q1() { QDEVICE=crm quorum_partition_1; }
quorum_partition_1() {
    local t t_aws
    quorum_cluster crm node1 node1 node2 || return 1
    t=$(now)
    isolate_until_fenced node1 "node2, qnetd" || return 1
    ! grep -q ' node2 stopped$' "$FATE_LOG" || { fail "node2's instance was stopped"; return 1; }
    t_aws=$(aws_wait_owner node2 60) || { fail "AWS did not switch to node2: $t_aws"; return 1; }
    say "AWS on node2 $(elapsed "$t" "$t_aws")s after the cut"
    settled node2 node1 node2 2 || return 1
    ! grep -q ' node2 stopped$' "$FATE_LOG" || { fail "node2's instance was stopped"; return 1; }
}

scenario_q2() { QDEVICE=pcs quorum_partition_2 node2 node1; }
# The same with the roles swapped: the node that cannot reach EC2 is node1,
# whom ffsplit's tie-breaker (the lowest node id) would pick; only the
# heuristic can make qnetd choose node2.
scenario_q6() { QDEVICE=crm quorum_partition_2 node1 node2; }

# quorum_partition_2 LOSER WINNER: LOSER holds the group and loses the API
# endpoint, then the link between the nodes is cut; both still reach qnetd.
# qnetd must give its vote to WINNER (its heuristic passes, LOSER's fails:
# corosync-qnetd-tool -lv, sampled during the split), WINNER fences LOSER
# and takes the group.
quorum_partition_2() {
    local loser=$1 winner=$2 t t_aws tool pcs=crm
    [[ $QDEVICE == pcs ]] && pcs=pcs
    quorum_cluster "$pcs" "$loser" node1 node2 || return 1
    tool=$E2E_WORK/qnetd-tool-$SCENARIO.log
    qnetd_sample "$tool" &
    BG_PIDS+=("$!")
    local sampler=$!
    t=$(now)
    cut_aws "$loser"
    cut_link node1 node2
    say "$loser (holding the group) cut from the API endpoint, then the link node1 <-> node2 cut; both reach qnetd"
    wait_for 60 "$loser fenced and powered off" grep -q " $loser killed\$" "$FATE_LOG" || return 1
    say "$loser powered off $(elapsed "$t")s after the cut"
    heal_link node1 node2
    kill "$sampler" 2>/dev/null || true
    ! grep -q " $winner stopped\$" "$FATE_LOG" || { fail "$winner's instance was stopped"; return 1; }
    t_aws=$(aws_wait_owner "$winner" 60) || { fail "AWS did not switch to $winner: $t_aws"; return 1; }
    say "AWS on $winner $(elapsed "$t" "$t_aws")s after the cut"
    heuristics_seen "$tool" "$loser" Fail || return 1
    heuristics_seen "$tool" "$winner" Pass || return 1
    settled "$winner" "$loser" "$winner" 2 || return 1
    ! grep -q " $winner stopped\$" "$FATE_LOG" || { fail "$winner's instance was stopped"; return 1; }
}

# qnetd_sample FILE: corosync-qnetd-tool -lv every 0.2 s (qnetd's view of
# each node: membership, heuristics, vote), appended to FILE.
qnetd_sample() {
    while :; do
        nx qnetd corosync-qnetd-tool -lv >>"$1" 2>&1 || true
        echo "--- $(now)" >>"$1"
        sleep 0.2
    done
}

# heuristics_seen FILE NODE Pass|Fail: qnetd reported NODE's heuristics as
# that result (a node's "Node ID N" line followed by its "Heuristics:" line).
heuristics_seen() {
    local id=${2#node}
    if awk -v id="$id" -v want="$3" '
        /Node ID/ { split($0, a, /Node ID /); split(a[2], b, /[^0-9]/); cur = b[1] }
        /Heuristics:/ && cur == id && $0 ~ want { found = 1 }
        END { exit !found }' "$1"; then
        say "qnetd saw $2's heuristics (exec_aws: ocf-aws api-reachable): $3"
    else
        grep -m 20 -E 'Node ID|Heuristics|Vote' "$1" | indent
        fail "qnetd never saw $2's heuristics as $3"
        return 1
    fi
}

scenario_q3() {
    local t t_aws owner
    QDEVICE="" quorum_cluster crm node1 node1 node2 node3 || return 1
    t=$(now)
    isolate_until_fenced node1 "node2, node3" || return 1
    wait_for 60 "grp_app started on node2 or node3" group_elsewhere node2 node1 || return 1
    owner=$(where node2 rsc_vip)
    t_aws=$(aws_wait_owner "$owner" 60) || { fail "AWS did not switch to $owner: $t_aws"; return 1; }
    say "grp_app on $owner, AWS on $owner $(elapsed "$t" "$t_aws")s after the cut"
    settled "$owner" node1 node2 3 || return 1
    grep -qE ' node[23] stopped$' "$FATE_LOG" && { fail "a node of the majority was stopped"; return 1; }
    return 0
}
group_elsewhere() { # VIEW NOT: grp_app wholly on one node other than NOT
    local w
    w=$(where "$1" rsc_vip)
    [[ -n $w && $w != *,* && $w != "$2" ]] && group_on "$1" "$w"
}

# ------------------------------------------------------------ soak (q4)

scenario_q4() { QDEVICE=crm quorum_soak; }

# quorum_soak: E2E_SOAK rounds (default 2) in turn: a crash of the node that
# holds the group (SIGKILL of its corosync, corosync-qdevice and
# pacemakerd; the peer fences it with fence_ec2 and takes the group; the
# fenced node boots and rejoins), then a graceful crm resource move back.
# After each: AWS and Pacemaker name the new holder alone (sampled for 2 s),
# nothing failed. Each round's time (kill or move -> AWS on the new node)
# goes to soak.jsonl; the end prints the median and worst of each kind.
quorum_soak() {
    local rounds=${E2E_SOAK:-2} r holder=node1 other kind t t_aws stops boots secs
    local log=$E2E_WORK/soak-$SCENARIO.jsonl
    rm -f "$log"
    quorum_cluster crm node1 node1 node2 || return 1
    for ((r = 1; r <= rounds; r++)); do
        [[ $holder == node1 ]] && other=node2 || other=node1
        local other_stops
        other_stops=$(grep -c " $other stopped\$" "$FATE_LOG" || true)
        if ((r % 2 == 1)); then
            kind=crash
            stops=$(grep -c " $holder stopped\$" "$FATE_LOG" || true)
            boots=$(grep -c " $holder booted\$" "$FATE_LOG" || true)
            t=$(now)
            crash_node "$holder" || return 1
            t_aws=$(aws_wait_owner "$other" 90) || { fail "round $r: AWS did not switch to $other: $t_aws"; return 1; }
            (($(grep -c " $holder stopped\$" "$FATE_LOG") > stops)) ||
                { fail "round $r: $holder's instance was not stopped (fencing)"; return 1; }
            wait_for 60 "round $r: $holder booted" fate_count_above "$holder" booted "$boots" || return 1
            wait_for 90 "round $r: $holder rejoined" cluster_ready "$other" 2 || return 1
            wait_for 30 "round $r: the quorum device's vote on $holder" qdevice_votes "$holder" || return 1
        else
            kind=move
            t=$(now)
            nx "$other" crm resource move grp_app "$other" 2>&1 | nocolour | indent
            t_aws=$(aws_wait_owner "$other" 60) || { fail "round $r: AWS did not switch to $other: $t_aws"; return 1; }
            wait_for 30 "round $r: grp_app on $other" group_on "$other" "$other" || return 1
            nx "$other" crm resource clear grp_app 2>&1 | nocolour | indent
        fi
        secs=$(elapsed "$t" "$t_aws")
        wait_for 30 "round $r: grp_app on $other" group_on "$other" "$other" || return 1
        wait_for 60 "round $r: rsc_az on both nodes" az_on_all "$other" 2 || return 1
        aws_check "$other" >/dev/null || return 1
        holds_vip "$other" || { fail "round $r: $other does not hold the VIP"; return 1; }
        ! holds_vip "$holder" || { fail "round $r: $holder still holds the VIP"; return 1; }
        hold_owner "$other" "$other" 2 >/dev/null || { fail "round $r: the owner changed"; return 1; }
        no_failures "$other" || return 1
        (($(grep -c " $other stopped\$" "$FATE_LOG" || true) == other_stops)) ||
            { fail "round $r: $other's instance was stopped"; return 1; }
        printf '{"round": %d, "kind": "%s", "from": "%s", "to": "%s", "seconds": %s}\n' \
            "$r" "$kind" "$holder" "$other" "$secs" >>"$log"
        say "round $r/$rounds: $kind $holder -> $other: AWS on $other after ${secs}s; one owner, nothing failed"
        holder=$other
    done
    "$SYSPY" - "$log" <<'PY' | indent
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for kind in ("crash", "move"):
    s = sorted(r["seconds"] for r in rows if r["kind"] == kind)
    if s:
        print(f"{kind}: {len(s)} rounds, median {statistics.median(s):.1f} s, worst {s[-1]:.1f} s, best {s[0]:.1f} s (-> AWS on the new node)")
PY
}

fate_count_above() { # NODE EVENT N: the fate log has more than N NODE EVENT lines
    (($(grep -c " $1 $2\$" "$FATE_LOG" || true) > $3))
}

# crash_node NODE: SIGKILL of NODE's corosync, corosync-qdevice and
# pacemakerd (no stop runs; the rest of Pacemaker dies when it is fenced).
crash_node() {
    local n=$1 p comm pids=()
    for p in $(node_pids "$n"); do
        comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        [[ $comm == corosync || $comm == corosync-qdevi* || $comm == pacemakerd ]] && pids+=("$p")
    done
    ((${#pids[@]} >= 3)) || { fail "expected corosync, corosync-qdevice and pacemakerd on $n, found pids: ${pids[*]}"; return 1; }
    kill -9 "${pids[@]}"
    say "SIGKILL $n's corosync, corosync-qdevice, pacemakerd (pids ${pids[*]})"
}

# ------------------------------------------------- priority fencing (q5)

scenario_q5() {
    local t
    two_node_cluster crm || return 1
    load_crm node1 priority-fencing.crm || return 1
    [[ $(nx node1 crm_attribute --type crm_config --name priority-fencing-delay --query --quiet) == 20s ]] ||
        { fail "priority-fencing.crm did not set priority-fencing-delay"; return 1; }
    t=$(now)
    cut_link node1 node2
    say "cluster link node1 <-> node2 cut; both reach AWS; node1 holds the group (priority-fencing-delay 20s)"
    wait_for 60 "a node fenced and powered off" grep -qE ' node[12] killed$' "$FATE_LOG" || return 1
    grep -q ' node2 killed$' "$FATE_LOG" || { fail "node1, the node with the group, was fenced"; return 1; }
    heal_link node1 node2
    say "node1 fenced node2 $(elapsed "$t")s after the cut; link healed"
    settled node1 node2 node1 2 || return 1
    ! grep -q ' node1 stopped$' "$FATE_LOG" || { fail "node1's instance was stopped"; return 1; }
    # Not pcmk_delay_max's coin: node2's fencing of node1 carried the delay.
    grep -qE 'Requesting fencing \(reboot\) of node node1 .*priority_delay=20' \
        "$(node_dir node2)/var/log/pacemaker/pacemaker.log" ||
        { fail "node2 did not delay its fencing of node1 by priority-fencing-delay"; return 1; }
    say "node2's fencing of node1 waited priority-fencing-delay (20 s) + pcmk_delay_max's draw; node1's of node2 only the draw"
}

# ------------------------------------------------------ token (--full)

SCENARIO_TITLE[token]="crash failover (scenario 1) once with corosync token 30000 ms, as production guides configure it: the timeline's detection part"
scenario_token() {
    rm -f "$E2E_WORK/timeline.jsonl"
    E2E_TOKEN=30000 failover_run 1 || return 1
    "$SYSPY" "$E2E_DIR/timeline.py" median "$E2E_WORK/timeline.jsonl" | indent
}
