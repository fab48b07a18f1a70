# shellcheck shell=bash
# Scenario 12: moving a running cluster from the ClusterLabs agents to ours.
# A two-node cluster configured the way clusters on AWS are today
# (clusterlabs-group.crm: Debian's resource-agents aws-vpc-move-ip, awseip
# and aws-vpc-route53 running the benchmark's pinned AWS CLI v1, and
# fence-agents' fence_aws) runs its group on node1; `ocf-aws migrate
# --apply` converts it while it runs, and nothing in AWS moves; then a crash
# of node1 fails everything over to node2 with our agents and fence_ec2.

# shellcheck disable=SC2034 # used by run.sh
SCENARIO_TITLE[12]="migration: ClusterLabs agents + fence_aws running on node1 -> ocf-aws migrate --apply (no stop, nothing in AWS moves) -> crash of node1: node2 fences with fence_ec2, runs the group with ours"

# The EC2 and Route 53 calls that change where an address points.
MIGRATE_MUTATING=(ReplaceRoute CreateRoute DeleteRoute AssociateAddress DisassociateAddress
    ChangeResourceRecordSets StopInstances StartInstances)

# clusterlabs_config: the scenario's crm file with the world's values.
clusterlabs_config() {
    sed -e "s|@VIP@|$(wj vip)|g" \
        -e "s|@RTB1@|$(wj route_tables | cut -d, -f1)|g" \
        -e "s|@RTB2@|$(wj route_tables | cut -d, -f2)|g" \
        -e "s|@REGION@|$(wj region)|g" \
        -e "s|@AWSCLI@|$E2E_AWSCLI_VENV/bin/aws|g" \
        -e "s|@EIP@|$(wj eip.public_ip)|g" \
        -e "s|@ALLOC@|$(wj eip.allocation_id)|g" \
        -e "s|@ZONE@|$(wj zone.id)|g" \
        -e "s|@NAME@|$(wj zone.record)|g" \
        -e "s|@ID1@|$(wj nodes.node1.instance_id)|g" \
        -e "s|@ID2@|$(wj nodes.node2.instance_id)|g" \
        -e '/^#/d' "$E2E_DIR/clusterlabs-group.crm"
}

# clusterlabs_node NODE: what the ClusterLabs agents need on a node, as an
# administrator following AWS's guides sets it up: root's AWS CLI config
# (pacemaker-execd gives agents no HOME; the CLI then reads root's home
# from the password database) with the region and the text output
# aws-vpc-route53 parses, no keys (the instance role); and, for fence_aws,
# the newer boto3 (Debian's 1.26 ignores AWS_ENDPOINT_URL) on
# pacemaker-fenced's PYTHONPATH through /etc/default/pacemaker.
clusterlabs_node() {
    local dir
    dir=$(node_dir "$1")
    mkdir -p "$dir/root/.aws"
    printf '[default]\nregion = %s\noutput = text\n' "$(wj region)" >"$dir/root/.aws/config"
    echo "PYTHONPATH=$E2E_FENCE_AWS_PYTHONPATH" >>"$dir/etc/default/pacemaker"
}

# The agent of each resource, as the CIB says (class:provider:type).
agents_in_cib() {
    nx node1 cibadmin --query --scope resources | "$SYSPY" -c '
import sys, xml.etree.ElementTree as ET
for p in ET.fromstring(sys.stdin.read()).iter("primitive"):
    parts = [p.get("class"), p.get("provider"), p.get("type")]
    print(p.get("id"), ":".join(x for x in parts if x))'
}

agents_are() { # EXPECTED: "id agent" lines, sorted
    local got
    got=$(agents_in_cib | sort)
    [[ $got == "$1" ]] || {
        printf '%s\n' "$got" | indent
        fail "the CIB's agents are not: $(tr '\n' ';' <<<"$1")"
        return 1
    }
}

