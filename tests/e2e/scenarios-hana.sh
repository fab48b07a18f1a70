# shellcheck shell=bash
# The SAP HANA scenarios (14, 15): AWS's SAP HANA guides' configurations
# with only the agent names changed (crm-examples/guides/), and the HANA
# scale-up pattern (crm-examples/hana.*), each in a two-node cluster whose
# promotable clone is ocf:pacemaker:Stateful standing in for SAPHana.
# Sourced by run.sh after scenarios.sh, whose helpers they use.

# shellcheck disable=SC2034 # used by run.sh
SCENARIO_TITLE[14]="AWS's SAP HANA guides with only the agent names changed (guides/rhel-sap-hana.pcs, guides/sles-sap-hana.crm): load without --force, start, the addresses on the promoted/unpromoted nodes, fencing"
# shellcheck disable=SC2034
SCENARIO_TITLE[15]="SAP HANA pattern (hana.crm, hana.pcs): vip+dns follow the promoted instance, the read-only vip the unpromoted one; a promotion change moves them"

# The read-enabled secondary's overlay address (the world's vip is the
# primary's).
HANA_VIP2=192.168.100.11

# hana_text FILE: crm-examples/FILE with every placeholder filled: the
# examples' (example, lib.sh) and the guides' own.
hana_text() {
    example "$1" | sed -e "s|@VIP2@|$HANA_VIP2|g" -e "s|@HOST1@|node1|g" -e "s|@HOST2@|node2|g" \
        -e "s|@INSTANCE1@|$(wj nodes.node1.instance_id)|g" \
        -e "s|@INSTANCE2@|$(wj nodes.node2.instance_id)|g" \
        -e "s|@REGION@|$(wj region)|g"
}

# hana_load NODE FILE: a .crm file through `crm configure load update -`
# (comments dropped, as its header says), a .pcs file run as a script,
# never with --force; shows what they print.
hana_load() {
    local out rc=0
    if [[ $2 == *.crm ]]; then
        out=$(hana_text "$2" | sed -e '/^#/d' | nx "$1" crm configure load update - 2>&1) || rc=$?
        out=$(grep -v 'Blind faith: not fencing unseen nodes' <<<"$out" | nocolour) || true
    else
        ! grep -v '^#' "$E2E_ROOT/crm-examples/$2" | grep -q -- '--force' || { fail "$2 uses --force"; return 1; }
        out=$(hana_text "$2" | nx "$1" bash -euo pipefail -s 2>&1) || rc=$?
    fi
    [[ -z $out ]] || printf '%s\n' "$out" | nocolour | indent
    ((rc == 0)) || { fail "loading crm-examples/$2 failed (rc $rc)"; return 1; }
    say "loaded crm-examples/$2"
}

# Two nodes, the primary's routes seeded towards node2, the read-enabled
# address's towards node1: whichever node is promoted, some start has to
# switch routes. Both nodes have the AWS CLI profile "cluster" the guides
# create (`aws configure --profile cluster`: the region, no keys).
hana_cluster() {
    local n t
    t=$(now)
    new_world "s$SCENARIO" --owner node2 --tables 2 --extra-tables-without-route 0 || return 1
    "$PY" "$E2E_DIR/hana.py" route --world "$WORLD" --ip "$HANA_VIP2" --owner node1 ||
        { fail "could not create the routes of $HANA_VIP2"; return 1; }
    for n in node1 node2; do
        node_create "$n" "$n" || return 1
        mkdir -p "$(node_dir "$n")/root/.aws"
        printf '[profile cluster]\nregion = %s\n' "$(wj region)" >"$(node_dir "$n")/root/.aws/config"
    done
    fate_start || return 1
    cluster_up node1 node2 || return 1
    say "cluster node1 + node2 up ($(elapsed "$t")s); /root/.aws/config: [profile cluster] region = $(wj region)"
}

hana_roles() { # VIEW CLONE: "PROMOTED UNPROMOTED" (node lists)
    local xml
    xml=$(nx "$1" crm_mon -1 --output-as=xml 2>/dev/null) || return 1
    "$SYSPY" "$E2E_DIR/hana.py" promoted "$2" <<<"$xml"
}

