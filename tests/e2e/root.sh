#!/usr/bin/env bash
# The cluster stack of another Debian release for the e2e nodes: a root
# built (once, then cached) with debootstrap from the Debian archive plus
# apt-get inside it, which tests/e2e/node-init.sh pivots each node into
# (E2E_DISTRO=trixie, or run.sh --pacemaker3). Debian 13 (trixie) ships
# Pacemaker 3 and Corosync 3.1.9 with crmsh 5 and pcs 0.12: the same
# scenarios then run the agents and the examples under Pacemaker 3.
#
#   bash tests/e2e/root.sh [SUITE]      # build if missing; prints the root's path
#   . tests/e2e/root.sh; e2e_root SUITE # the same, as a function (run.sh)
#
# Cache: $OCF_AWS_ROOT_CACHE (default /var/cache/ocf-aws/roots, shared with
# tests/oldroot.sh), one root per recipe (suite, mirror, package list), so a
# changed list builds a new root; roots of older recipes of the same suite
# are removed. A root appears under its final name only when complete (an
# interrupted build never passes for a cached one); one builder at a time.
# The cached root is never written: each node mounts an overlay over it.
#
# The packages: the cluster stack the harness drives (corosync,
# corosync-cfgtool; pacemakerd and its daemons; crm_mon, crm_resource,
# cibadmin, attrd_updater, stonith_admin; crm; pcs), ocf-tester and its
# xmllint, resource-agents' ra-api-1.dtd / metadata.rng, python3 for the
# node's IMDS emulator, iproute2 for the agents. No fence-agents: fence_ec2
# is ours. policy-rc.d keeps the postinst scripts from starting services.

E2E_ROOT_PACKAGES=(corosync pacemaker pacemaker-cli-utils crmsh pcs resource-agents
    libxml2-utils python3 iproute2 procps psmisc)

e2e_root_die() {
    echo "tests/e2e/root.sh: $*" >&2
    return 1
}