# proxy_count ACTION...: how many of these the agents sent (fault proxy).
proxy_count() {
    proxy GET stats | "$SYSPY" -c '
import json, sys
by = json.load(sys.stdin)["by_action"]
print(sum(by.get(a, 0) for a in sys.argv[1:]))' "$@"
}

scenario_12() {
    local t out marker1 watch n
    [[ -x $E2E_AWSCLI_VENV/bin/aws && -d $E2E_FENCE_AWS_PYTHONPATH ]] ||
        { fail "no AWS CLI venv / fence_aws boto3 (run.sh sets them up with bench/setup-*.sh)"; return 1; }
    t=$(now)
    new_world "s$SCENARIO" --owner node2 --tables 2 --extra-tables-without-route 1 || return 1
    for n in node1 node2; do
        node_create "$n" "$n" || return 1
        clusterlabs_node "$n"
    done
    fate_start || return 1
    cluster_up node1 node2 || return 1
    nx node1 crm_standby --node node2 --update on || return 1
    out=$(clusterlabs_config | nx node1 crm configure load update - 2>&1) ||
        { printf '%s\n' "$out" | nocolour | indent; fail "crm configure load update failed"; return 1; }
    wait_for 90 "grp_app (ClusterLabs agents) started on node1" group_on node1 node1 || return 1
    nx node1 crm_standby --node node2 --update off || return 1
    wait_for 30 "the fence device fence_nodes (fence_aws) started" fence_started node1 || return 1
    agents_are "fence_nodes stonith:fence_aws
rsc_app ocf:heartbeat:Dummy
rsc_dns ocf:heartbeat:aws-vpc-route53
rsc_eip ocf:heartbeat:awseip
rsc_vip ocf:heartbeat:aws-vpc-move-ip" || return 1
    aws_check node1 || return 1
    holds_vip node1 || { fail "node1 does not hold the VIP on eth0"; return 1; }
    no_failures node1 || return 1
    # Every AWS CLI call of theirs was well formed (aws-vpc-route53 reads the
    # change id from the answer: moto_server.py echoes the batch's Comment).
    ! grep -h 'aws: error:' "$(node_dir node1)/var/log/pacemaker/pacemaker.log" "$(node_dir node2)/var/log/pacemaker/pacemaker.log" |
        head -3 | grep . || { fail "the AWS CLI refused a call of the ClusterLabs agents"; return 1; }
    say "ClusterLabs agents and fence_aws running, grp_app on node1 ($(elapsed "$t")s)"

    # The switch, watched: AWS's state every 50 ms, the proxy's counts of
    # the calls that move an address, the agents' stops and starts.
    watch=$E2E_WORK/s12-watch.log
    "$PY" "$E2E_DIR/aws.py" watch --world "$WORLD" --endpoint "$E2E_MOTO" --out "$watch" \
        --max-seconds 120 &
    local watcher=$!
    BG_PIDS+=("$watcher")
    wait_file "$watch" 10 "the AWS poller" || return 1
    local moved_before
    moved_before=$(proxy_count "${MIGRATE_MUTATING[@]}") || return 1
    marker1=$(wc -l <"$(node_dir node1)/var/log/pacemaker/pacemaker.log")
    t=$(now)
    say "\$ ocf-aws migrate --apply   (on node1)"
    out=$(nx node1 ocf-aws migrate --apply 2>&1) || {
        printf '%s\n' "$out" | indent
        fail "ocf-aws migrate --apply failed"
        return 1
    }
    printf '%s\n' "$out" | indent
    say "migrated in $(elapsed "$t")s"
    sleep 1
    kill "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null || true
    agents_are "fence_nodes stonith:fence_ec2
rsc_app ocf:heartbeat:Dummy
rsc_dns ocf:aws:dns
rsc_eip ocf:aws:eip
rsc_vip ocf:aws:vip" || return 1
    # The deep monitor; maintenance as it was (absent), the probe's marker gone.
    local res
    res=$(nx node1 cibadmin --query --scope resources)
    [[ $(xmllint --xpath "count(//primitive[@id='rsc_vip']//op[@name='monitor']/instance_attributes/nvpair[@name='OCF_CHECK_LEVEL'][@value='10'])" - <<<"$res") == 1 ]] ||
        { fail "rsc_vip's monitor has no OCF_CHECK_LEVEL=10"; return 1; }
    ! grep -q 'maintenance\|ocf_aws_adopt\|awscli\|monapi' <<<"$res" ||
        { grep 'maintenance\|ocf_aws_adopt\|awscli\|monapi' <<<"$res" | indent; fail "left in the CIB after migrate"; return 1; }
    local moved
    moved=$(proxy_count "${MIGRATE_MUTATING[@]}") || return 1
    ((moved == moved_before)) || {
        proxy GET log | indent
        fail "the switch sent $((moved - moved_before)) call(s) that move addresses (${MIGRATE_MUTATING[*]})"
        return 1
    }
    (($(wc -l <"$watch") == 1)) || { indent <"$watch"; fail "AWS's state changed during the switch"; return 1; }
    # No resource of the group was stopped or started (the fence device's
    # start, its registration with pacemaker-fenced, may be repeated).
    local ops
    ops=$(tail -n +"$((marker1 + 1))" "$(node_dir node1)/var/log/pacemaker/pacemaker.log" |
        grep -E 'Result of (stop|start) operation for rsc_' || true)
    [[ -z $ops ]] || { printf '%s\n' "$ops" | indent; fail "the switch stopped or started resources"; return 1; }
    # eip's and dns's probes took over what the ClusterLabs agents started.
    local adopted
    adopted=$(tail -n +"$((marker1 + 1))" "$(node_dir node1)/var/log/pacemaker/pacemaker.log" |
        grep -oE '(eip|dns)\(rsc_[a-z]+\)\[[0-9]+\]: INFO: .*taken over as running[^]]*' || true)
    printf '%s\n' "$adopted" | indent
    (($(grep -c . <<<"$adopted") == 2)) || { fail "eip's and dns's probes did not both take over"; return 1; }
    group_on node1 node1 || { fail "grp_app is not running on node1 after the switch"; return 1; }
    aws_check node1 || return 1
    holds_vip node1 || { fail "node1 lost the VIP in the switch"; return 1; }
    wait_for 30 "fence_nodes (fence_ec2) started" fence_started node1 || return 1
    no_failures node1 || return 1
    say "ocf:aws agents and fence_ec2 in place: no stop, no start, no call moved an address, AWS unchanged"

    # Then the crash, with our agents and fence_ec2 (pcmk_host_map as it was).
    crash_dc node1 node2 || return 1
    local t_aws
    t_aws=$(aws_wait_owner node2 60) || { fail "AWS did not switch to node2 within 60 s: $t_aws"; return 1; }
    say "AWS state on node2 $(elapsed "$CRASH_T" "$t_aws")s after the kill"
    grep -q ' node1 stopped$' "$FATE_LOG" || { fail "node1's instance was never stopped (fencing)"; return 1; }
    ! grep -q ' node2 stopped$' "$FATE_LOG" || { fail "node2's instance was stopped"; return 1; }
    wait_for 30 "grp_app started on node2" group_on node2 node2 || return 1
    aws_check node2 || return 1
    holds_vip node2 || { fail "node2 does not hold the VIP"; return 1; }
    out=$(nx node2 stonith_admin --history node1 2>&1)
    printf '%s\n' "$out" | indent
    grep -q 'reboot of node1 successful' <<<"$out" || { fail "no successful fencing of node1 in the history"; return 1; }
    grep -qE 'fence_ec2\(fence_nodes\)|fence_nodes.*fence_ec2' "$(node_dir node2)/var/log/pacemaker/pacemaker.log" ||
        say "note: node2's log does not name fence_ec2 with fence_nodes (the CIB does)"
    no_failures node2 || return 1
    fate_stop
}
