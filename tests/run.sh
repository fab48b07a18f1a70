#!/usr/bin/env bash
# THE test command: what CI runs (.ci/run) and what a developer runs before
# pushing. On a fresh Debian 12 machine it installs what it needs, then runs
# fmt, clippy, the test world's self-check, the unit tests and the one
# integration-test binary (tests/it), the end-to-end clusters (Pacemaker 2.1,
# then the core scenarios under Pacemaker 3), the packages and the
# benchmark's quick mode.
#
#   bash tests/run.sh                      # as root, from any directory
#   OCF_AWS_SKIP_LINT=1 bash tests/run.sh  # skip fmt/clippy (local quick runs)
#
# Root is required because the integration tests give themselves a private
# network namespace with real interfaces (nothing touches the host's).
# A cold build of the AWS SDK takes ~5 min on 2 cores; later runs are quick.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

start=$SECONDS
layout=""
stage() {
    printf '\n==> [%3ds] %s\n' "$((SECONDS - start))" "$*"
}
release_pid=""
release_log=""
clippy_pid=""
clippy_log=""
e2e_pid=""
summary=""
# add_counts LOG NAME: adds LOG's closing "NAME: N passed, M failed" line
# to $summary (the one closing line of this script).
add_counts() {
    summary=$(awk -v s="$summary" -v re="^$2: [0-9]+ passed, [0-9]+ failed\$" '$0 ~ re { split(s, a, " "); printf "%d passed, %d failed", a[1] + $2, a[3] + $4; found = 1 } END { if (!found) print s }' "$1")
}
kill_tree() { # PID: TERM to PID and every descendant, children first
    local c
    for c in $(pgrep -P "$1"); do kill_tree "$c"; done
    kill -TERM "$1" 2>/dev/null || true
}
finish() {
    local rc=$?
    [[ -z $layout ]] || rm -rf "$layout"
    [[ -z $release_pid ]] || kill "$release_pid" 2>/dev/null || true
    [[ -z $release_log ]] || rm -f "$release_log"
    [[ -z $clippy_pid ]] || kill "$clippy_pid" 2>/dev/null || true
    [[ -z $clippy_log ]] || rm -f "$clippy_log"
    # The second e2e stream, its whole process tree: its unshare, once
    # TERMed, kills its namespace and everything in it.
    [[ -z $e2e_pid ]] || kill_tree "$e2e_pid"
    if ((rc == 0)); then
        printf '\n==> tests/run.sh: OK in %ds\n' "$((SECONDS - start))"
    else
        printf '\n==> tests/run.sh: FAILED (exit %d) after %ds\n' "$rc" "$((SECONDS - start))" >&2
    fi
}
trap finish EXIT

stage "checking for root"
if [[ $(id -u) -ne 0 ]]; then
    echo "tests/run.sh must run as root: the tests create network namespaces and veth devices (try: sudo bash tests/run.sh)" >&2
    exit 1
fi

# A fresh clone (CI clones anew each time) would build the AWS SDK and
# create the Python venvs from nothing, ~10 of its minutes. Its builds and
# venvs go to one directory kept between runs instead: cargo rebuilds what
# changed (always our crate: the clone's files are new), each venv is
# rebuilt when its requirements' hash changes, and a bare machine just
# starts with an empty cache. `target` becomes a link to it, so every
# target/... path the scripts use still holds. A checkout that already has
# target/ (or sets CARGO_TARGET_DIR) keeps its own; OCF_AWS_BUILD_CACHE=
# (empty) turns this off.
cache=${OCF_AWS_BUILD_CACHE-/var/cache/ocf-aws/build}
if [[ -n $cache && -z ${CARGO_TARGET_DIR:-} && ! -e target && ! -L target ]]; then
    stage "build cache for this fresh clone: $cache"
    mkdir -p "$cache/target"
    ln -s "$cache/target" target
    export CARGO_TARGET_DIR=$cache/target
    export OCF_AWS_VENV=${OCF_AWS_VENV:-$cache/venv-moto}
    export OCF_AWS_AWSCLI_VENV=${OCF_AWS_AWSCLI_VENV:-$cache/venv-awscli}
    export OCF_AWS_FENCE_AWS_DIR=${OCF_AWS_FENCE_AWS_DIR:-$cache/fence-aws-boto3}
    export OCF_AWS_ZIG_VENV=${OCF_AWS_ZIG_VENV:-$cache/venv-zig}