# e2e_root SUITE: the cached root of SUITE, built if missing; prints its path.
e2e_root() {
    local suite=${1:?suite} mirror=${OCF_AWS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
    local cache=${OCF_AWS_ROOT_CACHE:-/var/cache/ocf-aws/roots} recipe base t0 old
    recipe=$(printf '%s\n' "$suite" "$mirror" minbase "${E2E_ROOT_PACKAGES[@]}" | sha256sum | cut -c1-12)
    base=$cache/$suite-e2e-$recipe
    mkdir -p "$cache"
    (
        flock 9
        [[ -x $base/usr/sbin/pacemakerd ]] && exit 0
        # shellcheck source=tests/deps.sh
        command -v debootstrap >/dev/null || { . "$(dirname "${BASH_SOURCE[0]}")/../deps.sh" && deps_apt debootstrap; }
        t0=$SECONDS
        echo "e2e root: debootstrap $suite from $mirror, then apt-get install ${E2E_ROOT_PACKAGES[*]} (once; cached in $cache)" >&2
        # Twice: a mirror's passing hiccup should not fail a CI run.
        local try
        for try in 1 2; do
            rm -rf "$base.tmp"
            debootstrap --variant=minbase "$suite" "$base.tmp" "$mirror" >"$cache/$suite-e2e.log" 2>&1 && break
            tail -n 20 "$cache/$suite-e2e.log" >&2
            ((try < 2)) || { e2e_root_die "debootstrap $suite failed (log: $cache/$suite-e2e.log)"; exit 1; }
            echo "e2e root: debootstrap failed, once more" >&2
        done
        printf '#!/bin/sh\nexit 101\n' >"$base.tmp/usr/sbin/policy-rc.d"
        chmod 0755 "$base.tmp/usr/sbin/policy-rc.d"
        cp /etc/resolv.conf "$base.tmp/etc/resolv.conf"
        # A private mount namespace: /proc and /dev in the root vanish with it.
        # shellcheck disable=SC2016 # expanded by that sh
        unshare --mount --propagation private -- sh -ec '
            r=$1
            shift
            mount -t proc proc "$r/proc"
            mount --rbind /dev "$r/dev"
            chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C \
                sh -ec "apt-get -o Acquire::Retries=3 update -qq &&
                    apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends $* && apt-get clean"
        ' sh "$base.tmp" "${E2E_ROOT_PACKAGES[@]}" </dev/null >>"$cache/$suite-e2e.log" 2>&1 ||
            { tail -n 20 "$cache/$suite-e2e.log" >&2; e2e_root_die "apt-get install in the $suite root failed (log: $cache/$suite-e2e.log)"; exit 1; }
        rm -rf "$base.tmp/var/lib/apt/lists"/*
        [[ -x $base.tmp/usr/sbin/pacemakerd ]] || { e2e_root_die "no pacemakerd in the $suite root"; exit 1; }
        mv "$base.tmp" "$base"
        for old in "$cache/$suite"-e2e-*; do
            [[ $old == "$base" || ! -d $old ]] || rm -rf "$old"
        done
        echo "e2e root: $suite root built in $((SECONDS - t0))s" >&2
    ) 9>"$cache/.lock" || return 1
    echo "$base"
}

# ------------------------------------------------- inside the e2e harness

# e2e_root_layer: run.sh's part, once per run (E2E_DISTRO_ROOT set): the
# package layout of ocf/install.sh in a layer that every node's overlay
# puts over the cached root (E2E_DISTRO_LAYER), and the root's own ids of
# hacluster:haclient for the files the harness makes for the nodes
# (E2E_HA_OWNER: Debian allocates system ids in install order, so they
# differ from the host's).
e2e_root_layer() {
    local r=$E2E_DISTRO_ROOT uid gid
    export E2E_DISTRO_LAYER=$E2E_WORK/distro-layer
    bash "$E2E_ROOT/ocf/install.sh" --root "$E2E_DISTRO_LAYER" "$E2E_BIN" >/dev/null
    uid=$(awk -F: '$1 == "hacluster" { print $3 }' "$r/etc/passwd")
    gid=$(awk -F: '$1 == "haclient" { print $3 }' "$r/etc/group")
    [[ -n $uid && -n $gid ]] || e2e_root_die "no hacluster:haclient in $r" || return 1
    # shellcheck disable=SC2034 # lib.sh's
    E2E_HA_OWNER=$uid:$gid
    # pcs 0.12 runs fence_ec2's validate-all at `pcs stonith create` with an
    # empty environment: it cannot see AWS_ENDPOINT_URL, fails at its
    # power_timeout (60 s) and stonith_admin runs it again, so one example
    # file's pcs commands take ~2 min, over the 120 s Pacemaker 2.1 needs.
    E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-300}
    # shellcheck disable=SC2016 # dpkg-query's ${...}
    E2E_DISTRO_PCMK=$(chroot "$r" dpkg-query -W -f '${Version}' pacemaker | sed 's/^[0-9]*://; s/-[^-]*$//')
    # shellcheck disable=SC2034,SC2016 # run.sh's; dpkg-query's ${...}
    E2E_DISTRO_VERSIONS=$(chroot "$r" dpkg-query -W -f '${Package} ${Version}, ' \
        pacemaker corosync crmsh pcs resource-agents | sed 's/, $//')
}

# e2e_root_check NODE...: cluster_up's part: the nodes' DC runs the root's
# Pacemaker (crm_mon's current_dc version, in each node's view), and so
# does each node's own pacemakerd: proof that the scenario ran on the other
# release, not on the host's stack.
e2e_root_check() {
    local n v
    for n; do
        v=$(pcmk "$n" dc-version)
        [[ $v == "$E2E_DISTRO_PCMK"-* ]] ||
            { fail "$n: the DC runs Pacemaker '$v', not $E2E_DISTRO's $E2E_DISTRO_PCMK"; return 1; }
        v=$(nx "$n" pacemakerd --version | head -n1)
        [[ $v == "Pacemaker $E2E_DISTRO_PCMK" ]] ||
            { fail "$n: pacemakerd --version says '$v', not Pacemaker $E2E_DISTRO_PCMK"; return 1; }
    done
}

# e2e_root_pivot DIR: node-init.sh's part (E2E_DISTRO_ROOT set), first
# thing in the node's fresh mount namespace: the node's own writable view
# of the cached root (an overlay: DIR/fs, changes in DIR/fs-upper) with
# the layer of our binary, /proc, the host's /dev and the work directory at
# its own path (the node's state dirs live there, and so does its IMDS
# script), then pivot_root into it. Every later mount of node-init.sh and
# every `nsenter -m` of the harness then lands in that root: the node's
# daemons, crm, pcs and agents are the other release's.
e2e_root_pivot() {
    local dir=$1 fs=$1/fs
    mkdir -p "$fs" "$dir/fs-upper" "$dir/fs-work"
    mount -t overlay overlay \
        -o "lowerdir=$E2E_DISTRO_LAYER:$E2E_DISTRO_ROOT,upperdir=$dir/fs-upper,workdir=$dir/fs-work" "$fs"
    mount -t proc proc "$fs/proc"
    mount --rbind /dev "$fs/dev"
    mkdir -p "$fs$E2E_WORK" "$fs/.host"
    mount --bind "$E2E_WORK" "$fs$E2E_WORK"
    cd "$fs"
    pivot_root . .host
    cd /
    umount -l /.host
    rmdir /.host
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    [[ $(id -u) -eq 0 ]] || e2e_root_die "needs root (debootstrap, chroot)"
    e2e_root "${1:-trixie}"
fi
