#!/usr/bin/env bash
# The packages as a user gets them: builds the .deb and the .rpm
# (packaging/build.sh), installs the .deb on this machine with dpkg, checks
# what Pacemaker (crm_resource, stonith_admin, pcs, crmsh) and man see,
# removes it again, and compares the .rpm's layout and scriptlets with the
# .deb's.
#
#   bash tests/packaging.sh              # as root; builds the packages first
#   bash tests/packaging.sh DEB RPM      # test packages built already
#
# It installs for real (/usr, the dpkg database), so it refuses to start when
# any file of the package is already there, e.g. from ocf/install.sh, rather
# than overwrite or delete something it did not put there; and whatever
# happens it removes the package it installed. Last line:
# `packaging: N passed, M failed` (tests/run.sh adds it to its summary).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[[ $(id -u) -eq 0 ]] || { echo "tests/packaging.sh: needs root (dpkg -i)" >&2; exit 1; }

# shellcheck source=tests/checks.sh
. tests/checks.sh
die() {
    echo "tests/packaging.sh: $*" >&2
    exit 1
}

if (($# == 2)); then
    deb=$1 rpm=$2
else
    built=$(bash packaging/build.sh)
    # build.sh's last two lines are the package paths.
    deb=$(tail -n 2 <<<"$built" | sed -n 1p)
    rpm=$(tail -n 1 <<<"$built")
fi
[[ -f $deb && -f $rpm ]] || die "no packages ($deb, $rpm)"
# shellcheck source=tests/deps.sh
. tests/deps.sh
deps_packaging
echo "packages: ${deb##*/}, ${rpm##*/}"

work=$(mktemp -d)
installed=0
rundir=/run/resource-agents/ocf-aws
rundir_was_there=0
if [[ -e $rundir ]]; then rundir_was_there=1; fi
cleanup() {
    local rc=$?
    if ((installed)); then
        dpkg --purge ocf-aws >/dev/null 2>&1 || echo "tests/packaging.sh: dpkg --purge ocf-aws failed: remove it by hand" >&2
    fi
    # The postinst made the run directory; it was not here before.
    ((rundir_was_there)) || rmdir "$rundir" 2>/dev/null || true
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

# The .deb's entries as "TYPE PATH[ -> TARGET]" lines, TYPE d, f or l.
dpkg-deb -c "$deb" | awk '{
    t = substr($1, 1, 1); if (t == "-") t = "f"
    p = $6; sub(/^\.\//, "/", p); sub(/\/$/, "", p)
    if (p == "" || p == "/") next
    line = t " " p
    if (t == "l") line = line " -> " $8
    print line
}' | sort >"$work/deb.list"
grep -v '^d ' "$work/deb.list" | cut -d' ' -f2 >"$work/deb.files"
[[ -s $work/deb.files ]] || die "dpkg-deb -c $deb lists no files"

# Refuse to run over an existing installation (see the header).
if dpkg-query -W -f '${db:Status-Abbrev}' ocf-aws 2>/dev/null | grep -q '^i'; then
    die "the ocf-aws package is installed already: not touching it (dpkg -r ocf-aws first)"
fi
while read -r f; do
    if [[ -e $f || -L $f ]]; then
        die "$f exists already (ocf/install.sh --uninstall removes an install.sh layout): not overwriting it"
    fi
done <"$work/deb.files"
for d in /usr/lib/ocf/lib/aws /usr/lib/ocf/resource.d/aws /usr/share/doc/ocf-aws; do
    [[ ! -e $d ]] || die "$d exists already: not touching it"
done

echo "--- the .deb"
# The fence agents (ocf-aws --list-fence) and their pages, asked of the
# .deb before it is installed (the binary's own list comes after dpkg -i).
for f in /usr/sbin/fence_ec2 /usr/share/man/man8/fence_ec2.8.gz; do
    check "the .deb has $f" grep -q " $f\( \|$\)" "$work/deb.list"
done
check "/usr/sbin/fence_ec2 is a symlink in the .deb ($(grep ' /usr/sbin/fence_ec2 ' "$work/deb.list"))" \
    grep -q '^l /usr/sbin/fence_ec2 -> ' "$work/deb.list"
control() { dpkg-deb -f "$deb" "$1"; }
check "Depends has iproute2 ($(control Depends))" grep -qw iproute2 <<<"$(control Depends)"
check "Recommends pacemaker-cli-utils" grep -qx pacemaker-cli-utils <<<"$(control Recommends)"
check "Section: admin" test "$(control Section)" = admin
# The portable build (packaging/release.sh): dpkg-shlibdeps derives the
# libc6 version from the binary's symbol versions, so this is the glibc
# floor as Debian-family installers see it.
libc_dep=$(control Depends | sed -n 's/.*libc6 (>= \([0-9.]*\)).*/\1/p')
check "Depends libc6 (>= $libc_dep), at most $DEPS_GLIBC_FLOOR" deps_version_le "$libc_dep" "$DEPS_GLIBC_FLOOR"
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
scripts=$(find "$work/control" -mindepth 1 -printf '%f\n' | grep -Ev '^(control|md5sums)$' | sort | tr '\n' ' ')
check "maintainer scripts: only postinst (got: $scripts)" test "$scripts" = "postinst "
check "postinst is packaging/debian/postinst" cmp -s "$work/control/postinst" packaging/debian/postinst
# No conffiles: nothing under /etc, and /usr/lib/tmpfiles.d is the vendor
# location (an admin overrides it in /etc/tmpfiles.d), so dpkg -r leaves
# nothing behind.
check "no conffiles" test ! -e "$work/control/conffiles"

echo "--- dpkg -i"
installed=1
if dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1; then
    ok "dpkg -i ${deb##*/}"
else
    bad "dpkg -i ${deb##*/}: $(tail -n 3 "$work/dpkg-i.log")"
fi
check "dpkg says installed" test "$(dpkg-query -W -f '${db:Status-Abbrev}' ocf-aws)" = "ii "

bin=/usr/lib/ocf/lib/aws/ocf-aws
check "$bin is an executable file, not a link" test -f "$bin" -a ! -L "$bin" -a -x "$bin"
# What the loader asks of the C library: the newest GLIBC_ symbol version
# in the shipped binary's dynamic symbol table (packaging/release.sh's
# target is 2.17; RHEL 8 has 2.28, Amazon Linux 2 2.26).
glibc_needed=$(deps_glibc_needed "$bin")
check "the shipped binary needs glibc >= $glibc_needed, at most $DEPS_GLIBC_FLOOR" \
    deps_version_le "$glibc_needed" "$DEPS_GLIBC_FLOOR"
agents=$("$bin" --list | sort)
[[ -n $agents ]] || bad "$bin --list printed nothing"
fences=$("$bin" --list-fence | sort)
[[ -n $fences ]] || bad "$bin --list-fence printed nothing"
fence_links=()
for f in $fences; do fence_links+=("/usr/sbin/$f"); done

for link in /usr/sbin/ocf-aws "${fence_links[@]}" /usr/lib/ocf/resource.d/aws/*; do
    target=$(readlink "$link" || true)
    if [[ -L $link && $target != /* && $(realpath "$link") == "$bin" ]]; then
        ok "$link -> $target (relative, resolves to $bin)"
    else
        bad "$link: not a relative symlink to $bin (-> ${target:-not a link})"
    fi
done
check "one link in resource.d/aws per agent of --list" \
    test "$(find /usr/lib/ocf/resource.d/aws -mindepth 1 -printf '%f\n' | sort)" = "$agents"

echo "--- Pacemaker"
listed=$(crm_resource --list-agents ocf:aws 2>&1 | sort)
if [[ $listed == "$agents" ]]; then
    ok "crm_resource --list-agents ocf:aws lists exactly: $(tr '\n' ' ' <<<"$agents")"
else
    bad "crm_resource --list-agents ocf:aws: '$(tr '\n' ' ' <<<"$listed")', ocf-aws --list: '$(tr '\n' ' ' <<<"$agents")'"
fi
for a in $agents; do
    if ! crm_resource --show-metadata "ocf:aws:$a" >"$work/md.$a" 2>"$work/md.$a.err"; then
        bad "crm_resource --show-metadata ocf:aws:$a failed: $(head -n 2 "$work/md.$a.err")"
    elif /usr/sbin/ocf-aws "$a" meta-data | cmp -s - "$work/md.$a"; then
        ok "crm_resource --show-metadata ocf:aws:$a prints our meta-data ($(wc -l <"$work/md.$a") lines)"
    else
        bad "crm_resource --show-metadata ocf:aws:$a differs from ocf-aws $a meta-data"
    fi
done

# Fence agents: pacemaker-fenced's discovery (executables named fence_* in
# /usr/sbin), which stonith_admin does without a running cluster for
# --list-installed and --metadata, and what pcs and crmsh make of it.
echo "--- Pacemaker: fence agents"
installed_fences=$(timeout 60 stonith_admin --list-installed 2>"$work/sa.err" || true)
for f in $fences; do
    check "stonith_admin --list-installed lists $f" grep -qx "$f" <<<"$installed_fences"
    # pacemaker-fenced edits the agent's metadata: action, plug and port
    # become required="0" (it supplies them) and it adds start and stop;
    # anything else must be ours unchanged (private="1" included).
    if ! timeout 60 stonith_admin --metadata --agent "$f" >"$work/sa.$f" 2>"$work/sa.$f.err"; then
        bad "stonith_admin --metadata --agent $f failed: $(head -n 2 "$work/sa.$f.err")"
    elif diff <(echo action=metadata | "/usr/sbin/$f" | xmllint --format - |
            sed -E 's/(<parameter name="(action|plug|port)" .*)required="1"/\1required="0"/') \
            <(xmllint --format "$work/sa.$f" | grep -Ev '<action name="(start|stop)" timeout="20s"/>') \
            >"$work/sa.$f.diff"; then
        ok "stonith_admin --metadata --agent $f prints our metadata (as pacemaker-fenced edits it)"
    else
        bad "stonith_admin --metadata --agent $f differs from ours beyond fenced's edits: $(head -n 6 "$work/sa.$f.diff" | tr '\n' ' ')"
    fi
    if grep -q 'private="1"' <(echo action=metadata | "/usr/sbin/$f"); then
        check "stonith_admin --metadata --agent $f keeps private=\"1\" (pacemaker-fenced honours it)" \
            grep -q 'private="1"' "$work/sa.$f"
    fi
    # pcs validates the metadata against its own OCF RelaxNG schema
    # (/usr/share/pcs/data/ocf-1.0.rng) before it shows it or creates a
    # device with it.
    if timeout 120 pcs stonith describe "$f" >"$work/pcs.$f" 2>&1 && grep -q "^$f - " "$work/pcs.$f"; then
        ok "pcs stonith describe $f ($(wc -l <"$work/pcs.$f") lines)"
    else
        bad "pcs stonith describe $f: $(head -n 2 "$work/pcs.$f" | tr '\n' ' ')"
    fi
    if timeout 120 crm ra info "stonith:$f" >"$work/crm.$f" 2>&1 && grep -qx "stonith:$f" "$work/crm.$f" &&
        grep -q '^plug ' "$work/crm.$f"; then
        ok "crm ra info stonith:$f ($(wc -l <"$work/crm.$f") lines)"
    else
        bad "crm ra info stonith:$f: $(head -n 2 "$work/crm.$f" | tr '\n' ' ')"
    fi
done

echo "--- man pages"
pages=()
for a in $agents; do pages+=("ocf_aws_$a:7"); done
pages+=("ocf-aws:8")
for f in $fences; do pages+=("$f:8"); done
for p in "${pages[@]}"; do
    name=${p%:*} section=${p#*:}
    file=/usr/share/man/man$section/$name.$section.gz
    if [[ $(man -w "$section" "$name" 2>/dev/null) != "$file" ]]; then
        bad "man -w $section $name does not find $file"
        continue
    fi
    # Warnings on (groff -ww), in the C locale (ASCII device) and in UTF-8:
    # any diagnostic on stderr fails the page.
    for loc in C C.UTF-8; do
        if LC_ALL=$loc MANWIDTH=80 man --warnings=w -l "$file" >"$work/page" 2>"$work/page.err" &&
            [[ ! -s $work/page.err ]] && grep -q '^NAME' "$work/page" &&
            grep -q "^ *$name - " "$work/page"; then
            ok "man -l $file renders without warnings (LC_ALL=$loc, $(wc -l <"$work/page") lines)"
        else
            bad "man -l $file (LC_ALL=$loc): $(head -n 3 "$work/page.err")"
        fi
    done
done
same_pages=1
for a in $agents; do
    zcat "/usr/share/man/man7/ocf_aws_$a.7.gz" | cmp -s - <(/usr/sbin/ocf-aws man "$a") || same_pages=0
done
zcat /usr/share/man/man8/ocf-aws.8.gz | cmp -s - <(/usr/sbin/ocf-aws man ocf-aws) || same_pages=0
for f in $fences; do
    zcat "/usr/share/man/man8/$f.8.gz" | cmp -s - <(/usr/sbin/ocf-aws man "$f") || same_pages=0
done
check "the installed pages are what the installed binary generates" test "$same_pages" = 1

echo "--- docs and run directory"
for a in $agents; do
    check "crm-examples for $a in /usr/share/doc/ocf-aws" \
        test -f "/usr/share/doc/ocf-aws/crm-examples/$a.crm" -a -f "/usr/share/doc/ocf-aws/crm-examples/$a.pcs"
done
check "README.md in /usr/share/doc/ocf-aws" cmp -s README.md /usr/share/doc/ocf-aws/README.md
check "copyright in /usr/share/doc/ocf-aws" test -s /usr/share/doc/ocf-aws/copyright
check "tmpfiles.d entry is packaging/tmpfiles.d/ocf-aws.conf" \
    cmp -s packaging/tmpfiles.d/ocf-aws.conf /usr/lib/tmpfiles.d/ocf-aws.conf
if command -v systemd-tmpfiles >/dev/null; then
    if ((rundir_was_there)); then made="was there already"; else made="made by postinst"; fi
    check "$rundir is 0700 root ($made)" \
        test "$(stat -c '%a %U' "$rundir" 2>/dev/null)" = "700 root"
fi

echo "--- dpkg -r"
if dpkg -r ocf-aws >"$work/dpkg-r.log" 2>&1; then
    ok "dpkg -r ocf-aws"
else
    bad "dpkg -r ocf-aws: $(tail -n 3 "$work/dpkg-r.log")"
fi
left=()
while read -r f; do
    if [[ -e $f || -L $f ]]; then left+=("$f"); fi
done <"$work/deb.files"
for d in /usr/lib/ocf/lib/aws /usr/lib/ocf/resource.d/aws /usr/share/doc/ocf-aws; do
    if [[ -e $d ]]; then left+=("$d"); fi
done
check "dpkg -r left no file of the package (${left[*]:-none left})" test "${#left[@]}" -eq 0
for f in "${fence_links[@]}"; do
    check "dpkg -r removed $f" test ! -e "$f" -a ! -L "$f"
done
check "stonith_admin --list-installed no longer lists $(tr '\n' ' ' <<<"$fences")" \
    test -z "$(timeout 60 stonith_admin --list-installed 2>/dev/null | grep -Fx "$fences")"
check "dpkg forgot the package (no conffiles to keep)" \
    test -z "$(dpkg-query -W -f '${db:Status-Abbrev}' ocf-aws 2>/dev/null | grep -v '^un')"
dpkg --purge ocf-aws >/dev/null 2>&1 || true
installed=0

echo "--- the .rpm"
# Same "TYPE PATH[ -> TARGET]" lines from the rpm header.
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES} %{FILELINKTOS}\n]' "$rpm" 2>/dev/null | awk '{
    t = substr($1, 1, 1); if (t == "-") t = "f"
    line = t " " $2
    if (t == "l") line = line " -> " $3
    print line
}' | sort >"$work/rpm.list"
# The Debian changelog is the .deb's own (Debian policy 12.7; the .rpm
# carries its %changelog in the header).
if diff <(grep -v '^d \|/changelog\.Debian\.gz$' "$work/deb.list") <(grep -v '^d ' "$work/rpm.list") >"$work/layout.diff"; then
    ok "rpm -qlp: the same $(grep -vc '^d ' "$work/rpm.list") files and symlinks (with targets) as dpkg-deb -c"
else
    bad "rpm and deb layouts differ (< deb, > rpm): $(tr '\n' ' ' <"$work/layout.diff")"
fi
extra_dirs=$(comm -13 <(grep '^d ' "$work/deb.list") <(grep '^d ' "$work/rpm.list"))
check "every directory the .rpm owns is in the .deb (${extra_dirs:-ok})" test -z "$extra_dirs"
for f in /usr/sbin/fence_ec2 /usr/share/man/man8/fence_ec2.8.gz; do
    check "the .rpm has $f" grep -q " $f\( \|$\)" "$work/rpm.list"
done
check "no %{_libdir} (lib64) path in the .rpm" test -z "$(rpm -qlp "$rpm" 2>/dev/null | grep lib64)"
# The intended scriptlet is the spec's own %post, verbatim: nothing added by
# rpmbuild's macros, nothing else.
expected=$(
    echo "postinstall scriptlet (using /bin/sh):"
    awk '/^%post$/ { on = 1; next } on && /^%/ { exit } on' packaging/ocf-aws.spec | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
)
scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
if [[ $scripts == "$expected" ]]; then
    ok "rpm -qp --scripts: exactly the spec's %post"
else
    bad "rpm -qp --scripts: got '$scripts', expected '$expected'"
fi
# A file, not a package name: iproute (RHEL, Amazon Linux) and iproute2
# (SUSE) both ship it.
# lintian and rpmlint: every tag they report is fixed or explained in
# packaging/lint-allowed (a new one fails here, naming it).
echo "--- lintian and rpmlint"
allowed=$(awk '!/^#/ && NF { print $1 " " $2 }' packaging/lint-allowed)
lint_tags() {
    { lintian --no-tag-display-limit "$deb" 2>/dev/null | awk -F': ' '/^[EWI]: / { split($3, t, " "); print "lintian " t[1] }'
      rpmlint "$rpm" 2>/dev/null | awk '/^ocf-aws[^ ]*: [EW]: / { print "rpmlint " $3 }'; } | sort -u
}
unexplained=$(comm -23 <(lint_tags) <(sort -u <<<"$allowed"))
if [[ -z $unexplained ]]; then
    ok "lintian and rpmlint report only what packaging/lint-allowed explains ($(wc -l <<<"$allowed") tags)"
else
    bad "lintian/rpmlint tags not fixed nor explained in packaging/lint-allowed: $(tr '\n' ' ' <<<"$unexplained")"
fi
check "rpm Requires /usr/sbin/ip" grep -qx /usr/sbin/ip <<<"$(rpm -qp --requires "$rpm" 2>/dev/null)"
check "rpm Requires no package named iproute or iproute2" \
    test -z "$(rpm -qp --requires "$rpm" 2>/dev/null | grep -x 'iproute2\?')"
check "rpm Recommends pacemaker-cli" grep -qx pacemaker-cli <<<"$(rpm -qp --recommends "$rpm" 2>/dev/null)"

echo "packaging: $passed passed, $failed failed"
((failed == 0))
