#!/usr/bin/env bash
# The side-by-side benchmark: ocf-aws against the ClusterLabs agents
# (aws-vpc-move-ip, awseip, aws-vpc-route53 with the AWS CLI v1) and fence_ec2
# against fence-agents' fence_aws (boto3), on the same
# emulated AWS, in a private network namespace. As root:
#
#   bash bench/run.sh              # full: median of 5 runs after a warm-up (~25 min)
#   bash bench/run.sh --quick      # one run each, CI (~2 min)
#   bash bench/run.sh --snapshot   # full run, also written to bench/results/snapshot.*
#   bash bench/run.sh --bin PATH   # measure this ocf-aws binary instead of building
#
# Writes bench/results/latest.md and latest.json (and prints the Markdown).
# Exit 1 when a run failed its correctness check or the harness broke; the
# figures themselves never fail it. See bench/README.md.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bin=""
args=()
while (($#)); do
    case $1 in
        --bin) bin=$(realpath "$2"); shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done

if [[ $(id -u) -ne 0 ]]; then
    echo "bench/run.sh must run as root: it creates a network namespace with 169.254.169.254 on it" >&2
    exit 1
fi

# shellcheck source=tests/deps.sh
. tests/deps.sh
deps_packages
deps_bench
venv=$(bash tests/world/setup-venv.sh | tail -n1)
awscli_venv=$(bash bench/setup-awscli.sh | tail -n1)
fence_aws_path=$(bash bench/setup-fence-aws.sh | tail -n1)
if [[ -z $bin ]]; then
    # The binary the packages ship (packaging/release.sh); debug would
    # flatter nobody.
    bin=$(bash packaging/release.sh | tail -n1)
fi

# A new network namespace (its own loopback, where 169.254.169.254 and
# moto live) and mount namespace (for its own /sys and /etc/resolv.conf);
# everything in it dies with the harness.
exec unshare --net --mount --propagation private -- \
    "$venv/bin/python" bench/bench.py --bin "$bin" --awscli-venv "$awscli_venv" \
    --fence-aws-pythonpath "$fence_aws_path" --venv "$venv" "${args[@]}"
