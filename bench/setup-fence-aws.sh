#!/usr/bin/env bash
# Creates (or reuses) the directory of pinned boto3/botocore that bench/run.sh
# puts on Debian's fence_aws's PYTHONPATH (bench/requirements-fence-aws.txt),
# and prints its path as the LAST stdout line (like setup-awscli.sh):
#     FENCE_AWS_PYTHONPATH=$(bash bench/setup-fence-aws.sh | tail -n1)
#   OCF_AWS_FENCE_AWS_DIR   location (default: <repo root>/.fence-aws-boto3)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${OCF_AWS_FENCE_AWS_DIR:-$root/.fence-aws-boto3}
req=$here/requirements-fence-aws.txt
stamp=$dir/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
py=/usr/bin/python3   # fence_aws's interpreter (#!/usr/bin/python3)
check() {
    PYTHONPATH=$dir "$py" -c 'import boto3, botocore, sys; sys.stderr.write(f"setup-fence-aws: boto3 {boto3.__version__}, botocore {botocore.__version__} from {boto3.__file__}\n")'
}

if [[ -f $stamp && $(<"$stamp") == "$want" ]] && check 2>/dev/null; then
    echo "$dir"
    exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
echo "setup-fence-aws: installing $req into $dir" >&2
# A pip that is not Debian's python3-pip if that is missing: the AWS CLI venv's.
if "$py" -m pip --version >/dev/null 2>&1; then
    pip=("$py" -m pip)
else
    pip=("$(bash "$here/setup-awscli.sh" | tail -n1)/bin/pip")
fi
# --target: a plain directory for PYTHONPATH; --no-deps: exactly the pins,
# the rest is Debian's (see the requirements file).
"${pip[@]}" install --quiet --disable-pip-version-check --no-deps --no-compile \
    --target "$dir" -r "$req" >&2
check
echo "$want" >"$stamp"
echo "$dir"
