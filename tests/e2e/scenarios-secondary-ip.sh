# shellcheck shell=bash
# The secondary-ip scenario (11): a two-node cluster whose nodes share one
# subnet, as a secondary private IP needs. Sourced by run.sh after
# scenarios.sh, whose helpers (secip_on, crash_dc, ...) it uses.

# ----------------------------------------------------------- scenario 11

secip_group_on() { pcmk "$1" all-on "$2" rsc_secip rsc_app; } # VIEW_NODE NODE

# secondary-ip needs both nodes in the address's subnet: a world of its own
# (--same-subnet: node2 at 10.0.1.20 in node1's 10.0.1.0/24), seeded like
# every scenario's, so no other scenario pays for it. node1 (the DC) holds
# the address and crashes; node2 fences it and takes the address from
# node1's ENI (no stop ran there); node1 boots and rejoins; a graceful move
# brings the address back (node2's stop unassigns it, node1's start
# assigns it).
scenario_11() {
    local t
    t=$(now)
    # No VIP route anywhere: no vip resource in this cluster.
    new_world s11 --same-subnet --owner none --tables 0 --extra-tables-without-route 0 || return 1
    [[ $(wj nodes.node1.subnet_id) == "$(wj nodes.node2.subnet_id)" ]] ||
        { fail "the world's nodes are not in one subnet"; return 1; }
    node_create node1 node1 || return 1
    node_create node2 node2 || return 1
    fate_start || return 1
    cluster_up node1 node2 || return 1
    say "cluster node1 ($(node_ip node1)) + node2 ($(node_ip node2)) up, both in $(wj nodes.node1.subnet_cidr) ($(elapsed "$t")s)"
    nx node1 crm_standby --node node2 --update on || return 1
    load_crm node1 secondary-ip.crm || return 1
    wait_for 60 "grp_app (rsc_secip, rsc_app) started on node1" secip_group_on node1 node1 || return 1
    nx node1 crm_standby --node node2 --update off || return 1
    wait_for 30 "the fence device fence_nodes started" fence_started node1 || return 1
    say "configured with crm-examples/secondary-ip.crm (ip=$(wj secondary_ip)): grp_app on node1 ($(elapsed "$t")s)"
    secip_on node1 node2 || return 1
    no_failures node1 || return 1

    crash_dc node1 node2 || return 1
    t=$CRASH_T
    wait_for 45 "node1 fenced (its instance stopped: powered off)" grep -q ' node1 killed$' "$FATE_LOG" || return 1
    wait_for 30 "grp_app started on node2" secip_group_on node2 node2 || return 1
    say "node2 fenced node1 and started grp_app $(elapsed "$t")s after the crash"
    ! grep -q ' node2 stopped$' "$FATE_LOG" || { fail "node2's instance was stopped"; return 1; }
    wait_for 30 "node1 booted" grep -q ' node1 booted$' "$FATE_LOG" || return 1
    wait_for 60 "node1 rejoined (both nodes online, seen from node2)" cluster_ready node2 2 || return 1
    wait_for 30 "node1 sees both nodes online" cluster_ready node1 2 || return 1
    say "node1 rebooted and rejoined $(elapsed "$t")s after the crash"
    # node1's probe found the address gone: grp_app stays, nothing failed.
    # In EC2 node2's start took the address from node1's ENI (no stop ran
    # there: AllowReassignment).
    secip_group_on node2 node2 || { fail "grp_app left node2 when node1 came back"; return 1; }
    secip_on node2 node1 || return 1
    no_failures node2 || return 1

    t=$(now)
    say "\$ crm resource move grp_app node1"
    nx node2 crm resource move grp_app node1 2>&1 | nocolour | indent
    wait_for 30 "grp_app started on node1" secip_group_on node2 node1 || return 1
    say "moved back to node1 in $(elapsed "$t")s"
    say "\$ crm resource clear grp_app"
    nx node2 crm resource clear grp_app 2>&1 | nocolour | indent
    secip_on node1 node2 || return 1
    no_failures node1 || return 1
    nx node1 crm_mon -1 2>&1 | sed -n '/Node List/,$p' | indent
}
