#!/usr/bin/env bash
# Creates (or reuses) the Python venv that runs the moto side of the test world
# and prints its path as the LAST line of stdout, so callers can do
#     VENV=$(tests/world/setup-venv.sh | tail -n1)
# Everything else goes to stderr for that reason.
#
# Idempotent and cheap when nothing changed: the pip install is skipped when
# the stamp in the venv matches requirements.txt's sha256, because a fresh
# install takes ~30 s and tests call this on every run.
#
#   OCF_AWS_VENV   venv location (default: <repo root>/.venv)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${OCF_AWS_VENV:-$root/.venv}
req=$here/requirements.txt
stamp=$venv/.requirements.sha256

log() { echo "setup-venv: $*" >&2; }

want=$(sha256sum "$req" | cut -d' ' -f1)

# Fast path with no lock: a complete venv for these exact requirements whose
# interpreter still runs (a system python upgrade can break a venv).
if [[ -f $stamp && $(<"$stamp") == "$want" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    echo "$venv"
    exit 0
fi

# Parallel test processes may all land here at once; one builds, the rest wait.
mkdir -p "$venv"
if command -v flock >/dev/null; then
    exec 9>"$venv/.setup.lock"
    flock 9
    # Someone else may have finished while we waited.
    if [[ -f $stamp && $(<"$stamp") == "$want" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
        echo "$venv"
        exit 0
    fi
fi

rm -f "$stamp"

# `python3 -m venv` also works on an existing (possibly half-made) venv, so a
# retry after a failure needs no cleanup.
if ! python3 -m venv "$venv" >&2; then
    # Debian splits ensurepip into python3-venv; without it venv creation fails.
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        log "python3 -m venv failed; installing python3-venv"
        apt-get install -y python3-venv >&2 ||
            { apt-get update >&2 && apt-get install -y python3-venv >&2; }
        python3 -m venv "$venv" >&2
    else
        log "python3 -m venv failed; install python3-venv (as root) and retry"
        exit 1
    fi
fi

log "installing $req into $venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    -r "$req" >&2
echo "$want" >"$stamp"
echo "$venv"
