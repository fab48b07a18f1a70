# shellcheck shell=bash
# The e2e scenarios. Each scenario_N runs in a subshell of run.sh, builds its
# own world (a fresh VPC in the shared moto) and cluster, and returns non-zero
# on the first failed check; run.sh kills whatever it left behind.

# shellcheck disable=SC2034 # used by run.sh
declare -A SCENARIO_TITLE=(
    [1]="crash failover with fencing: SIGKILL node1's corosync+pacemakerd -> node2 fences node1 (fence_ec2) -> vip+eip+dns group on node2 (group.crm)"
    [2]="graceful move and back (group.pcs; pcs resource move, crm resource move)"
    [3]="AZ health (group.crm): impaired zone -> #health-aws-az red -> group leaves node1; available -> green"
    [4]="misconfiguration: VIP inside the VPC CIDR (vip.crm) -> stopped everywhere, exit reason shown"
    [5]="meta-data and validation: crm ra info, pcs resource describe, crm_resource --validate"
    [6]="ocf-tester for every agent against the emulator"
    [7]="every crm-examples file (vip, eip, dns, az; crmsh and pcs) loads and starts"
    [8]="fencing reboot: stonith_admin --reboot node1 -> instance stopped, node1 off, group on node2; node1 boots and rejoins"
    [9]="split: the link between the nodes cut, both reach AWS (pcmk_delay_max) -> exactly one survivor owns everything"
    [10]="AZ health with pcs (group.pcs): red -> group leaves node1, the az clone stays (allow-unhealthy-nodes on the clone)"
)

GROUP=(rsc_vip rsc_eip rsc_dns rsc_app)

# ---------------------------------------------------------------- helpers

aws_check() { # NODE: the emulator's state belongs to NODE (aws.py check)
    local out
    out=$("$PY" "$E2E_DIR/aws.py" check --world "$WORLD" --endpoint "$E2E_MOTO" --owner "$1") || {
        printf '%s\n' "$out" | indent
        fail "the emulated AWS does not point at $1"
        return 1
    }
    say "$out"
}

holds_vip() { # NODE: the VIP is on NODE's eth0
    nsenter -t "${NODE_PID[$1]}" -n -- ip -4 -o addr show dev eth0 | grep -qF " $(wj vip)/32 "
}

group_on() { # VIEW_NODE NODE: every member of grp_app started on NODE
    pcmk "$1" all-on "$2" "${GROUP[@]}"
}

az_on_both() { [[ $(where node1 rsc_az) == node1,node2 ]]; }
fence_started() { [[ -n $(where "$1" fence_nodes) ]]; } # VIEW_NODE

failed_start() { # VIEW_NODE RSC: crm_mon lists a failed start of RSC
    pcmk "$1" failures | grep -q " ${2}_start_0 "
}

health() { # VIEW_NODE NODE: #health-aws-az of NODE as written in the CIB
    nx "$1" crm_attribute --type status --node "$2" --name '#health-aws-az' --query --quiet 2>/dev/null
}
health_is() { [[ $(health "$1" "$2") == "$3" ]]; }

no_failures() { # VIEW_NODE: no failed action in crm_mon
    local f
    f=$(pcmk "$1" failures)
    [[ -z $f ]] || {
        printf '%s\n' "$f" | indent
        fail "failed actions in crm_mon"
        return 1
    }
}

