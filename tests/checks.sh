# The verdict helpers of the shell test scripts (tests/packaging.sh,
# tests/oldroot.sh): one "ok"/"FAIL" line per check, counted, for the
# closing "NAME: N passed, M failed" line that tests/run.sh adds up.
# Source it; it sets passed=0 failed=0.
passed=0 failed=0
ok() {
    passed=$((passed + 1))
    echo "ok    $*"
}
bad() {
    failed=$((failed + 1))
    echo "FAIL  $*"
}
# check DESCRIPTION COMMAND...: a check whose command's status is the verdict.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