fi
# Packages of an earlier run (another version) must not be what is tested.
rm -rf target/packages

stage "Debian packages and Rust toolchain (tests/deps.sh)"
# shellcheck source=tests/deps.sh
. tests/deps.sh
deps_packages
deps_e2e
deps_rust
rustc --version

stage "moto venv (tests/world/setup-venv.sh)"
venv=$(bash tests/world/setup-venv.sh | tail -n1)

if [[ ${OCF_AWS_SKIP_LINT:-} == 1 ]]; then
    stage "skipping cargo fmt / clippy (OCF_AWS_SKIP_LINT=1)"
else
    stage "cargo fmt --check"
    cargo fmt --version >/dev/null 2>&1 || deps_die "rustfmt missing: rustup component add rustfmt"
    # rustfmt colours its diff even into a CI log file; only a terminal gets colour.
    if [[ -t 1 ]]; then color=auto; else color=never; fi
    cargo fmt --all -- --check --color "$color"
    cargo clippy --version >/dev/null 2>&1 || deps_die "clippy missing: rustup component add clippy"
    # clippy type-checks the whole AWS SDK once more (its check artifacts
    # are not the test build's), minutes of CPU on a cold tree. It runs
    # beside the test build and the tests at the lowest priority, in a
    # target directory of its own (one cargo at a time may hold a target
    # directory, and the tests need target/debug), and is waited for at the
    # end: a lint failure still fails the run, a few minutes later.
    stage "cargo clippy -D warnings: started in the background"
    clippy_log=$(mktemp)
    CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}/clippy nice -n 19 \
        cargo clippy --all-targets --locked -- -D warnings >"$clippy_log" 2>&1 &
    clippy_pid=$!
fi

# The emulators the tests stand on check themselves first: a broken test
# world would otherwise show up as confusing agent failures.
stage "test world self-check (tests/world/selfcheck.py)"
selfcheck_log=$(mktemp)
"$venv/bin/python" tests/world/selfcheck.py 2>&1 | tee "$selfcheck_log"

stage "cargo test: build"
cargo test --no-run

# The release build (packages, benchmark) and the packaging tools
# (cargo-deb is compiled once) cost minutes of CPU, which the tests below
# leave mostly idle: they wait on emulators, deadlines and Pacemaker's
# timers. So they run alongside at the lowest priority, and the packaging
# stage waits for them.
release_log=$(mktemp)
nice -n 19 bash -c '. tests/deps.sh && deps_packaging && bash packaging/release.sh' \
    >"$release_log" 2>&1 &
release_pid=$!

# The unit tests (the lib's binary) and the integration tests: one binary,
# tests/it, with one moto for all its tests (tests/it/main.rs).
stage "cargo test"
test_log=$(mktemp)
cargo test 2>&1 | tee "$test_log"
# One closing line over the self-check and all test binaries, for humans and CI alike.
summary=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } } END { printf "%d passed, %d failed", p, f }' "$test_log")
add_counts "$selfcheck_log" selfcheck
rm -f "$test_log" "$selfcheck_log"

