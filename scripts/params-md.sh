#!/usr/bin/env bash
# Markdown table of an agent's parameters, generated from its meta-data so
# the README cannot say something the agent does not do.
#
#   scripts/params-md.sh AGENT                     print the table
#   scripts/params-md.sh --update FILE AGENT...    replace each block between
#       <!-- params:AGENT --> and <!-- /params:AGENT --> in FILE
#   scripts/params-md.sh migration                 the migration table: every
#       parameter of the agents ours replace and what ours does with it
#       (`ocf-aws migrate --table`, from the agents' `replaces` tables); its
#       block is <!-- migration-table --> ... <!-- /migration-table -->, and
#       a unit test (migrate::tests) fails when the README's copy differs
#
# The meta-data comes from `cargo run` (so the table always matches the
# source), or from $OCF_AWS_BIN when set (e.g. an installed /usr/sbin/ocf-aws).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

ocf_aws() {
    if [[ -n ${OCF_AWS_BIN:-} ]]; then
        "$OCF_AWS_BIN" "$@"
    else
        (cd "$root" && cargo run --quiet --bin ocf-aws -- "$@")
    fi
}

metadata() {
    ocf_aws "$1" meta-data
}

# The generated block of AGENT (or of the migration table) and its markers.
generate() {
    if [[ $1 == migration ]]; then
        ocf_aws migrate --table
    else
        metadata "$1" | table
    fi
}
markers() {
    if [[ $1 == migration ]]; then
        printf '%s\t%s\n' "<!-- migration-table -->" "<!-- /migration-table -->"
    else
        printf '%s\t%s\n' "<!-- params:$1 -->" "<!-- /params:$1 -->"
    fi
}

# stdin: meta-data XML; stdout: the table.
table() {
    # shellcheck disable=SC2016  # Python source, not shell: nothing to expand
    python3 -c '
import sys
import xml.etree.ElementTree as ET

def cell(text):
    # One table row per parameter: no newlines, no bare pipes.
    return " ".join((text or "").split()).replace("|", "\\|")

root = ET.fromstring(sys.stdin.read())
print("| Parameter | Type | Default | Description |")
print("| --- | --- | --- | --- |")
for p in root.iter("parameter"):
    # Parameters of replaced agents: the migration table lists them.
    if (p.findtext("shortdesc") or "").startswith("Deprecated:"):
        continue
    name = "`%s`" % p.get("name")
    if p.get("required") == "1":
        name += " (required)"
    content = p.find("content")
    kind = content.get("type", "") if content is not None else ""
    default = content.get("default") if content is not None else None
    default = "`%s`" % default if default else ""
    # OCF meta-data has a longdesc per parameter, fence-agents metadata a shortdesc.
    text = p.findtext("longdesc") or p.findtext("shortdesc")
    print("| %s | %s | %s | %s |" % (name, kind, cell(default), cell(text)))
'
}

if [[ ${1:-} == --update ]]; then
    file=${2:?--update needs FILE}
    shift 2
    (($#)) || { echo "params-md.sh: --update FILE needs at least one AGENT" >&2; exit 2; }
    for agent in "$@"; do
        generated=$(generate "$agent")
        IFS=$'\t' read -r start end < <(markers "$agent")
        GENERATED=$generated python3 -c '
import os, re, sys
path, start, end = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
if start not in text or end not in text:
    sys.exit("params-md.sh: %s has no %s ... %s block" % (path, start, end))
block = start + "\n" + os.environ["GENERATED"] + "\n" + end
text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
open(path, "w").write(text)
' "$file" "$start" "$end"
        echo "params-md.sh: updated the $agent table in $file" >&2
    done
else
    agent=${1:?usage: scripts/params-md.sh AGENT | --update FILE AGENT...}
    generate "$agent"
fi
