#!/usr/bin/env bash
# What the tests and the demo need on a Debian 12 machine, in one place so
# tests/run.sh and demo/failover.sh cannot drift apart.
#
# Source it, then call the functions (sourcing lets deps_rust put a rustup
# toolchain on the caller's PATH):
#     . tests/deps.sh; deps_packages; deps_rust
# or run it directly to check/install both: bash tests/deps.sh
#
# Presence is checked by command or file, not with dpkg queries: it is
# instant, and it also accepts tools that came from somewhere other than a
# Debian package (pyenv's python, a rustup toolchain).

# Oldest rustc that builds this tree: the rust-version of aws-config /
# aws-sdk-ec2 as locked in Cargo.lock (higher than Cargo.toml's own).
DEPS_MIN_RUST=1.94.1

deps_die() {
    echo "deps: $*" >&2
    exit 1
}

# deps_version_le A B: whether version A is at most B (sort -V order); an
# empty A (a version that could not be read) is not.
deps_version_le() {
    [[ -n $1 && $(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1) == "$1" ]]
}

# The newest glibc the released binary may require (packaging/release.sh
# builds for it, tests/packaging.sh checks the shipped binary against it):
# 2.17 is the oldest Rust supports, below RHEL 8's 2.28 and Amazon Linux
# 2's 2.26.
DEPS_GLIBC_FLOOR=2.17

# deps_glibc_needed BIN: the newest GLIBC_x.y symbol version BIN's dynamic
# symbol table asks for, as the loader reads it (objdump -T).
deps_glibc_needed() {
    objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1
}