# hana_placed VIEW CLONE PRIMARY READONLY [NODE]: one instance of CLONE
# promoted (on NODE when given), one unpromoted on the other node, every
# resource of PRIMARY (a space-separated list) started on the promoted
# node and READONLY on the other. Sets HANA_P and HANA_S.
hana_placed() {
    local roles p s r
    roles=$(hana_roles "$1" "$2") || return 1
    p=${roles% *} s=${roles#* }
    [[ $p == node[12] && $s == node[12] && $p != "$s" ]] || return 1
    [[ -z ${5:-} || $p == "$5" ]] || return 1
    for r in $3; do is_on "$1" "$r" "$p" || return 1; done
    is_on "$1" "$4" "$s" || return 1
    HANA_P=$p HANA_S=$s
}

has_addr() { eth0_addrs "$1" | grep -qxF "$2/32"; } # NODE IP

# hana_addresses P S [PARTS]: the primary's VIP routes (and PARTS of
# aws.py check, e.g. routes,record) point at P and the VIP is on P's eth0
# only; the read-enabled address's routes point at S, and it is on S's
# eth0 only.
hana_addresses() {
    local p=$1 s=$2 out
    aws_check "$p" "${3:-routes}" || return 1
    { holds_vip "$p" && ! holds_vip "$s"; } ||
        { fail "the VIP $(wj vip) should be on $p's eth0 only: $p: $(eth0_addrs "$p" | tr '\n' ' '), $s: $(eth0_addrs "$s" | tr '\n' ' ')"; return 1; }
    out=$("$PY" "$E2E_DIR/hana.py" routes --world "$WORLD" --ip "$HANA_VIP2" --owner "$s") ||
        { printf '%s\n' "$out" | indent; fail "the read-enabled address's routes do not point at $s"; return 1; }
    say "$out"
    { has_addr "$s" "$HANA_VIP2" && ! has_addr "$p" "$HANA_VIP2"; } ||
        { fail "$HANA_VIP2 should be on $s's eth0 only"; return 1; }
    say "$(wj vip) on $p's eth0 (promoted), $HANA_VIP2 on $s's eth0 (unpromoted)"
}

# hana_wipe VIEW: remove every resource and constraint (Pacemaker stops
# them); the fence device FENCE last, as scenario 7 does.
hana_wipe() {
    local fence
    fence=$(nx "$1" cibadmin --query --xpath "//primitive[@id='$2']") || return 1
    nx "$1" cibadmin --replace --scope constraints --xml-text '<constraints/>' || return 1
    nx "$1" cibadmin --replace --scope resources --xml-text "<resources>$fence</resources>" || return 1
    wait_for 60 "every resource but $2 stopped" only_fence_active "$1" "$2" || return 1
    nx "$1" cibadmin --replace --scope resources --xml-text '<resources/>' || return 1
    wait_for 30 "$2 stopped" pcmk "$1" idle || return 1
    nx "$1" crm_resource --cleanup >/dev/null 2>&1 || true
}
only_fence_active() { # VIEW FENCE
    local xml
    xml=$(nx "$1" crm_mon -1 --output-as=xml 2>/dev/null) || return 1
    "$SYSPY" -c 'import sys, xml.etree.ElementTree as ET
r = ET.fromstring(sys.stdin.read())
sys.exit(any(x.get("active") == "true" and x.get("id") != sys.argv[1] for x in r.iter("resource")))' "$2" <<<"$xml"
}

# ------------------------------------------------------------ scenario 14

# guide_round FILE FENCE: load a guide file, everything starts, the
# addresses are where the guide puts them, the properties are the guide's.
guide_round() {
    local file=$1 fence=$2 t
    t=$(now)
    if [[ $file == *.crm ]]; then
        say "\$ crm maintenance on   (the guide's first step)"
        nx node1 crm maintenance on 2>&1 | nocolour | indent
    fi
    hana_load node1 "$file" || return 1
    if [[ $file == *.crm ]]; then
        say "\$ crm maintenance off"
        nx node1 crm maintenance off 2>&1 | nocolour | indent
    fi
    wait_for 90 "every resource of $file started: rsc_ip_HDB_HDB00 on the promoted node, the read-enabled one on the other" \
        hana_placed node1 "$GUIDE_CLONE" "rsc_ip_HDB_HDB00" rsc_ip_HDB_HDB00_readenabled || return 1
    wait_for 30 "the topology stand-in on both nodes and $fence started" guide_others_on node1 "$fence" || return 1
    say "$file: every resource started ($(elapsed "$t")s): promoted on $HANA_P, unpromoted on $HANA_S"
    no_failures node1 || return 1
    hana_addresses "$HANA_P" "$HANA_S" || return 1
    local p v bad=""
    for p in stonith-enabled=true stonith-timeout=600 priority-fencing-delay=20 maintenance-mode=false ${GUIDE_PROPS:-}; do
        v=$(nx node1 crm_attribute --type crm_config --name "${p%%=*}" --query --quiet 2>/dev/null) || v=""
        [[ $v == "${p#*=}" ]] || bad+=" ${p%%=*}=${v:-unset}"
    done
    [[ -z $bad ]] || { fail "$file: cluster properties:$bad"; return 1; }
    # Every set of defaults says the guide's value: the seeded CIB has a
    # set of its own, as pcs cluster setup makes one; pcs's `resource
    # defaults update` changes that set, crmsh's rsc_defaults line adds its
    # own (rsc-options) after the RHEL round has changed it.
    for p in rsc_defaults:resource-stickiness=1000 rsc_defaults:migration-threshold=5000 op_defaults:timeout=600; do
        v=$(nx node1 cibadmin --query --scope "${p%%:*}" |
            xmllint --xpath "//nvpair[@name='$(cut -d: -f2 <<<"${p%%=*}")']/@value" - 2>/dev/null |
            grep -o '"[^"]*"' | tr -d '"' | sort -u | tr '\n' ' ')
        [[ $v == "${p#*=} " ]] || bad+=" ${p%%=*}=${v:-unset}"
    done
    [[ -z $bad ]] || { fail "$file: defaults:$bad"; return 1; }
    say "$file: stonith-enabled=true stonith-timeout=600 priority-fencing-delay=20 ${GUIDE_PROPS:-}maintenance-mode=false; rsc_defaults resource-stickiness=1000 migration-threshold=5000, op_defaults timeout=600"
}
guide_others_on() { # VIEW FENCE
    [[ $(where "$1" rsc_SAPHanaTopology_HDB_HDB00) == node1,node2 && -n $(where "$1" "$2") ]]
}

# guide_fence ACTION: fence the unpromoted node with the guide's device
# (stonith_admin, no extra delay); EC2 stops its instance (the fate
# watcher powers the node off); the read-enabled address moves to the
# promoted node, as the guides say it does when the secondary is down.
guide_fence() {
    local action=$1 t rc=0 out victim=$HANA_S keep=$HANA_P mark
    t=$(now)
    # Only what this fencing does counts: the fate log has earlier ones.
    mark=$(wc -l <"$FATE_LOG" 2>/dev/null || echo 0)
    say "\$ stonith_admin --$action $victim --delay -1   (on $keep; the unpromoted node)"
    out=$(nx "$keep" stonith_admin "--$action" "$victim" --delay -1 --timeout 120 2>&1) || rc=$?
    [[ -z $out ]] || printf '%s\n' "$out" | indent
    ((rc == 0)) || { fail "stonith_admin --$action $victim: rc $rc"; return 1; }
    wait_for 10 "$victim's instance stopped and $victim powered off" fate_since "$mark" " $victim killed" || return 1
    fate_since "$mark" " $victim stopped" || { fail "$victim's instance was never stopped"; return 1; }
    ! fate_since "$mark" " $keep stopped" || { fail "$keep's instance was stopped"; return 1; }
    say "$victim fenced ($action) by the guide's device in $(elapsed "$t")s"
    wait_for 60 "the read-enabled address on $keep, beside the primary" \
        is_on "$keep" rsc_ip_HDB_HDB00_readenabled "$keep" || return 1
    "$PY" "$E2E_DIR/hana.py" routes --world "$WORLD" --ip "$HANA_VIP2" --owner "$keep" | indent
    has_addr "$keep" "$HANA_VIP2" || { fail "$HANA_VIP2 is not on $keep's eth0"; return 1; }
    is_on "$keep" rsc_ip_HDB_HDB00 "$keep" || { fail "the primary's address left $keep"; return 1; }
    aws_check "$keep" routes || return 1
}

scenario_14() {
    local t out
    hana_cluster || return 1

    # RHEL: fence_aws's parameters (pcmk_host_map with instance ids,
    # region, skip_os_shutdown); fencing is a reboot: the node comes back.
    GUIDE_CLONE=rsc_SAPHana_HDB_HDB00-clone GUIDE_PROPS="" guide_round guides/rhel-sap-hana.pcs rsc_fence_aws || return 1
    guide_fence reboot || return 1
    t=$(now)
    wait_for 30 "$HANA_S booted" fate_since 0 " $HANA_S booted" || return 1
    wait_for 60 "$HANA_S rejoined" cluster_ready "$HANA_P" 2 || return 1
    out=$(nx "$HANA_P" stonith_admin --history "$HANA_S" 2>&1) || true
    grep -q "reboot of $HANA_S successful" <<<"$out" || { printf '%s\n' "$out" | indent; fail "no successful reboot in the history"; return 1; }
    say "$HANA_S rebooted and rejoined ($(elapsed "$t")s)"
    hana_wipe "$HANA_P" rsc_fence_aws || return 1
    say "guides/rhel-sap-hana.pcs removed"

    # SLES: external/ec2's parameters (tag, profile); stonith-action=off:
    # the fenced node stays off.
    GUIDE_CLONE=msl_SAPHana_HDB_HDB00 GUIDE_PROPS="stonith-action=off " guide_round guides/sles-sap-hana.crm res_stonith_ec2 || return 1
    guide_fence fence || return 1
    sleep 3
    [[ $(wj_instances | grep -o "\"$HANA_S\": \"[a-z]*\"") == "\"$HANA_S\": \"stopped\"" ]] ||
        { fail "$HANA_S's instance should stay stopped (stonith-action=off): $(wj_instances)"; return 1; }
    no_failures "$HANA_P" || return 1
}
fate_since() { tail -n "+$(($1 + 1))" "$FATE_LOG" | grep -q "$2\$"; } # MARK TEXT
wj_instances() { "$PY" "$E2E_DIR/aws.py" instances --world "$WORLD" --endpoint "$E2E_MOTO"; }

# ------------------------------------------------------------ scenario 15

# hana_pattern TOOL CHANGE: load hana.TOOL; the addresses and the record
# follow the promoted instance; CHANGE moves the promotion to the other
# node (and clears what it left); they follow again.
hana_pattern() {
    local tool=$1 t p s
    t=$(now)
    hana_load node1 "hana.$tool" || return 1
    wait_for 60 "grp_hana on the promoted node, rsc_vip_ro on the unpromoted one" \
        hana_placed node1 cl_hana "rsc_vip rsc_dns" rsc_vip_ro || return 1
    wait_for 30 "fence_nodes started" fence_started node1 || return 1
    p=$HANA_P s=$HANA_S
    say "hana.$tool: cl_hana promoted on $p, unpromoted on $s; grp_hana on $p, rsc_vip_ro on $s ($(elapsed "$t")s)"
    hana_addresses "$p" "$s" routes,record || return 1
    no_failures node1 || return 1
    t=$(now)
    "hana_move_$tool" "$p" "$s" || return 1
    wait_for 60 "promoted on $s, grp_hana there, rsc_vip_ro on $p" \
        hana_placed node1 cl_hana "rsc_vip rsc_dns" rsc_vip_ro "$s" || return 1
    say "promotion moved to $s; the addresses followed in $(elapsed "$t")s"
    promoted_then_started "$s" || return 1
    hana_addresses "$s" "$p" routes,record || return 1
    no_failures node1 || return 1
}
# promoted_then_started NODE: NODE's controller logged the result of
# rsc_hana's promote there before it asked for rsc_vip's start (the order
# constraint at work; one log, so its lines are in time order).
promoted_then_started() {
    local log promote start
    log=$(node_dir "$1")/var/log/pacemaker/pacemaker.log
    promote=$(grep -ni "Result of promote operation for rsc_hana on $1: ok" "$log" | tail -n1 | cut -d: -f1)
    start=$(grep -n "Requesting local execution of start operation for rsc_vip on $1" "$log" | tail -n1 | cut -d: -f1)
    { [[ -n $promote && -n $start ]] && ((promote < start)); } ||
        { fail "$1's log: rsc_hana's promote (line ${promote:-none}) should come before rsc_vip's start (line ${start:-none})"; return 1; }
    say "$1's pacemaker.log: rsc_hana promoted (line $promote), then rsc_vip started (line $start)"
}

hana_move_crm() { # P S: ban the promoted role from P (crm_resource, which crmsh runs)
    say "\$ crm_resource --ban --promoted --resource cl_hana --node $1"
    nx node1 crm_resource --ban --promoted --resource cl_hana --node "$1" 2>&1 | indent
    wait_for 60 "promoted on $2" hana_placed node1 cl_hana "rsc_vip rsc_dns" rsc_vip_ro "$2" || return 1
    say "\$ crm_resource --clear --resource cl_hana"
    nx node1 crm_resource --clear --resource cl_hana 2>&1 | indent
}
hana_move_pcs() { # P S
    say "\$ pcs resource move cl_hana $2 --promoted"
    nx node1 pcs resource move cl_hana "$2" --promoted 2>&1 | nocolour | indent
}

scenario_15() {
    hana_cluster || return 1
    hana_pattern crm || return 1
    hana_wipe node1 fence_nodes || return 1
    say "hana.crm removed"
    hana_pattern pcs || return 1
    # pcs 0.11 removes its move constraint once the move is done.
    if nx node1 cibadmin --query --scope constraints | grep -q 'cli-'; then
        nx node1 cibadmin --query --scope constraints | indent
        fail "pcs resource move left a constraint behind"
        return 1
    fi
}
