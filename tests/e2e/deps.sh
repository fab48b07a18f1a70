#!/usr/bin/env bash
# Debian 12 packages the e2e tests (tests/e2e/run.sh) need, on top of what
# tests/deps.sh installs for the unit/integration tests. Idempotent: checks
# by file or command first and only runs apt-get for what is missing.
#
#   . tests/e2e/deps.sh; e2e_deps        (run.sh does this)
#   bash tests/e2e/deps.sh               (check/install and report)
#
# Debian 12 ships corosync 3.1.7, corosync-qdevice/-qnetd 3.0.3, pacemaker 2.1.5, crmsh 4.4.1, pcs 0.11.5
# and resource-agents 4.12.0. Their postinst scripts try to start services;
# without systemd (CI, containers) policy-rc.d refuses and that is fine: the
# harness starts corosync and pacemakerd itself. pcs pulls in ruby and
# python3 modules for pcsd, which the tests do not use (pcs edits the CIB
# of the local node through cibadmin, no pcsd needed).

e2e_deps() {
    local missing=() c
    command -v corosync >/dev/null || missing+=(corosync)
    command -v pacemakerd >/dev/null || missing+=(pacemaker)
    # crm_mon, cibadmin, crm_resource, attrd_updater (az agent)
    command -v crm_mon >/dev/null && command -v attrd_updater >/dev/null ||
        missing+=(pacemaker-cli-utils)
    command -v crm >/dev/null || missing+=(crmsh)
    # The split-brain scenarios' quorum device (scenarios-quorum.sh).
    command -v corosync-qdevice >/dev/null || missing+=(corosync-qdevice)
    command -v corosync-qnetd >/dev/null || missing+=(corosync-qnetd)
    command -v pcs >/dev/null || missing+=(pcs)
    # ocf-tester, ocf:heartbeat:Dummy, ra-api-1.dtd
    [[ -x /usr/sbin/ocf-tester && -x /usr/lib/ocf/resource.d/heartbeat/Dummy ]] ||
        missing+=(resource-agents)
    command -v xmllint >/dev/null || missing+=(libxml2-utils)
    command -v ip >/dev/null || missing+=(iproute2)
    for c in unshare nsenter; do
        command -v "$c" >/dev/null || { missing+=(util-linux); break; }
    done
    command -v timeout >/dev/null || missing+=(coreutils)
    command -v python3 >/dev/null || missing+=(python3)
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        echo "e2e deps: missing ${missing[*]}: apt-get install --no-install-recommends ${missing[*]}" >&2
        return 1
    fi
    echo "e2e deps: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" </dev/null >&2
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    e2e_deps
    echo "e2e deps: ok ($(dpkg-query -W -f '${Package} ${Version}, ' corosync corosync-qdevice corosync-qnetd pacemaker crmsh pcs resource-agents 2>/dev/null | sed 's/, $//'))"
fi
