#!/usr/bin/env bash
# End-to-end tests: real Pacemaker 2.1 + Corosync 3 (Debian 12 packages) run
# the ocf-aws agents against the emulated AWS, in one- and two-node clusters
# whose nodes are network + mount + UTS namespaces of this machine.
#
#   bash tests/e2e/run.sh            # every scenario (as root)
#   bash tests/e2e/run.sh 1 4        # only scenarios 1 and 4
#   E2E_RUNS=3 bash tests/e2e/run.sh 1   # scenario 1 three times (timeline median)
#   E2E_KEEP=1 ...                   # keep the work directory (logs) even on success
#   bash tests/e2e/run.sh --full     # the long-settle variants too (E2E_RUNS=5,
#                                    # scenario 10 waits for green again)
#   bash tests/e2e/run.sh --pacemaker3 [N...]  # the nodes run Debian 13's Pacemaker 3
#                                    # (E2E_DISTRO=trixie; tests/e2e/root.sh), by
#                                    # default the core scenarios 1 5 6 7
#
# Scenarios (tests/e2e/scenarios*.sh; README.md there says more):
#   1 crash failover of vip+eip+dns (crm group.crm): SIGKILL node1's corosync + pacemakerd,
#     node2 fences node1 with fence_ec2, then starts the group
#   2 graceful move and back (pcs group.pcs; pcs resource move, crm resource move)
#   3 AZ health: node1's zone impaired -> #health-aws-az red -> group leaves; green again
#   4 misconfiguration: VIP inside the VPC CIDR -> stopped everywhere, exit reason shown
#   5 meta-data and validation: crm ra info, pcs resource describe, crm_resource --validate
#   6 ocf-tester for every agent
#   7 every agent's crm-examples files (ocf-aws --list; crmsh and pcs) load and their resources start
#   8 fencing reboot: stonith_admin --reboot node1; node1 off, group on node2, node1 rejoins
#   9 split: cluster link cut, both reach AWS; exactly one survivor (pcmk_delay_max)
#  10 AZ health with pcs (group.pcs)
#  11 secondary-ip, both nodes in one subnet (secondary-ip.crm): crash of node1 ->
#     fenced, the address moves to node2's ENI and device; move back
#  14 AWS's SAP HANA guides (guides/rhel-sap-hana.pcs, guides/sles-sap-hana.crm), only the
#     agent names changed: load without --force, start, addresses, fencing (reboot, off)
#  15 SAP HANA pattern (hana.crm, hana.pcs): addresses follow the promoted instance
#  12 migration: a cluster on ClusterLabs' agents and fence_aws, `ocf-aws migrate
#     --apply` (nothing moves), then a crash of node1 fails over with ours
#  q1-q6 split brain (scenarios-quorum.sh): quorum device with the api-reachable
#     heuristic, three AZs, soak (E2E_SOAK=N rounds), priority-fencing-delay
#  token (--full or by name): scenario 1's crash failover once with corosync's
#     token at 30000 ms, as production guides set it
#
#   bash tests/e2e/run.sh --stream 1/2   # every 2nd scenario from the 1st on, and
#                                    # --stream 2/2 the others: each run is its own
#                                    # PID + mount + network namespace with its own
#                                    # emulated AWS, so the two run side by side
#                                    # (tests/run.sh does, with --pacemaker3 after 2/2)
#   bash tests/e2e/run.sh --prepare  # install and build what a run needs, then exit
#                                    # (before runs that go side by side: they would
#                                    # otherwise install at the same time)
#
# Every cluster runs with fencing (fence_ec2 from the example files) and a
# fate watcher that turns a stopped instance into a dead node (lib.sh).
#
# Prints `e2e: N passed, M failed` last; exits non-zero if anything failed.
# Everything runs inside a private PID + mount + network namespace made by
# unshare: when this script ends, however it ends, the kernel kills every
# process it started and removes every namespace, mount and interface.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_DIR/../.." && pwd)
ALL_SCENARIOS=(1 2 3 4 5 6 7 8 9 10 11 12 14 15)
# What --pacemaker3 runs when no scenario is named (tests/run.sh's gate).
CORE_SCENARIOS=(1 5 6 7)
# Split brain (scenarios-quorum.sh): named, not numbered.
ALL_SCENARIOS+=(q1 q2 q3 q4)
# Only asked for by name, or with --full: q5 and q6 repeat q2's and q1's
# cluster with priority-fencing-delay and against ffsplit's tie-breaker.
FULL_SCENARIOS=(q6 q5 token)