# The tests run the agents through their own symlinks; this checks that the
# layout packaging ships (ocf/install.sh) works too, in under a second.
stage "install layout (ocf/install.sh)"
layout=$(mktemp -d)
bash ocf/install.sh --root "$layout" "${CARGO_TARGET_DIR:-target}/debug/ocf-aws"
for link in "$layout"/usr/lib/ocf/resource.d/aws/*; do
    "$link" meta-data | xmllint --noout - ||
        { echo "$link meta-data is not XML" >&2; exit 1; }
done
bash ocf/install.sh --root "$layout" --uninstall
leftover=$(find "$layout"/usr -type f -o -type l)
[[ -z $leftover ]] || { echo "uninstall left: $leftover" >&2; exit 1; }

# Real Pacemaker 2.1 + Corosync 3 run the installed agents against the
# emulated AWS, in one- and two-node clusters made of namespaces, and fail
# them over (tests/e2e/README.md); then the core scenarios again (1 crash
# failover with fencing, 5 meta-data and validation, 6 ocf-tester, 7 the
# examples), the nodes running Debian 13's Pacemaker 3.0, Corosync 3.1.9,
# crmsh 5 and pcs 0.12 from a trixie root (tests/e2e/root.sh: debootstrap +
# apt-get once, 1.5-3 min, then cached in /var/cache/ocf-aws/roots).
# CI times scenario 1 once (E2E_RUNS=3 for a timeline median).
#
# The scenarios mostly wait on corosync's and Pacemaker's timers, and each
# run of tests/e2e/run.sh is a PID + mount + network namespace of its own
# with its own emulated AWS, so two streams run side by side (--stream 1/2
# and 2/2: every other scenario; Pacemaker 3 after the second), which halves
# the stage's ~18 minutes. What they install is installed first (--prepare),
# not by both at once. The second stream's log follows the first's.
stage "end-to-end: Pacemaker 2.1 in two streams side by side, then Pacemaker 3 in the second (tests/e2e/run.sh --stream, --pacemaker3)"
bash tests/e2e/run.sh --prepare
bash tests/e2e/run.sh --pacemaker3 --prepare
e2e2_log=$(mktemp) e2e3_log=$(mktemp)
(
    rc=0
    E2E_RUNS=${E2E_RUNS:-1} bash tests/e2e/run.sh --stream 2/2 >"$e2e2_log" 2>&1 || rc=1
    E2E_RUNS=${E2E_RUNS:-1} bash tests/e2e/run.sh --pacemaker3 >"$e2e3_log" 2>&1 || rc=1
    exit "$rc"
) &
e2e_pid=$!
e2e1_log=$(mktemp)
e2e_failed=""
E2E_RUNS=${E2E_RUNS:-1} bash tests/e2e/run.sh --stream 1/2 2>&1 | tee "$e2e1_log" || e2e_failed=1
if kill -0 "$e2e_pid" 2>/dev/null; then
    stage "end-to-end: waiting for the second stream and Pacemaker 3"
fi
wait "$e2e_pid" || e2e_failed=1
e2e_pid=""
stage "end-to-end, the second stream (tests/e2e/run.sh --stream 2/2; it ran beside the first)"
cat "$e2e2_log"
stage "end-to-end under Pacemaker 3: Debian 13 root (tests/e2e/run.sh --pacemaker3; after the second stream)"
cat "$e2e3_log"
for log in "$e2e1_log" "$e2e2_log" "$e2e3_log"; do
    add_counts "$log" e2e
done
rm -f "$e2e1_log" "$e2e2_log" "$e2e3_log"
[[ -z $e2e_failed ]] || { echo "end-to-end: a scenario failed (above)" >&2; exit 1; }

# The .deb and .rpm (packaging/build.sh: a release build, then both
# packages), the .deb installed with dpkg, checked through crm_resource and
# man, and removed again (tests/packaging.sh). The release build is already
# done, so this takes seconds.
stage "release build and packaging tools (started in the background before the tests)"
wait "$release_pid" || { cat "$release_log" >&2; echo "packaging/release.sh failed" >&2; exit 1; }
release_pid=""
# release.sh's last lines: its verdict on the binary's glibc symbol
# versions, then the binary's path.
tail -n 2 "$release_log" | head -n 1
release_bin=$(tail -n 1 "$release_log")

stage "packages: .deb and .rpm (tests/packaging.sh)"
pkg_log=$(mktemp)
bash tests/packaging.sh 2>&1 | tee "$pkg_log"
add_counts "$pkg_log" packaging
rm -f "$pkg_log"

# The .deb installed in a Debian 11 root (glibc 2.31, older than this
# machine's 2.36), its agents run from there against the emulated AWS
# (tests/oldroot.sh). The root is built once (~2 min) and cached.
stage "the .deb on Debian 11 (tests/oldroot.sh)"
old_log=$(mktemp)
bash tests/oldroot.sh target/packages/ocf-aws_*_"$(dpkg --print-architecture)".deb 2>&1 | tee "$old_log"
add_counts "$old_log" oldroot
rm -f "$old_log"

# The side-by-side benchmark in quick mode, so the harness cannot rot: it
# fails on a broken harness or a failed correctness check, never on the
# figures. It measures the release binary the packages ship.
stage "benchmark, quick mode (bench/run.sh --quick)"
bash bench/run.sh --quick --bin "$release_bin"

if [[ -n $clippy_pid ]]; then
    stage "cargo clippy -D warnings (started in the background before the tests)"
    wait "$clippy_pid" || { cat "$clippy_log" >&2; echo "cargo clippy found warnings (above)" >&2; clippy_pid=""; exit 1; }
    clippy_pid=""
    tail -n 1 "$clippy_log"
fi

echo
echo "tests: $summary"