# deps_apt PKG...: install Debian packages, non-interactively, as root.
deps_apt() {
    (($#)) || return 0
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        deps_die "missing: $*; install them (apt-get install --no-install-recommends $*) and retry"
    fi
    echo "deps: installing $*" >&2
    # update only when something is missing: it is the slow part, and a
    # machine that has everything should not need the network.
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null >&2
}

# Install missing Debian packages, non-interactively.
deps_packages() {
    local missing=() c
    command -v ip >/dev/null || missing+=(iproute2)
    command -v xmllint >/dev/null || missing+=(libxml2-utils)
    # The meta-data tests validate against these two files.
    [[ -f /usr/share/resource-agents/ra-api-1.dtd && -f /usr/share/resource-agents/metadata.rng ]] ||
        missing+=(resource-agents)
    # The fence agents' metadata test validates against fence-agents' schema.
    [[ -f /usr/share/cluster/relaxng/metadata.rng ]] || missing+=(fence-agents)
    command -v python3 >/dev/null || missing+=(python3)
    # Debian ships ensurepip (needed by `python3 -m venv`) in python3-venv.
    python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    for c in setpriv unshare flock; do
        command -v "$c" >/dev/null || { missing+=(util-linux); break; }
    done
    # tests/run.sh ends the second e2e stream's process tree with pgrep.
    command -v pgrep >/dev/null || missing+=(procps)
    # pip fetches the pinned moto venv over HTTPS.
    [[ -f /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
    # aws-lc-sys (rustls' crypto) compiles C code.
    command -v cc >/dev/null || missing+=(gcc)
    [[ -f /usr/include/stdio.h ]] || missing+=(libc6-dev)

    deps_apt "${missing[@]}"
}

# A cargo new enough for the AWS SDK, with a hint where to get one.
deps_rust() {
    local cargo_bin=${CARGO_HOME:-${HOME:-/root}/.cargo}/bin
    # rustup installs into ~/.cargo/bin but only login shells pick that up;
    # CI runs `bash .ci/run` without one.
    if ! command -v cargo >/dev/null && [[ -x $cargo_bin/cargo ]]; then
        export PATH=$cargo_bin:$PATH
    fi
    local hint="install a current toolchain with rustup: curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt && . \"\$HOME/.cargo/env\" (Debian's own cargo/rustc are far too old: the AWS SDK needs rustc >= $DEPS_MIN_RUST)"
    command -v cargo >/dev/null || deps_die "cargo not found; $hint"
    command -v rustc >/dev/null || deps_die "rustc not found; $hint"
    local have
    have=$(rustc --version | awk '{print $2}')
    have=${have%%-*}
    if ! deps_version_le "$DEPS_MIN_RUST" "$have"; then
        deps_die "rustc $have is older than $DEPS_MIN_RUST ($(command -v rustc)); update it (rustup update stable) or $hint"
    fi
}

# Packages of the end-to-end tests (Pacemaker, Corosync, crmsh, pcs,
# resource-agents); tests/e2e/deps.sh owns the list.
deps_e2e() {
    # shellcheck source=tests/e2e/deps.sh
    . "$(dirname "${BASH_SOURCE[0]}")/e2e/deps.sh"
    e2e_deps || deps_die "could not install the e2e packages (tests/e2e/deps.sh)"
}

# What bench/run.sh needs besides deps_packages: the ClusterLabs agents it
# compares against (Debian resource-agents, and fence-agents for fence_aws)
# and the tools they shell out to (curl, dig, ip); their AWS CLI and
# fence_aws's newer boto3 come from PyPI (bench/setup-awscli.sh,
# bench/setup-fence-aws.sh).
deps_bench() {
    local missing=()
    [[ -x /usr/lib/ocf/resource.d/heartbeat/aws-vpc-move-ip && -x /usr/lib/ocf/resource.d/heartbeat/awseip &&
        -x /usr/lib/ocf/resource.d/heartbeat/aws-vpc-route53 ]] || missing+=(resource-agents)
    # fence_aws and the fencing library it imports (/usr/share/fence).
    [[ -x /usr/sbin/fence_aws && -f /usr/share/fence/fencing.py ]] || missing+=(fence-agents)
    # fence_aws imports requests (python3-requests, a dependency of
    # fence-agents); its boto3 comes from bench/setup-fence-aws.sh.
    command -v curl >/dev/null || missing+=(curl)
    command -v dig >/dev/null || missing+=(bind9-dnsutils)
    command -v ip >/dev/null || missing+=(iproute2)
    deps_apt "${missing[@]}"
}

# Tools of packaging/build.sh and tests/packaging.sh: rpmbuild (Debian's rpm
# package), dpkg-shlibdeps (dpkg-dev; cargo-deb's $auto dependencies), man
# and groff to render the pages, xmllint, what tests/packaging.sh asks about
# the installed agents (crm_resource and stonith_admin from
# pacemaker-cli-utils, pcs, crmsh), and cargo-deb, pinned because its asset and
# symlink handling changed between releases. Call after deps_rust.
DEPS_CARGO_DEB=3.8.0
deps_packaging() {
    local missing=()
    command -v rpmbuild >/dev/null || missing+=(rpm)
    command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev)
    command -v man >/dev/null || missing+=(man-db)
    command -v groff >/dev/null || missing+=(groff-base)
    command -v xmllint >/dev/null || missing+=(libxml2-utils)
    command -v crm_resource >/dev/null && command -v stonith_admin >/dev/null || missing+=(pacemaker-cli-utils)
    command -v pcs >/dev/null || missing+=(pcs)
    command -v crm >/dev/null || missing+=(crmsh)
    # The packages' linters, the release binary's glibc check (objdump) and
    # tests/oldroot.sh's Debian 11 root.
    command -v lintian >/dev/null || missing+=(lintian)
    command -v rpmlint >/dev/null || missing+=(rpmlint)
    command -v objdump >/dev/null || missing+=(binutils)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    deps_apt "${missing[@]}"
    if [[ $(cargo deb --version 2>/dev/null) != "cargo-deb $DEPS_CARGO_DEB" ]]; then
        echo "deps: cargo install cargo-deb $DEPS_CARGO_DEB (about 2 minutes, once)" >&2
        cargo install --locked --quiet cargo-deb --version "$DEPS_CARGO_DEB" >&2
    fi
}

# The portable release build (packaging/release.sh): cargo-zigbuild links
# against an older glibc's symbol versions through Zig's bundled glibc
# stubs, so the binary built on Debian 12 starts on RHEL 8, SLES 15 and
# Amazon Linux 2. Both pinned: Zig 0.16's archiver cannot create archives
# (cc-rs's static libraries, aws-lc-sys's among them), and cargo-zigbuild
# follows Zig's command-line changes release by release. Zig comes from
# PyPI's ziglang wheel, in a venv of its own; cargo-zigbuild finds it as
# `python3 -m ziglang` once that venv's bin is first on PATH (exported).
DEPS_ZIG=0.14.1
DEPS_CARGO_ZIGBUILD=0.24.1
deps_zigbuild() {
    local venv=${OCF_AWS_ZIG_VENV:-$(dirname "${BASH_SOURCE[0]}")/../.venv-zig}
    if [[ $("$venv/bin/python" -m ziglang version 2>/dev/null) != "$DEPS_ZIG" ]]; then
        echo "deps: ziglang $DEPS_ZIG from PyPI into $venv (once)" >&2
        rm -rf "$venv"
        python3 -m venv "$venv" >&2 || deps_die "python3 -m venv failed (apt-get install python3-venv)"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "ziglang==$DEPS_ZIG" >&2 ||
            deps_die "pip install ziglang==$DEPS_ZIG failed"
    fi
    venv=$(cd "$venv" && pwd)
    export PATH=$venv/bin:$PATH
    if [[ $(cargo-zigbuild --version 2>/dev/null) != "cargo-zigbuild $DEPS_CARGO_ZIGBUILD" ]]; then
        echo "deps: cargo install cargo-zigbuild $DEPS_CARGO_ZIGBUILD (about 2 minutes, once)" >&2
        cargo install --locked --quiet cargo-zigbuild --version "$DEPS_CARGO_ZIGBUILD" >&2
    fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    deps_packages
    deps_rust
    echo "deps: ok ($(rustc --version))"
fi