# ----------------------------------------------------------------- outside
if [[ ${1:-} != --inside ]]; then
    cd "$E2E_ROOT"
    args=()
    prepare_only="" stream_next=""
    for a in "$@"; do
        if [[ -n $stream_next ]]; then
            E2E_STREAM=$a stream_next=""
            continue
        fi
        case $a in
            --full) E2E_FULL=1 ;;
            --pacemaker3) E2E_DISTRO=trixie ;;
            --prepare) prepare_only=1 ;;
            --stream=*) E2E_STREAM=${a#--stream=} ;;
            --stream) stream_next=1 ;;
            *) args+=("$a") ;;
        esac
    done
    set -- "${args[@]}"
    if [[ -n ${E2E_STREAM:-} ]]; then
        [[ $E2E_STREAM =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ ]] && ((BASH_REMATCH[1] <= BASH_REMATCH[2])) ||
            { echo "tests/e2e/run.sh: --stream takes K/N with 1 <= K <= N, not '$E2E_STREAM'" >&2; exit 2; }
        (($# == 0)) || { echo "tests/e2e/run.sh: --stream picks the scenarios itself; name none" >&2; exit 2; }
    fi
    [[ -z ${E2E_DISTRO:-} ]] || (($#)) || set -- "${CORE_SCENARIOS[@]}"
    [[ -z ${E2E_FULL:-} ]] || { E2E_RUNS=${E2E_RUNS:-5}; E2E_TIMEOUT=${E2E_TIMEOUT:-2400}; }
    if [[ $(id -u) -ne 0 ]]; then
        echo "tests/e2e/run.sh must run as root: it creates namespaces and runs Pacemaker (try: sudo bash tests/e2e/run.sh)" >&2
        exit 1
    fi
    # E2E_EXTRA=FILE: one more file of scenarios (demo/failover.sh), whose
    # scenario_<name> functions may be asked for by name.
    for s in "$@"; do
        [[ -n ${E2E_EXTRA:-} || " ${ALL_SCENARIOS[*]} ${FULL_SCENARIOS[*]} " == *" $s "* ]] || {
            echo "tests/e2e/run.sh: no scenario '$s' (have: ${ALL_SCENARIOS[*]})" >&2
            exit 2
        }
    done
    # shellcheck source=tests/e2e/deps.sh
    . "$E2E_DIR/deps.sh"
    e2e_deps
    distro_root=""
    if [[ -n ${E2E_DISTRO:-} ]]; then
        # shellcheck source=tests/e2e/root.sh
        . "$E2E_DIR/root.sh"
        distro_root=$(e2e_root "$E2E_DISTRO")
    fi
    venv=$(bash tests/world/setup-venv.sh | tail -n1)
    # Scenario 12 runs the ClusterLabs agents: the benchmark's pinned AWS CLI
    # v1 and fence_aws's newer boto3 (bench/setup-*.sh), where the nodes see
    # them (a node's /tmp is its own: not under a checkout in /tmp).
    awscli_venv="" fence_aws_path=""
    if (($# == 0)) || [[ " $* " == *" 12 "* ]]; then
        if [[ $E2E_ROOT == /tmp/* ]]; then
            export OCF_AWS_AWSCLI_VENV=${OCF_AWS_AWSCLI_VENV:-/var/tmp/ocf-aws-e2e-venv-awscli}
            export OCF_AWS_FENCE_AWS_DIR=${OCF_AWS_FENCE_AWS_DIR:-/var/tmp/ocf-aws-e2e-fence-aws}
        fi
        awscli_venv=$(bash bench/setup-awscli.sh | tail -n1)
        fence_aws_path=$(bash bench/setup-fence-aws.sh | tail -n1)
    fi
    bin=$(cd "${CARGO_TARGET_DIR:-target}" 2>/dev/null && pwd)/debug/ocf-aws || true
    if [[ ! -x ${bin:-} ]]; then
        echo "==> cargo build (target/debug/ocf-aws is missing)" >&2
        # shellcheck source=tests/deps.sh
        . tests/deps.sh
        deps_rust
        cargo build
        bin=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/ocf-aws
    fi
    if [[ -n $prepare_only ]]; then
        echo "==> e2e: prepared (Debian packages, venvs${distro_root:+, the $E2E_DISTRO root}, $bin)" >&2
        exit 0
    fi
    work=$(mktemp -d /var/tmp/ocf-aws-e2e.XXXXXX)
    chmod 0755 "$work"
    echo "==> e2e: work directory $work" >&2
    rc=0
    # --kill-child: if this shell (or CI) kills unshare, the namespace's init
    # gets SIGKILL and the kernel kills everything else in the namespace.
    timeout --kill-after=10 "${E2E_TIMEOUT:-1500}" \
        unshare --pid --fork --kill-child --mount-proc --mount --propagation private --net -- \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LC_ALL=C.UTF-8 E2E_VENV="$venv" E2E_BIN="$bin" E2E_WORK="$work" \
        E2E_RUNS="${E2E_RUNS:-3}" E2E_VERBOSE="${E2E_VERBOSE:-}" E2E_FULL="${E2E_FULL:-}" \
        E2E_BOOT_MS="${E2E_BOOT_MS:-2000}" E2E_TIMEOUT="${E2E_TIMEOUT:-1500}" \
        E2E_EXTRA="${E2E_EXTRA:-}" COLUMNS="${COLUMNS:-}" \
        E2E_AWSCLI_VENV="$awscli_venv" E2E_FENCE_AWS_PYTHONPATH="$fence_aws_path" \
        E2E_CMD_TIMEOUT="${E2E_CMD_TIMEOUT:-}" E2E_DISTRO="${E2E_DISTRO:-}" E2E_DISTRO_ROOT="$distro_root" \
        E2E_SOAK="${E2E_SOAK:-}" E2E_STALE="${E2E_STALE:-}" E2E_TOKEN="${E2E_TOKEN:-}" \
        E2E_STREAM="${E2E_STREAM:-}" \
        bash "$E2E_DIR/run.sh" --inside "$@" || rc=$?
    if ((rc == 124 || rc == 137)); then
        echo "e2e: timed out after ${E2E_TIMEOUT:-1500}s (E2E_TIMEOUT); logs in $work" >&2
        echo "e2e: 0 passed, 1 failed"
    fi
    if ((rc == 0)) && [[ -z ${E2E_KEEP:-} ]]; then
        rm -rf "$work"
    else
        echo "==> e2e: logs kept in $work (each node: nodes/<name>/var/log/{corosync,pacemaker})" >&2
    fi
    exit "$rc"
fi

# ------------------------------------------------------------------ inside
# PID 1 of a fresh PID namespace, in private mount and network namespaces.
shift
PY=$E2E_VENV/bin/python
# shellcheck source=tests/e2e/lib.sh
. "$E2E_DIR/lib.sh"
# shellcheck source=tests/e2e/scenarios.sh
. "$E2E_DIR/scenarios.sh"
# shellcheck source=tests/e2e/scenarios-solo.sh
. "$E2E_DIR/scenarios-solo.sh"
# shellcheck source=tests/e2e/scenarios-secondary-ip.sh
. "$E2E_DIR/scenarios-secondary-ip.sh"
# shellcheck source=tests/e2e/scenarios-hana.sh
. "$E2E_DIR/scenarios-hana.sh"
# shellcheck source=tests/e2e/scenarios-migrate.sh
. "$E2E_DIR/scenarios-migrate.sh"
# shellcheck source=tests/e2e/scenarios-quorum.sh
. "$E2E_DIR/scenarios-quorum.sh"
if [[ -n ${E2E_EXTRA:-} ]]; then
    # shellcheck disable=SC1090
    . "$E2E_EXTRA"
fi

cleanup() {
    trap - EXIT INT TERM
    kill_all_nodes 2>/dev/null || true
    # Our helpers (moto, proxy, dns, watchers) die with this PID namespace.
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# sysfs of this (private) network namespace, not the host's.
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys

# The package layout, installed for real by ocf/install.sh at /usr/lib/ocf and
# /usr/sbin, onto an overlay of /usr that only this mount namespace (and the
# nodes made inside it) sees: the host's /usr is never written.
mkdir -p "$E2E_WORK/usr-upper" "$E2E_WORK/usr-work"
mount -t overlay overlay \
    -o "lowerdir=/usr,upperdir=$E2E_WORK/usr-upper,workdir=$E2E_WORK/usr-work" /usr
bash "$E2E_ROOT/ocf/install.sh" "$E2E_BIN" >/dev/null
links=()
for l in /usr/lib/ocf/resource.d/aws/*; do links+=("${l##*/} -> $(readlink "$l")"); done
say "installed by ocf/install.sh: /usr/lib/ocf/lib/aws/ocf-aws; /usr/lib/ocf/resource.d/aws/{$(IFS=,; echo "${links[*]}")}"
if [[ -n $E2E_DISTRO_ROOT ]]; then
    # The nodes pivot into a $E2E_DISTRO root (node-init.sh); the same
    # layout goes into a layer over it.
    # shellcheck source=tests/e2e/root.sh
    . "$E2E_DIR/root.sh"
    e2e_root_layer || exit 1
    say "nodes run Debian $(cat "$E2E_DISTRO_ROOT/etc/debian_version") ($E2E_DISTRO, $E2E_DISTRO_ROOT): $E2E_DISTRO_VERSIONS"
fi

aws_up || { echo "e2e: could not start the emulated AWS"; exit 1; }
say "emulated AWS: moto $E2E_MOTO, API endpoint $E2E_API (fault_proxy), resolver $E2E_RESOLVER_IP:53"

selected=("$@")
if ((${#selected[@]} == 0)); then
    selected=("${ALL_SCENARIOS[@]}")
    [[ -z ${E2E_FULL:-} ]] || selected+=("${FULL_SCENARIOS[@]}")
fi
if [[ -n ${E2E_STREAM:-} ]]; then
    # Round robin over the list: the streams come out about as long as
    # each other (the list mixes short and long scenarios), and a scenario
    # added to the list lands in one of them.
    k=${E2E_STREAM%/*} n=${E2E_STREAM#*/} mine=()
    for i in "${!selected[@]}"; do
        ((i % n == k - 1)) && mine+=("${selected[$i]}")
    done
    selected=("${mine[@]}")
    say "stream $E2E_STREAM: scenarios ${selected[*]}"
fi
passed=0 failed=0
declare -a results=()
for s in "${selected[@]}"; do
    t=$(now)
    printf '\n'
    say "=== scenario $s: ${SCENARIO_TITLE[$s]}"
    SCENARIO=$s
    # A subshell: the scenario's variables (and any background helper it
    # lists in BG_PIDS) end with it; its nodes are killed below.
    if (
        BG_PIDS=()
        trap '((${#BG_PIDS[@]} == 0)) || kill "${BG_PIDS[@]}" 2>/dev/null || true' EXIT
        "scenario_$s" || { diag; exit 1; }
    ); then
        r=PASS
        passed=$((passed + 1))
    else
        r=FAIL
        failed=$((failed + 1))
    fi
    kill_all_nodes
    results+=("$(printf 'scenario %s %-4s %6ss  %s' "$s" "$r" "$(elapsed "$t")" "${SCENARIO_TITLE[$s]}")")
    say "=== scenario $s: $r in $(elapsed "$t")s"
done

printf '\n'
printf '%s\n' "${results[@]}"
echo "e2e: $passed passed, $failed failed"
((failed == 0))
