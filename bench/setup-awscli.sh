#!/usr/bin/env bash
# Creates (or reuses) the venv holding the pinned AWS CLI v1 that the
# ClusterLabs agents shell out to, and prints its path as the LAST stdout
# line (like tests/world/setup-venv.sh):
#     AWSCLI_VENV=$(bash bench/setup-awscli.sh | tail -n1)
#   OCF_AWS_AWSCLI_VENV   venv location (default: <repo root>/.venv-awscli)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
venv=${OCF_AWS_AWSCLI_VENV:-$root/.venv-awscli}
req=$here/requirements-awscli.txt
stamp=$venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)

# A pip install takes ~20 s; skip it when the stamp says nothing changed.
if [[ -f $stamp && $(<"$stamp") == "$want" ]] && "$venv/bin/aws" --version >/dev/null 2>&1; then
    echo "$venv"
    exit 0
fi
rm -f "$stamp"
# Debian's python3, not a pyenv shim on PATH: it is what a cluster node runs.
py=/usr/bin/python3
[[ -x $py ]] || py=python3
"$py" -m venv "$venv" >&2
echo "setup-awscli: installing $req into $venv" >&2
# --no-deps: exactly the pinned set; `aws --version` below catches a missing pin.
"$venv/bin/pip" install --quiet --no-deps -r "$req" >&2
"$venv/bin/aws" --version >&2
echo "$want" >"$stamp"
echo "$venv"