jfield() { # KEY: a top-level field of the JSON on stdin (objects as JSON)
    "$SYSPY" -c 'import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# What a failing scenario leaves for the reader: each live node's view.
diag() {
    local n
    for n in "${!NODE_PID[@]}"; do
        say "--- diagnostics: crm_mon on $n"
        nx "$n" crm_mon -1 -r 2>&1 | indent || true
        say "--- diagnostics: our agents in $n's pacemaker.log (last 25 lines)"
        grep -E 'ocf-exit-reason|(vip|eip|dns|az)\(rsc_|rsc_(vip|eip|dns|az).*(error|failed)' \
            "$(node_dir "$n")/var/log/pacemaker/pacemaker.log" 2>/dev/null | tail -n 25 | indent || true
    done
}

# two_node_cluster crm|pcs: node1 + node2 running group.crm / group.pcs, the
# group on node1, az on both, AWS pointing at node1. The routes are seeded
# pointing at node2's ENI, so node1's start visibly switches them. node2
# is kept in standby while the configuration is loaded, so that the group
# starts on node1 (it stays there: resource-stickiness=1).
two_node_cluster() {
    local tool=$1 t
    t=$(now)
    new_world "s$SCENARIO" --owner node2 --tables 2 --extra-tables-without-route 1 || return 1
    node_create node1 node1 || return 1
    node_create node2 node2 || return 1
    fate_start || return 1
    cluster_up node1 node2 || return 1
    say "cluster node1 + node2 up ($(elapsed "$t")s): corosync knet two_node, token 1000 ms"
    nx node1 crm_standby --node node2 --update on || return 1
    if [[ $tool == crm ]]; then
        load_crm node1 group.crm || return 1
    else
        load_pcs node1 group.pcs || return 1
    fi
    wait_for 60 "grp_app started on node1" group_on node1 node1 || return 1
    nx node1 crm_standby --node node2 --update off || return 1
    wait_for 30 "rsc_az clone on both nodes" az_on_both || return 1
    wait_for 30 "the fence device fence_nodes started" fence_started node1 || return 1
    aws_check node1 || return 1
    holds_vip node1 || { fail "node1 does not hold the VIP on eth0"; return 1; }
    say "configured with crm-examples/group.$tool: grp_app on node1, cl_az on both ($(elapsed "$t")s)"
}

single_node_cluster() {
    local t
    t=$(now)
    new_world "s$SCENARIO" "$@" || return 1
    node_create solo node1 || return 1
    cluster_up solo || return 1
    say "single-node cluster 'solo' up ($(elapsed "$t")s), impersonating the world's node1"
}

# ------------------------------------------------------------ scenario 1

# One crash failover; appends its numbers to $E2E_WORK/timeline.jsonl.
failover_run() {
    local run=$1
    say "--- run $run"
    two_node_cluster crm || return 1
    no_failures node1 || return 1
    crash_failover "$run" || return 1
    fate_stop
    cluster_down
}

# crash_failover RUN: on a two_node_cluster (grp_app on node1, the DC),
# SIGKILL node1's corosync + pacemakerd; node2 fences node1 and takes the
# group; checks AWS and prints the timeline (also appended, with every
# step, to $E2E_WORK/timeline.jsonl).
crash_failover() {
    local run=$1 watch kill pids p comm t_aws
    watch=$E2E_WORK/s1-watch-$run.log
    "$PY" "$E2E_DIR/aws.py" watch --world "$WORLD" --endpoint "$E2E_MOTO" --out "$watch" \
        --max-seconds 120 &
    local watcher=$!
    BG_PIDS+=("$watcher")
    wait_file "$watch" 10 "the AWS poller" || return 1
    pids=()
    for p in $(node_pids node1); do
        comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        [[ $comm == corosync || $comm == pacemakerd ]] && pids+=("$p")
    done
    ((${#pids[@]} == 2)) || { fail "expected corosync + pacemakerd on node1, found pids: ${pids[*]}"; return 1; }
    local dc
    dc=$(pcmk node2 dc)
    [[ $dc == node1 ]] || { fail "node1 should be the DC (cluster_up makes it so), is: $dc"; return 1; }
    kill=$(now)
    kill -9 "${pids[@]}"
    say "SIGKILL node1's corosync + pacemakerd (pids ${pids[*]}; node1 is the DC)"
    t_aws=$(aws_wait_owner node2 60) || { kill "$watcher"; fail "AWS did not switch to node2 within 60 s: $t_aws"; return 1; }
    say "AWS state on node2 $(elapsed "$kill" "$t_aws")s after the kill"
    grep -q ' node1 stopped$' "$FATE_LOG" || { fail "node1's instance was never stopped (fencing)"; return 1; }
    ! grep -q ' node2 stopped$' "$FATE_LOG" || { fail "node2's instance was stopped"; return 1; }
    wait_for 30 "grp_app started on node2" group_on node2 node2 || { kill "$watcher"; return 1; }
    sleep 0.3
    kill "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null || true
    aws_check node2 || return 1
    holds_vip node2 || { fail "node2 does not hold the VIP"; return 1; }
    no_failures node2 || return 1
    nx node2 crm_mon -1 2>&1 | sed -n '/Node List/,$p' | indent
    say "timeline (seconds after the kill; node2's corosync.log and pacemaker.log):"
    "$SYSPY" "$E2E_DIR/timeline.py" run --kill "$kill" \
        --corosync "$(node_dir node2)/var/log/corosync/corosync.log" \
        --pacemaker "$(node_dir node2)/var/log/pacemaker/pacemaker.log" \
        --watch "$watch" --node node2 --agents rsc_vip,rsc_eip,rsc_dns \
        --fate "$FATE_LOG" --target node1 \
        --json "$E2E_WORK/timeline.jsonl" || { fail "timeline incomplete"; return 1; }
    # Keep the survivor's logs of every run (the node directories are reused).
    cp "$(node_dir node2)/var/log/pacemaker/pacemaker.log" "$E2E_WORK/s1-run$run-node2-pacemaker.log"
    cp "$(node_dir node2)/var/log/corosync/corosync.log" "$E2E_WORK/s1-run$run-node2-corosync.log"
}

scenario_1() {
    local runs=${E2E_RUNS:-3} r
    rm -f "$E2E_WORK/timeline.jsonl"
    for ((r = 1; r <= runs; r++)); do
        failover_run "$r" || return 1
    done
    say "failover timeline over $runs run(s) (kill -> every route, the EIP and the record on node2):"
    "$SYSPY" "$E2E_DIR/timeline.py" median "$E2E_WORK/timeline.jsonl" | indent
}

# ------------------------------------------------------------ scenario 2

scenario_2() {
    local t t_aws
    two_node_cluster pcs || return 1
    no_failures node1 || return 1

    t=$(now)
    say "\$ pcs resource move grp_app node2"
    nx node1 pcs resource move grp_app node2 2>&1 | nocolour | indent
    t_aws=$(aws_wait_owner node2 60) || { fail "AWS did not switch to node2: $t_aws"; return 1; }
    wait_for 30 "grp_app started on node2" group_on node1 node2 || return 1
    say "moved to node2: AWS switched after $(elapsed "$t" "$t_aws")s, group started after $(elapsed "$t")s"
    aws_check node2 || return 1
    holds_vip node2 || { fail "node2 does not hold the VIP"; return 1; }
    ! holds_vip node1 || { fail "node1 still holds the VIP after a graceful stop"; return 1; }
    # pcs 0.11 removes its temporary constraint once the move is done.
    if nx node1 cibadmin --query --scope constraints | grep -q 'cli-'; then
        nx node1 cibadmin --query --scope constraints | indent
        fail "pcs resource move left a constraint behind"
        return 1
    fi

    t=$(now)
    say "\$ crm resource move grp_app node1"
    nx node1 crm resource move grp_app node1 2>&1 | nocolour | indent
    t_aws=$(aws_wait_owner node1 60) || { fail "AWS did not switch back to node1: $t_aws"; return 1; }
    wait_for 30 "grp_app started on node1" group_on node2 node1 || return 1
    say "moved back to node1: AWS switched after $(elapsed "$t" "$t_aws")s, group started after $(elapsed "$t")s"
    say "\$ crm resource clear grp_app"
    nx node1 crm resource clear grp_app 2>&1 | nocolour | indent
    aws_check node1 || return 1
    holds_vip node1 || { fail "node1 does not hold the VIP"; return 1; }
    ! holds_vip node2 || { fail "node2 still holds the VIP after a graceful stop"; return 1; }
    sleep 2
    group_on node2 node1 || { fail "grp_app left node1 after crm resource clear"; return 1; }
    no_failures node1 || return 1
}

# ------------------------------------------------------------ scenario 3

scenario_3() { az_health crm green; }
scenario_10() {
    if [[ -n ${E2E_FULL:-} ]]; then az_health pcs green; else az_health pcs; fi
}

# az_health crm|pcs [green]: group.<tool>; node1's zone impaired -> red ->
# the group leaves, the az clone stays; with "green", the zone recovers and
# node1 turns green again (another ~20 s).
az_health() {
    local tool=$1 back=${2:-} zone t
    two_node_cluster "$tool" || return 1
    if [[ $tool == pcs ]]; then
        # pcs 0.11 puts the options after `clone cl_az` on the clone, which
        # is where Pacemaker reads allow-unhealthy-nodes.
        [[ $(nx node1 cibadmin --query --scope resources |
            xmllint --xpath "count(//clone[@id='cl_az']/meta_attributes/nvpair[@name='allow-unhealthy-nodes'][@value='true'])" -) == 1 ]] ||
            { fail "group.pcs: allow-unhealthy-nodes=true is not on the clone cl_az"; return 1; }
        say "group.pcs: allow-unhealthy-nodes=true is on the clone cl_az"
    fi
    zone=$(wj nodes.node1.az)
    t=$(now)
    say "EC2 reports $zone (node1's zone) impaired: POST /_proxy/zone-state?zone=$zone&state=impaired"
    proxy POST "zone-state?zone=$zone&state=impaired" >/dev/null || return 1
    # Up to one monitor interval (30 s) plus attrd's dampening (30 s).
    wait_for 90 "#health-aws-az=red on node1" health_is node2 node1 red || return 1
    say "#health-aws-az=red on node1 after $(elapsed "$t")s"
    wait_for 30 "grp_app moved to node2" group_on node2 node2 || return 1
    say "grp_app on node2 after $(elapsed "$t")s"
    aws_check node2 || return 1
    [[ $(where node2 rsc_az) == node1,node2 ]] || { fail "the az clone left the red node (allow-unhealthy-nodes)"; return 1; }
    local mon
    mon=$(nx node2 crm_mon -1 2>&1)
    sed -n '/Node List/,$p' <<<"$mon" | indent
    grep -q 'node1: online (health is RED)' <<<"$mon" || { fail "crm_mon does not show node1's health as RED"; return 1; }
    wait_for 60 "#health-aws-az=green on node2" health_is node2 node2 green || return 1
    [[ -n $back ]] || { no_failures node2; return; }

    t=$(now)
    say "$zone available again: POST /_proxy/zone-state?zone=$zone&state=available"
    proxy POST "zone-state?zone=$zone&state=available" >/dev/null || return 1
    wait_for 90 "#health-aws-az=green on node1" health_is node2 node1 green || return 1
    say "#health-aws-az=green on node1 after $(elapsed "$t")s"
    group_on node2 node2 || { fail "grp_app should stay on node2 (stickiness)"; return 1; }
    no_failures node2 || return 1
}

# ------------------------------------------------------------ scenario 4

scenario_4() {
    local vip=10.0.5.5 reason text t
    t=$(now)
    # --owner none: no route for the (bad) VIP anywhere; two tables for vip.crm's @RTB1@,@RTB2@.
    new_world s4 --vip "$vip" --owner none --tables 2 --extra-tables-without-route 0 || return 1
    node_create node1 node1 || return 1
    node_create node2 node2 || return 1
    fate_start || return 1
    cluster_up node1 node2 || return 1
    say "cluster node1 + node2 up ($(elapsed "$t")s); loading crm-examples/vip.crm with ip=$vip (inside 10.0.0.0/16)"
    load_crm node1 vip.crm || return 1
    wait_for 30 "a failed start of rsc_vip" failed_start node1 rsc_vip || return 1
    sleep 3 # let the scheduler react to the failure (it must not try node2)
    pcmk node1 failures | indent
    local f
    f=$(pcmk node1 failures)
    [[ $(grep -c ' rsc_vip_start_0 ' <<<"$f") == 1 ]] || { fail "expected exactly one failed start (rc 6 must not be retried on the other node)"; return 1; }
    grep -q ' rsc_vip_start_0 6 ' <<<"$f" || { fail "rsc_vip start did not fail with rc 6 (not configured)"; return 1; }
    pcmk node1 stopped rsc_vip || { fail "rsc_vip is active somewhere"; return 1; }
    pcmk node1 stopped rsc_app || { fail "rsc_app (after rsc_vip in the group) is active"; return 1; }
    reason="ip=$vip lies inside the VPC's CIDR block 10.0.0.0/16"
    text=$(nx node1 crm_mon -1 2>&1)
    printf '%s\n' "$text" | sed -n '/Failed Resource Actions/,$p' | indent
    grep -qF "$reason" <<<"$text" || { fail "crm_mon does not show the exit reason '$reason'"; return 1; }
    holds_vip node1 && { fail "node1 holds the bad VIP"; return 1; }
    holds_vip node2 && { fail "node2 holds the bad VIP"; return 1; }
    local st
    st=$(aws_state)
    [[ $(jfield routes <<<"$st") == "{}" ]] ||
        { fail "a route for $vip/32 was created: $st"; return 1; }
    say "rsc_vip: one start, rc 6, stopped on both nodes, no route created; crm_mon shows the reason"
}

# ------------------------------------------------------------ scenario 5

# meta_check NODE AGENT OUTPUT: OUTPUT names the agent's shortdesc and
# every parameter of its meta-data.
meta_check() {
    local agent=$1 out=$2 md missing
    md=$(/usr/lib/ocf/resource.d/aws/"$agent" meta-data)
    missing=$("$SYSPY" -c '
import sys, xml.etree.ElementTree as ET
md = ET.fromstring(sys.argv[1]); out = sys.argv[2]
want = [md.findtext("shortdesc").strip()] + [p.get("name") for p in md.iter("parameter")]
print(" ".join(repr(w) for w in want if w not in out))' "$md" "$out")
    [[ -z $missing ]] || { fail "not shown: $missing"; return 1; }
}

# validate EXPECTED_RC DESCRIPTION ARGS...: crm_resource --validate
validate() {
    local want=$1 what=$2 out rc=0 got
    shift 2
    out=$(nx solo crm_resource --validate "$@" 2>&1) || rc=$?
    got=$(sed -n 's/.*returned \([0-9]*\) .*/\1/p; s/.*Operation validate.* (\([0-9]*\))$/\1/p' <<<"$out" | head -n1)
    printf '      %-58s crm_resource rc %s, agent rc %s\n' "$what" "$rc" "${got:-?}"
    [[ $got == "$want" ]] || {
        printf '%s\n' "$out" | indent
        fail "crm_resource --validate $*: expected agent rc $want"
        return 1
    }
    [[ -z ${VALIDATE_REASON:-} ]] || grep -qF "$VALIDATE_REASON" <<<"$out" || {
        printf '%s\n' "$out" | indent
        fail "no '$VALIDATE_REASON' in the output"
        return 1
    }
}

scenario_5() {
    local a out
    single_node_cluster --owner node1 --tables 2 || return 1
    for a in $(agents); do
        out=$(nx solo crm ra info "ocf:aws:$a" 2>&1) || { printf '%s\n' "$out" | indent; fail "crm ra info ocf:aws:$a"; return 1; }
        meta_check "$a" "$out" || { printf '%s\n' "$out" | head -n 20 | indent; return 1; }
        out=$(nx solo pcs resource describe "ocf:aws:$a" 2>&1) || { printf '%s\n' "$out" | indent; fail "pcs resource describe ocf:aws:$a"; return 1; }
        meta_check "$a" "$out" || { printf '%s\n' "$out" | head -n 20 | indent; return 1; }
        say "ocf:aws:$a: crm ra info and pcs resource describe show its meta-data"
    done
    nx solo crm ra info ocf:aws:vip 2>&1 | head -n 12 | indent
    # The fence agent, as pacemaker-fenced finds it (/usr/sbin/fence_ec2).
    local md
    md=$(printf 'action=metadata\n' | /usr/sbin/fence_ec2)
    for out in "$(nx solo crm ra info stonith:fence_ec2 2>&1)" "$(nx solo pcs stonith describe fence_ec2 2>&1)"; do
        for p in tag plug power_timeout skip_race_check; do
            [[ $md == *"name=\"$p\""* && $out == *"$p"* ]] ||
                { printf '%s\n' "$out" | head -n 20 | indent; fail "stonith:fence_ec2: parameter $p not shown"; return 1; }
        done
    done
    say "stonith:fence_ec2: crm ra info and pcs stonith describe show its metadata"
    # Nothing but our agents (ocf-aws --list) in the provider directory.
    out=$(nx solo crm ra list ocf aws 2>&1)
    say "crm ra list ocf aws: $(tr -s ' \n' ' ' <<<"$out")"
    local want
    want=$(agents | wc -w)
    [[ $(tr -s ' \n' '\n' <<<"$out" | grep -c .) == "$want" ]] ||
        { fail "expected exactly the $want agents of ocf-aws --list"; return 1; }

    say "crm_resource --validate --class ocf --provider aws --agent ... --option ...:"
    local V=(--class ocf --provider aws)
    validate 0 "vip ip=192.168.100.10" "${V[@]}" --agent vip --option ip=192.168.100.10 || return 1
    VALIDATE_REASON="ip" validate 6 "vip ip=192.168.100.300" "${V[@]}" --agent vip --option ip=192.168.100.300 || return 1
    validate 6 "vip without ip (required)" "${V[@]}" --agent vip || return 1
    VALIDATE_REASON="lies inside the VPC's CIDR block" \
        validate 6 "vip ip=10.0.5.5, depth 10 (inside the VPC)" "${V[@]}" --agent vip --option ip=10.0.5.5 --validate=10 || return 1
    validate 0 "vip ip=192.168.100.10, depth 10" "${V[@]}" --agent vip --option ip=192.168.100.10 --validate=10 || return 1
    validate 6 "vip api_failure=explode" "${V[@]}" --agent vip --option ip=192.168.100.10 --option api_failure=explode || return 1
    validate 0 "eip allocation_id=<the world's>" "${V[@]}" --agent eip --option "allocation_id=$(wj eip.allocation_id)" || return 1
    validate 6 "eip without allocation_id or elastic_ip" "${V[@]}" --agent eip || return 1
    validate 0 "dns hosted_zone_id=... name=..." "${V[@]}" --agent dns --option "hosted_zone_id=$(wj zone.id)" --option "name=$(wj zone.record)" || return 1
    validate 6 "dns name='bad name!'" "${V[@]}" --agent dns --option "hosted_zone_id=$(wj zone.id)" --option "name=bad name!" || return 1
    validate 0 "az (no parameters)" "${V[@]}" --agent az || return 1
    validate 6 "az dampen=soon" "${V[@]}" --agent az --option dampen=soon || return 1
}

# ------------------------------------------------------------ scenario 6

scenario_6() {
    local a opts out rc stats
    # Routes seeded towards node2: the vip start must really switch them.
    single_node_cluster --owner node2 --tables 2 || return 1
    declare -A O=(
        [vip]="-o ip=$(wj vip)"
        [eip]="-o allocation_id=$(wj eip.allocation_id)"
        [dns]="-o hosted_zone_id=$(wj zone.id) -o name=$(wj zone.record)"
        [az]=""
        # solo impersonates node1, of subnet 10.0.1.0/24.
        [secondary-ip]="-o ip=10.0.1.50"
    )
    # The calls each agent's start/stop must have made through the API
    # endpoint (the fault proxy counts them): proof that ocf-tester's
    # sequences ran against the emulator, not just a local check.
    declare -A WANT=(
        [vip]="ReplaceRoute DescribeRouteTables"
        [eip]="AssociateAddress DisassociateAddress"
        [dns]="ChangeResourceRecordSets ListResourceRecordSets"
        [az]="DescribeAvailabilityZones"
        [secondary-ip]="AssignPrivateIpAddresses DescribeNetworkInterfaces"
    )
    local failed=0 w
    for a in $(agents); do
        if [[ ! -v "O[$a]" || ! -v "WANT[$a]" ]]; then
            say "FAIL: ocf-aws --list names $a, which scenario 6 does not know: add its ocf-tester options to O and the API calls its start/stop must make to WANT in tests/e2e/scenarios.sh"
            failed=1
            continue
        fi
        read -ra opts <<<"${O[$a]}"
        proxy POST reset >/dev/null || return 1
        rc=0
        out=$(nx solo ocf-tester -n "test_$a" "${opts[@]}" "/usr/lib/ocf/resource.d/aws/$a" 2>&1) || rc=$?
        stats=$(proxy GET stats | "$SYSPY" -c 'import json, sys; print(" ".join(f"{k}={v}" for k, v in sorted(json.load(sys.stdin)["by_action"].items())))')
        say "ocf-tester -n test_$a ${O[$a]} /usr/lib/ocf/resource.d/aws/$a: rc $rc, $(tail -n1 <<<"$out")"
        printf '      API calls: %s\n' "$stats"
        if ((rc != 0)) || [[ $out != *"passed all tests"* ]]; then
            printf '%s\n' "$out" | grep -v '^ *<' | indent
            failed=1
        fi
        for w in ${WANT[$a]}; do
            [[ " $stats" == *" $w="* ]] || { say "FAIL: ocf-tester's run of $a made no $w call"; failed=1; }
        done
    done
    ((failed == 0)) || { fail "ocf-tester"; return 1; }
}

# ------------------------------------------------------------ scenario 7

all_stopped() { # VIEW_NODE RSC...
    local n=$1 r
    shift
    for r in "$@"; do
        pcmk "$n" stopped "$r" || return 1
    done
}

examples_started() {
    pcmk solo all-on solo rsc_vip rsc_app rsc_eip rsc_dns rsc_az fence_nodes
}

# The cluster properties every example sets survive loading them together.
examples_properties() {
    local p v bad=""
    for p in stonith-enabled=true stonith-timeout=90s node-health-strategy=migrate-on-red; do
        v=$(nx solo crm_attribute --type crm_config --name "${p%%=*}" --query --quiet 2>/dev/null) || v=""
        [[ $v == "${p#*=}" ]] || bad+=" ${p%%=*}=${v:-unset}"
    done
    [[ -z $bad ]] || { fail "cluster properties after loading the examples:$bad"; return 1; }
}

# What the agents inherit under Pacemaker: pacemaker-execd's environment,
# which must be the clean one the harness gave pacemakerd (PATH plus
# /etc/default/pacemaker), with no HOME and no AWS credentials: they come
# from the instance role, through the node's IMDS.
check_agent_environment() {
    local n=$1 p execd="" env bad imds
    for p in $(node_pids "$n"); do
        [[ $(cat "/proc/$p/comm" 2>/dev/null) == pacemaker-execd ]] && execd=$p
    done
    [[ -n $execd ]] || { fail "no pacemaker-execd on $n"; return 1; }
    env=$(tr '\0' '\n' <"/proc/$execd/environ" | sort)
    say "pacemaker-execd's environment on $n (what every agent inherits): $(tr '\n' ' ' <<<"$env")"
    bad=$(grep -E '^(HOME|USER|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_PROFILE|AWS_REGION|AWS_DEFAULT_REGION|AWS_EC2_METADATA_SERVICE_ENDPOINT)=' <<<"$env") || true
    [[ -z $bad ]] || { fail "leaked into the agents' environment: $bad"; return 1; }
    grep -qx "AWS_ENDPOINT_URL=$E2E_API" <<<"$env" || { fail "AWS_ENDPOINT_URL from /etc/default/pacemaker missing"; return 1; }
    return 0
}

imds_role_used() { # NODE: the agents fetched the instance role's credentials
    local stats
    stats=$(nx "$1" python3 -c 'import urllib.request; print(urllib.request.urlopen("http://169.254.169.254/_emulator/stats", timeout=5).read().decode())') || return 1
    grep -q 'iam/security-credentials/ha-cluster-node' <<<"$stats"
}

scenario_7() {
    local f t st
    single_node_cluster --owner node2 --tables 2 || return 1
    check_agent_environment solo || return 1
    for tool in crm pcs; do
        t=$(now)
        for f in vip eip dns az; do
            if [[ $tool == crm ]]; then
                load_crm solo "$f.crm" || return 1
            else
                load_pcs solo "$f.pcs" || return 1
            fi
        done
        wait_for 60 "every example resource started" examples_started || return 1
        say "crm-examples/{vip,eip,dns,az}.$tool loaded, every resource started, fence_nodes (fence_ec2) too ($(elapsed "$t")s)"
        examples_properties || return 1
        # The deep monitors reach the CIB as op instance attributes, where
        # Pacemaker takes OCF_CHECK_LEVEL from.
        local cib depth
        cib=$(nx solo cibadmin --query --scope resources) || return 1
        for depth in rsc_vip:10 rsc_dns:20; do
            [[ $(xmllint --xpath "count(//primitive[@id='${depth%:*}']/operations/op[@name='monitor']/instance_attributes/nvpair[@name='OCF_CHECK_LEVEL'][@value='${depth#*:}'])" - <<<"$cib") == 1 ]] ||
                { fail "$tool: ${depth%:*} has no monitor with OCF_CHECK_LEVEL=${depth#*:} in the CIB"; return 1; }
        done
        aws_check node1 || return 1
        holds_vip solo || { fail "solo does not hold the VIP"; return 1; }
        no_failures solo || return 1
        imds_role_used solo || { fail "no agent fetched the instance role's credentials from IMDS"; return 1; }
        # doctor reads each resource from the live CIB (crm_resource) and
        # must find nothing wrong with a cluster that works.
        local rsc out
        for rsc in rsc_vip rsc_eip rsc_dns rsc_az; do
            out=$(nx solo ocf-aws doctor --resource "$rsc" --json) ||
                { fail "$tool: ocf-aws doctor --resource $rsc failed on a healthy cluster: $(tr -s ' \n' ' ' <<<"$out" | head -c 3000)"; return 1; }
            [[ $(jfield ok <<<"$out") == true && $(jfield resource <<<"$out") == "$rsc" ]] ||
                { fail "$tool: doctor --resource $rsc: $out"; return 1; }
        done
        say "ocf-aws doctor --resource: rsc_vip, rsc_eip, rsc_dns, rsc_az all green"
        [[ $(nx solo attrd_updater --query --name '#health-aws-az' 2>&1) == *'value="green"'* ]] ||
            { fail "az did not publish #health-aws-az=green"; return 1; }
        # Remove the resources (Pacemaker stops them) before the next variant.
        # The fence device goes last: with stonith-enabled=true and no
        # device, Pacemaker leaves active resources unmanaged, unstopped.
        t=$(now)
        local fence
        fence=$(nx solo cibadmin --query --xpath "//primitive[@id='fence_nodes']") || return 1
        nx solo cibadmin --replace --scope resources --xml-text "<resources>$fence</resources>" || return 1
        nx solo cibadmin --replace --scope constraints --xml-text '<constraints/>' || return 1
        wait_for 60 "every resource but fence_nodes stopped" all_stopped solo rsc_vip rsc_app rsc_eip rsc_dns rsc_az || return 1
        nx solo cibadmin --replace --scope resources --xml-text '<resources/>' || return 1
        wait_for 30 "fence_nodes stopped" pcmk solo idle || return 1
        ! holds_vip solo || { fail "the VIP is still on solo after stop"; return 1; }
        # eip's stop disassociates the address (dns's leaves the record by
        # default, vip's leaves the routes: only the local address goes).
        st=$(aws_state)
        [[ $(jfield eip_owner <<<"$st") == none ]] ||
            { fail "after stop, the EIP is still associated: $st"; return 1; }
        say "resources removed and stopped ($(elapsed "$t")s)"
        nx solo crm_resource --cleanup >/dev/null 2>&1 || true
    done
}

# ------------------------------------------------------------ scenario 8

scenario_8() {
    local t rc=0 out
    two_node_cluster crm || return 1
    t=$(now)
    say "\$ stonith_admin --reboot node1   (on node2)"
    out=$(nx node2 stonith_admin --reboot node1 --timeout 150 2>&1) || rc=$?
    [[ -z $out ]] || printf '%s\n' "$out" | indent
    ((rc == 0)) || { fail "stonith_admin --reboot node1: rc $rc"; return 1; }
    say "stonith_admin returned 0 after $(elapsed "$t")s"
    grep -q ' node1 stopped$' "$FATE_LOG" || { fail "node1's instance was never stopped"; return 1; }
    wait_for 5 "node1 powered off" grep -q ' node1 killed$' "$FATE_LOG" || return 1
    ! grep -q ' node2 stopped$' "$FATE_LOG" || { fail "node2's instance was stopped"; return 1; }
    wait_for 60 "grp_app started on node2" group_on node2 node2 || return 1
    say "grp_app on node2 after $(elapsed "$t")s"
    aws_check node2 || return 1
    holds_vip node2 || { fail "node2 does not hold the VIP"; return 1; }
    wait_for 30 "node1 booted" grep -q ' node1 booted$' "$FATE_LOG" || return 1
    wait_for 60 "node1 rejoined (both nodes online, seen from node2)" cluster_ready node2 2 || return 1
    wait_for 30 "node1 sees both nodes online" cluster_ready node1 2 || return 1
    wait_for 30 "rsc_az clone on both nodes again" az_on_both || return 1
    say "node1 rebooted and rejoined the cluster $(elapsed "$t")s after the request"
    out=$(nx node2 stonith_admin --history node1 2>&1) || true
    printf '%s\n' "$out" | indent
    grep -q 'reboot of node1 successful' <<<"$out" || { fail "no successful reboot of node1 in the fencing history"; return 1; }
    holds_vip node1 && { fail "node1 holds the VIP after its boot"; return 1; }
    group_on node2 node2 || { fail "grp_app left node2 when node1 came back"; return 1; }
    aws_check node2 || return 1
    no_failures node2 || return 1
    nx node2 crm_mon -1 2>&1 | sed -n '/Node List/,$p' | indent
}

# ------------------------------------------------------------ scenario 9

stop_requests_since() { # N: StopInstances the agents sent after proxy request N
    proxy GET log | "$SYSPY" -c 'import json, sys
print(sum(1 for e in json.load(sys.stdin) if e["n"] > int(sys.argv[1]) and e["action"] == "StopInstances"))' "$1"
}

scenario_9() {
    local t mark loser survivor n delays stops
    two_node_cluster crm || return 1
    mark=$(proxy GET stats | jfield requests)
    t=$(now)
    cut_link node1 node2
    say "cluster link node1 <-> node2 cut (blackhole routes on both); both still reach AWS and their metadata"
    wait_for 45 "one node fenced and powered off" grep -qE ' node[12] killed$' "$FATE_LOG" || return 1
    loser=$(awk '$3 == "killed" { print $2; exit }' "$FATE_LOG")
    [[ $loser == node1 ]] && survivor=node2 || survivor=node1
    # The link comes back while the loser is off (the boot takes E2E_BOOT_MS),
    # so that it rejoins when it boots.
    heal_link node1 node2
    say "$survivor fenced $loser $(elapsed "$t")s after the cut; link healed"
    delays=""
    for n in node1 node2; do
        local d
        d=$(grep -ohE "Delaying '\w+' action targeting \S+ using fence_nodes for [0-9]+s" \
            "$(node_dir "$n")/var/log/pacemaker/pacemaker.log" | tail -n1 | sed -E 's/.* for ([0-9]+s)/\1/')
        delays+=" $n ${d:-0s (no delay logged)};"
    done
    say "pcmk_delay_max's random delays drawn:${delays%;}"
    wait_for 60 "grp_app started on $survivor" group_on "$survivor" "$survivor" || return 1
    aws_check "$survivor" || return 1
    holds_vip "$survivor" || { fail "$survivor does not hold the VIP"; return 1; }
    wait_for 30 "$loser booted" grep -q " $loser booted\$" "$FATE_LOG" || return 1
    wait_for 60 "$loser rejoined" cluster_ready "$survivor" 2 || return 1
    say "$loser booted and rejoined $(elapsed "$t")s after the cut"
    # Exactly one survivor: its instance never stopped, one StopInstances.
    ! grep -q " $survivor stopped\$" "$FATE_LOG" || { fail "$survivor's instance was stopped too: both nodes fenced"; return 1; }
    stops=$(stop_requests_since "$mark")
    say "the fault proxy's request log since the cut: $stops StopInstances; EC2: $survivor never stopped"
    ((stops == 1)) || { fail "expected exactly one StopInstances (the survivor's), saw $stops"; return 1; }
    if grep -q 'is the one being fenced' "$(node_dir "$loser")/var/log/pacemaker/pacemaker.log"; then
        say "$loser's fence_ec2 ran and its race check refused:"
        grep -h 'is the one being fenced' "$(node_dir "$loser")/var/log/pacemaker/pacemaker.log" | tail -n1 | cut -c1-300 | indent
    else
        say "$loser was powered off before its own fencing delay ran out: it never sent StopInstances"
    fi
    group_on "$survivor" "$survivor" || { fail "grp_app left $survivor when $loser came back"; return 1; }
    aws_check "$survivor" || return 1
    no_failures "$survivor" || return 1
}
