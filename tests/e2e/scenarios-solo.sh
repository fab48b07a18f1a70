# shellcheck shell=bash
# The single-node e2e scenarios (5, 6, 7): what an installed package shows
# Pacemaker (meta-data, validation), ocf-tester, and every agent's
# crm-examples files. Sourced by run.sh after scenarios.sh, whose helpers
# they use.

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

# meta_valid AGENT: AGENT's meta-data, as the node runs it, is valid against
# the schemas of the node's own release: resource-agents' ra-api-1.dtd and
# metadata.rng and, where Pacemaker ships one (3.x: api/ocf-ra-1.1.rng;
# 2.1 has none), Pacemaker's OCF 1.1 schema. Prints the schemas used.
meta_valid() {
    # shellcheck disable=SC2016 # expanded on the node
    nx solo sh -ec '
        f=/tmp/meta-data-$1.xml
        /usr/lib/ocf/resource.d/aws/$1 meta-data >"$f"
        used=""
        for s in /usr/share/resource-agents/ra-api-1.dtd /usr/share/resource-agents/metadata.rng \
            /usr/share/pacemaker/api/ocf-ra-1.1.rng; do
            case $s in */pacemaker/*) [ -f "$s" ] || continue ;; esac
            case $s in *.dtd) opt=--dtdvalid ;; *) opt=--relaxng ;; esac
            xmllint --noout "$opt" "$s" "$f" 2>"$f.err" || { echo "$s:"; cat "$f.err"; exit 1; }
            used="$used ${s##*/}"
        done
        echo "$used"' sh "$1"
}

