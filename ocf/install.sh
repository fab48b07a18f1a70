#!/usr/bin/env bash
# The OCF install layout of ocf-aws, in one place. Packaging, the tests and
# the demo all call this script, so the layout cannot differ between them.
#
#   ocf/install.sh [--root DESTDIR] BINARY     install (or update) BINARY
#   ocf/install.sh [--root DESTDIR] --uninstall
#
# Result (provider name from ocf/provider, "aws"):
#   /usr/lib/ocf/lib/aws/ocf-aws              the binary
#   /usr/lib/ocf/resource.d/aws/<agent>       -> ../../lib/aws/ocf-aws, one per agent
#   /usr/sbin/ocf-aws                         -> ../lib/ocf/lib/aws/ocf-aws
#   /usr/sbin/<fence agent>                   -> ../lib/ocf/lib/aws/ocf-aws, one per fence
#                                                agent (pacemaker-fenced lists fence_* there)
#
# The binary is NOT in resource.d/aws/: Pacemaker, crm and pcs treat every
# executable there as an agent, so `ocf:aws:ocf-aws` would show up and fail.
# The symlinks are relative so a tree built under DESTDIR (a package build
# root) stays valid when it is unpacked at /.
# The agent lists come from `BINARY --list` and `--list-fence`, so a new agent needs no change
# here. Safe to run again: it converges on the layout for BINARY, including
# removing links of agents the binary no longer has.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
provider=$(<"$here/provider")

usage() {
    sed -n '5,6s/^#   //p' "${BASH_SOURCE[0]}"
}
die() {
    echo "install.sh: $*" >&2
    exit 1
}

destdir=""
uninstall=0
binary=""
while (($#)); do
    case $1 in
        --root) destdir=${2:?--root needs a directory}; shift 2 ;;
        --root=*) destdir=${1#--root=}; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option $1" ;;
        *) [[ -z $binary ]] || die "only one BINARY"; binary=$1; shift ;;
    esac
done
# An absolute DESTDIR: the links are relative, but our own paths must not
# depend on where the caller stands.
if [[ -n $destdir ]]; then
    mkdir -p "$destdir"
    destdir=$(cd "$destdir" && pwd)
fi

libdir=$destdir/usr/lib/ocf/lib/$provider
agentdir=$destdir/usr/lib/ocf/resource.d/$provider
sbin_link=$destdir/usr/sbin/ocf-aws
installed=$libdir/ocf-aws
# Targets as seen from the directory holding each link.
agent_target=../../lib/$provider/ocf-aws
sbin_target=../lib/ocf/lib/$provider/ocf-aws

# Remove only links that point at our binary: resource.d/aws/ may hold
# someone's own agents, and we never delete what we did not make.
remove_our_links() { # keep...: agent names to leave alone
    local link name k
    [[ -d $agentdir ]] || return 0
    for link in "$agentdir"/*; do
        [[ -L $link && $(readlink "$link") == "$agent_target" ]] || continue
        name=${link##*/}
        for k in "$@"; do [[ $k == "$name" ]] && continue 2; done
        rm -f "$link"
    done
}

# Fence agents are /usr/sbin/<name> links to the binary, like ours.
remove_our_fence_links() { # keep...: fence agent names to leave alone
    local link name k
    for link in "$destdir"/usr/sbin/fence_*; do
        [[ -L $link && $(readlink "$link") == "$sbin_target" ]] || continue
        name=${link##*/}
        for k in "$@"; do [[ $k == "$name" ]] && continue 2; done
        rm -f "$link"
    done
}

if ((uninstall)); then
    # Needs no binary: a broken or missing one must still be removable.
    remove_our_links
    remove_our_fence_links
    rmdir "$agentdir" 2>/dev/null || true
    [[ -L $sbin_link && $(readlink "$sbin_link") == "$sbin_target" ]] && rm -f "$sbin_link"
    rm -f "$installed"
    rmdir "$libdir" 2>/dev/null || true
    echo "install.sh: removed ocf-aws from ${destdir:-/}"
    exit 0
fi

[[ -n $binary ]] || { usage >&2; die "BINARY is required"; }
[[ -f $binary && -x $binary ]] || die "$binary is not an executable file (cargo build first?)"

# Ask the binary itself which agents it has; refuse names that could escape
# the directory, since they become file names.
agents=()
while IFS= read -r a; do
    [[ $a =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "$binary --list printed an odd agent name: '$a'"
    agents+=("$a")
done < <("$binary" --list)
((${#agents[@]})) || die "$binary --list printed no agents"
fence=()
while IFS= read -r a; do
    [[ $a =~ ^fence_[a-z0-9_]+$ ]] || die "$binary --list-fence printed an odd fence agent name: '$a'"
    fence+=("$a")
done < <("$binary" --list-fence)

mkdir -p "$libdir" "$agentdir" "${sbin_link%/*}"
# Copy then rename: Pacemaker may be running an agent while we update, and a
# rename swaps the file atomically where an in-place copy could be seen
# half-written (or fail with "Text file busy").
tmp=$libdir/.ocf-aws.new.$$
trap 'rm -f "$tmp"' EXIT
cp "$binary" "$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$installed"

for a in "${agents[@]}"; do
    link=$agentdir/$a
    if [[ -e $link && ! -L $link ]]; then
        die "$link exists and is not a symlink: not overwriting someone else's agent"
    fi
    ln -sfn "$agent_target" "$link"
done
remove_our_links "${agents[@]}"
if [[ -e $sbin_link && ! -L $sbin_link ]]; then
    die "$sbin_link exists and is not a symlink: not overwriting it"
fi
ln -sfn "$sbin_target" "$sbin_link"
for a in "${fence[@]}"; do
    link=$destdir/usr/sbin/$a
    if [[ -e $link && ! -L $link ]]; then
        die "$link exists and is not a symlink: not overwriting someone else's fence agent"
    fi
    ln -sfn "$sbin_target" "$link"
done
remove_our_fence_links "${fence[@]}"

echo "install.sh: ocf-aws in ${destdir:-}/usr/lib/ocf (agents: ${agents[*]}; ocf:$provider:<agent>; fence agents in /usr/sbin: ${fence[*]})"
