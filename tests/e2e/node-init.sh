#!/usr/bin/env bash
# First process of a simulated cluster node. tests/e2e/lib.sh starts it as
#     unshare --net --mount --uts --ipc --propagation private -- node-init.sh NAME DIR
# so it is already alone in fresh network, mount, UTS and IPC namespaces. It
# makes the node's private view of the file system, then sleeps forever: it
# holds the namespaces, and every command for the node enters them with
# `nsenter -t <this pid> -n -m -u -i`. Killing it (and everything else in its
# network namespace, see node_kill_all) makes the node vanish.
#
# DIR (on the real disk, so logs survive for a post-mortem) holds the node's
# state; each path below is bind-mounted over the system one:
#     DIR/etc/corosync        -> /etc/corosync
#     DIR/var/lib/corosync    -> /var/lib/corosync
#     DIR/var/lib/pacemaker   -> /var/lib/pacemaker   (cib/, pengine/, cores/, blackbox/)
#     DIR/var/log             -> /var/log     (corosync/, pacemaker/, crmsh/, ...)
#     DIR/root                -> /root        (crmsh's and pcs's caches)
#     DIR/tmp                 -> /tmp
#     DIR/etc/default/pacemaker, DIR/etc/hosts, DIR/etc/resolv.conf (files)
# and /run and /dev/shm get fresh tmpfs instances (libqb keeps its IPC ring
# buffers in /dev/shm: each node needs its own). /sys is remounted so that
# /sys/class/net lists this node's devices (the agents map the instance
# metadata's MAC to a device through it).
set -euo pipefail
name=$1 dir=$2

hostname "$name"
# Another release's cluster stack (run.sh --pacemaker3): the node's root
# becomes an overlay of that root (tests/e2e/root.sh); all below happens in it.
if [[ -n ${E2E_DISTRO_ROOT:-} ]]; then
    # shellcheck source=tests/e2e/root.sh
    . "$(dirname "${BASH_SOURCE[0]}")/root.sh"
    e2e_root_pivot "$dir"
fi
# sysfs shows the network devices of the namespace that mounts it.
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys

# A new mount namespace inherits the parent's /run/netns/* bind mounts (each
# one pins a network namespace); drop them before /run is replaced.
if [[ -d /run/netns ]]; then
    for m in /run/netns/*; do
        if [[ -e $m ]]; then umount -l "$m" 2>/dev/null || true; fi
    done
fi

for d in etc/corosync var/lib/corosync var/lib/pacemaker var/log root tmp; do
    mount --bind "$dir/$d" "/$d"
done
for f in etc/default/pacemaker etc/hosts etc/resolv.conf; do
    mount --bind "$dir/$f" "/$f"
done
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
# Pacemaker (and our agents, HA_LOGFACILITY=daemon) also log to syslog: never
# into the host's.
if [[ -e /dev/log ]]; then mount --bind /dev/null /dev/log; fi
# What the packages' tmpfiles.d would create at boot.
mkdir -p /run/resource-agents /run/crm /run/lock
chown hacluster:haclient /run/crm
chmod 0750 /run/crm

ip link set lo up
echo ready >"$dir/ready"
exec sleep infinity
