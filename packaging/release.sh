#!/usr/bin/env bash
# The released binary: cargo's release profile, linked (by cargo-zigbuild)
# against the symbol versions of an old glibc so that one x86-64 binary
# starts on every distribution our users run Pacemaker on:
#
#   RHEL 8 (glibc 2.28), RHEL 9 (2.34), SLES 15 SP4-SP6 (2.31),
#   Amazon Linux 2 (2.26), Amazon Linux 2023 (2.34), Debian 11/12,
#   Ubuntu 20.04 (2.31) and newer.
#
#   bash packaging/release.sh [--target TRIPLE] [--glibc X.Y]
#       TRIPLE  x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu (default:
#               this machine's, $(uname -m)-unknown-linux-gnu)
#               (Graviton: needs `rustup target add aarch64-unknown-linux-gnu`,
#               which these build machines cannot install; not yet run here)
#       X.Y     the newest glibc the binary may require (default 2.17, the
#               oldest Rust supports)
#
# Prints the binary's path as its last line. Fails when the binary requires
# a GLIBC symbol version above X.Y (the check reads the dynamic symbol
# table, as the loader does), so a dependency that sneaks in a newer symbol
# cannot ship. Development builds stay plain `cargo build`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tests/deps.sh
. tests/deps.sh

# The build machine's architecture unless told otherwise (uname -m: x86_64,
# aarch64 on Graviton).
target=$(uname -m)-unknown-linux-gnu
glibc=$DEPS_GLIBC_FLOOR
while (($#)); do
    case $1 in
        --target) target=${2:?--target needs a triple}; shift 2 ;;
        --glibc) glibc=${2:?--glibc needs a version}; shift 2 ;;
        *) deps_die "release.sh: unknown option $1 (--target TRIPLE, --glibc X.Y)" ;;
    esac
done
[[ $glibc =~ ^2\.[0-9]+$ ]] || deps_die "release.sh: --glibc $glibc is not of the form 2.NN"

deps_rust
deps_zigbuild
command -v objdump >/dev/null || deps_apt binutils

t0=$SECONDS
cargo zigbuild --release --locked --target "$target.$glibc" >&2
bin=${CARGO_TARGET_DIR:-$root/target}/$target/release/ocf-aws
[[ -x $bin ]] || deps_die "release.sh: cargo zigbuild wrote no $bin"

needed=$(deps_glibc_needed "$bin")
[[ -n $needed ]] || deps_die "release.sh: no GLIBC symbol versions in $bin (not a glibc binary?)"
if ! deps_version_le "$needed" "$glibc"; then
    objdump -T "$bin" | grep "GLIBC_$needed" >&2
    deps_die "release.sh: $bin requires GLIBC_$needed, above the target $glibc (symbols above)"
fi
echo "release.sh: $target binary in $((SECONDS - t0))s, $(stat -c %s "$bin") bytes, requires glibc >= $needed (target $glibc)" >&2
echo "$bin"