scenario_5() {
    local a out
    single_node_cluster --owner node1 --tables 2 || return 1
    for a in $(agents); do
        out=$(meta_valid "$a" 2>&1) || { printf '%s\n' "$out" | indent; fail "ocf:aws:$a meta-data is not valid on solo"; return 1; }
        say "ocf:aws:$a meta-data valid against solo's$out"
    done
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
        # A free address of node1's subnet (solo impersonates node1).
        [secondary-ip]="-o ip=$(wj secondary_ip)"
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
            say "FAIL: ocf-aws --list names $a, which scenario 6 does not know: add its ocf-tester options to O and the API calls its start/stop must make to WANT in tests/e2e/scenarios-solo.sh"
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

# What shows each agent's example resource at work on solo, and where its
# stop leaves something to see, stopped: example_on_<agent> and
# example_off_<agent> ('-' as '_'). Scenario 7 loads the examples of every
# agent of ocf-aws --list and fails on one without example_on_.
example_on_vip() { aws_check node1 routes && { holds_vip solo || fail "solo does not hold the VIP"; }; }
example_off_vip() { ! holds_vip solo || fail "the VIP is still on solo after stop"; } # the routes stay
example_on_eip() { aws_check node1 eip; }
example_off_eip() { # eip's stop disassociates the address
    local st
    st=$(aws_state)
    [[ $(jfield eip_owner <<<"$st") == none ]] || { fail "after stop, the EIP is still associated: $st"; }
}
example_on_dns() { aws_check node1 record; } # its stop leaves the record (by default)
example_on_az() {
    [[ $(nx solo attrd_updater --query --name '#health-aws-az' 2>&1) == *'value="green"'* ]] ||
        fail "az did not publish #health-aws-az=green"
}
example_on_secondary_ip() { secip_on solo; }
example_off_secondary_ip() { secip_gone solo; }

# example_rounds TOOL: the agents whose <agent>.TOOL files load together,
# one round a line. A file that defines the application group grp_app
# (vip, secondary-ip: alternative addresses in front of one application)
# shares a round with no other such file; the rest join the first round.
example_rounds() {
    local a first=() rest=() grouped=""
    for a in $(agents); do
        if grep -qE '^group grp_app |--group grp_app' "$E2E_ROOT/crm-examples/$a.$1"; then
            [[ -z $grouped ]] || { rest+=("$a"); continue; }
            grouped=$a
        fi
        first+=("$a")
    done
    echo "${first[*]}"
    ((${#rest[@]} == 0)) || printf '%s\n' "${rest[@]}"
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
    local n=$1 p execd="" env bad
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

# example_round TOOL AGENT...: load crm-examples/<agent>.TOOL of each AGENT
# into solo's (empty) cluster; every resource they define and fence_nodes
# start, the deep monitors are in the CIB, each agent's resource is at work
# (example_on_) and doctor finds nothing wrong; then remove them all: they
# stop (example_off_).
example_round() {
    local tool=$1 a t cib rsc out level levels=() ids=() ours=() deep=()
    shift
    t=$(now)
    for a in "$@"; do
        if [[ $tool == crm ]]; then
            load_crm solo "$a.crm" || return 1
        else
            load_pcs solo "$a.pcs" || return 1
        fi
    done
    cib=$(nx solo cibadmin --query --scope resources) || return 1
    mapfile -t ids < <(xmllint --xpath '//primitive/@id' - <<<"$cib" | grep -o '"[^"]*"' | tr -d '"')
    [[ " ${ids[*]} " == *" fence_nodes "* ]] || { fail "$tool: no fence device fence_nodes in the CIB: ${ids[*]}"; return 1; }
    wait_for 60 "every example resource started (${ids[*]})" pcmk solo all-on solo "${ids[@]}" || return 1
    say "$(printf 'crm-examples/%s ' "${@/%/.$tool}")loaded: ${ids[*]} started ($(elapsed "$t")s)"
    examples_properties || return 1
    for a in "$@"; do
        rsc=$(xmllint --xpath "string(//primitive[@class='ocf'][@provider='aws'][@type='$a']/@id)" - <<<"$cib")
        [[ -n $rsc ]] || { fail "crm-examples/$a.$tool defines no ocf:aws:$a resource"; return 1; }
        ours+=("$rsc")
        # The file's deep monitors reach the CIB as op instance attributes,
        # where Pacemaker takes OCF_CHECK_LEVEL from.
        mapfile -t levels < <(grep -o 'OCF_CHECK_LEVEL=[0-9]*' "$E2E_ROOT/crm-examples/$a.$tool" | cut -d= -f2 | sort -u)
        for level in "${levels[@]}"; do
            [[ $(xmllint --xpath "count(//primitive[@id='$rsc']/operations/op[@name='monitor']/instance_attributes/nvpair[@name='OCF_CHECK_LEVEL'][@value='$level'])" - <<<"$cib") == 1 ]] ||
                { fail "$tool: $rsc has no monitor with OCF_CHECK_LEVEL=$level in the CIB"; return 1; }
            deep+=("$rsc=$level")
        done
        "example_on_${a//-/_}" || return 1
        # doctor reads the resource from the live CIB (crm_resource) and
        # must find nothing wrong with a cluster that works.
        out=$(nx solo ocf-aws doctor --resource "$rsc" --json) ||
            { fail "$tool: ocf-aws doctor --resource $rsc failed on a healthy cluster: $(tr -s ' \n' ' ' <<<"$out" | head -c 3000)"; return 1; }
        [[ $(jfield ok <<<"$out") == true && $(jfield resource <<<"$out") == "$rsc" ]] ||
            { fail "$tool: doctor --resource $rsc: $out"; return 1; }
    done
    say "ocf-aws doctor --resource: ${ours[*]} all green; deep monitors in the CIB (OCF_CHECK_LEVEL): ${deep[*]:-none}"
    no_failures solo || return 1
    imds_role_used solo || { fail "no agent fetched the instance role's credentials from IMDS"; return 1; }
    # Remove the resources (Pacemaker stops them) before the next round.
    # The fence device goes last: with stonith-enabled=true and no device,
    # Pacemaker leaves active resources unmanaged, unstopped.
    t=$(now)
    local fence
    fence=$(nx solo cibadmin --query --xpath "//primitive[@id='fence_nodes']") || return 1
    nx solo cibadmin --replace --scope resources --xml-text "<resources>$fence</resources>" || return 1
    nx solo cibadmin --replace --scope constraints --xml-text '<constraints/>' || return 1
    local r others=()
    for r in "${ids[@]}"; do [[ $r == fence_nodes ]] || others+=("$r"); done
    wait_for 60 "every resource but fence_nodes stopped" all_stopped solo "${others[@]}" || return 1
    nx solo cibadmin --replace --scope resources --xml-text '<resources/>' || return 1
    wait_for 30 "fence_nodes stopped" pcmk solo idle || return 1
    for a in "$@"; do
        ! declare -F "example_off_${a//-/_}" >/dev/null || "example_off_${a//-/_}" || return 1
    done
    say "resources removed and stopped ($(elapsed "$t")s)"
    nx solo crm_resource --cleanup >/dev/null 2>&1 || true
}

scenario_7() {
    local a f tool round rounds=()
    single_node_cluster --owner node2 --tables 2 || return 1
    check_agent_environment solo || return 1
    for a in $(agents); do
        for f in "$a.crm" "$a.pcs"; do
            [[ -f $E2E_ROOT/crm-examples/$f ]] || { fail "ocf-aws --list names $a, but there is no crm-examples/$f"; return 1; }
        done
        declare -F "example_on_${a//-/_}" >/dev/null ||
            { fail "ocf-aws --list names $a, which scenario 7 does not know: add example_on_${a//-/_} (what shows its example resource at work) to tests/e2e/scenarios-solo.sh"; return 1; }
    done
    for tool in crm pcs; do
        mapfile -t rounds < <(example_rounds "$tool")
        for round in "${rounds[@]}"; do
            # shellcheck disable=SC2086 # a round is a list of agents
            example_round "$tool" $round || return 1
        done
    done
}
