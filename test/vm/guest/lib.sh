# shellcheck shell=sh
# /test/lib.sh: helpers for test cases (busybox ash). Use with `. /test/lib.sh`.
#
# busybox-static's sh runs its own applets before searching $PATH, so `ip`, `modprobe`,
# `setpriv`, ... would be busybox's (busybox ip cannot do netns/veth). The functions below make
# the plain names run the real tools in this shell. Inside `timeout`, `xargs`, `sh -c` or other
# programs that exec by name, use the full path (/usr/sbin/ip, /usr/sbin/modprobe, ...).
ip() { /usr/sbin/ip "$@"; }
tc() { /usr/sbin/tc "$@"; }
ss() { /usr/bin/ss "$@"; }
bridge() { /usr/sbin/bridge "$@"; }
modprobe() { /usr/sbin/modprobe "$@"; }
insmod() { /usr/sbin/insmod "$@"; }
rmmod() { /usr/sbin/rmmod "$@"; }
lsmod() { /usr/sbin/lsmod "$@"; }
modinfo() { /usr/sbin/modinfo "$@"; }
depmod() { /usr/sbin/depmod "$@"; }
setpriv() { /usr/bin/setpriv "$@"; }
unshare() { /usr/bin/unshare "$@"; }
nsenter() { /usr/bin/nsenter "$@"; }

# fail MSG: print "FAIL: MSG" and end the case with status 1.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# assert_eq ACTUAL EXPECTED [MSG]
assert_eq() {
    [ "$1" = "$2" ] || fail "${3:-assert_eq}: expected '$2', got '$1'"
}

# assert_contains HAYSTACK NEEDLE [MSG]
assert_contains() {
    case $1 in
        *"$2"*) ;;
        *) fail "${3:-assert_contains}: '$2' not found in: $1" ;;
    esac
}

# run CMD...: CMD must succeed. Its stdout goes to $OUT, its stderr to $ERR.
run() {
    _lib_rc=0
    OUT=$("$@" 2>/tmp/.lib.err) || _lib_rc=$?
    ERR=$(cat /tmp/.lib.err)
    if [ $_lib_rc -ne 0 ]; then
        [ -z "$OUT" ] || printf '%s\n' "$OUT" >&2
        [ -z "$ERR" ] || printf '%s\n' "$ERR" >&2
        fail "command failed (exit $_lib_rc): $*"
    fi
    return 0
}

# expect_fail CMD...: CMD must exit non-zero. Its stdout goes to $OUT, its stderr to $ERR.
expect_fail() {
    _lib_rc=0
    OUT=$("$@" 2>/tmp/.lib.err) || _lib_rc=$?
    ERR=$(cat /tmp/.lib.err)
    [ $_lib_rc -ne 0 ] || fail "command succeeded but should have failed: $*"
    return 0
}

# step MSG: print a progress line (shows up in the result log)
step() { echo "== [$(cut -d" " -f1 /proc/uptime)] $*"; }

# timescale: how much slower this kernel is expected to be (nflua.timescale on the command
# line: the debug kernel); time bounds in cases are multiplied by it
timescale() {
    _ts=$(sed -n 's/.*nflua\.timescale=\([0-9]*\).*/\1/p' /proc/cmdline)
    echo "${_ts:-1}"
}

# expect_rc RC CMD...: CMD must exit with status RC; stdout in $OUT, stderr in $ERR
expect_rc() {
    _want=$1
    shift
    _rc=0
    OUT=$("$@" 2>/tmp/.rc.err) || _rc=$?
    ERR=$(cat /tmp/.rc.err)
    [ "$_rc" = "$_want" ] || fail "exit $_rc, expected $_want: $* (stdout: $OUT) (stderr: $ERR)"
}

# field TEXT KEY: value of KEY in "key=value" words (spaces or newlines)
field() {
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# xt_table_states create|destroy: the states libxt_lua/libxt_lua.t names (odd names: a dot, a
# quote, a tab escape, the longest allowed), each with the functions its rules call
XT_TABLE_STATES="web my.state 'q\"s\\t' \"it's\" s012345678901234567890123456789012345678901234567890123456789xy"
xt_table_states() {
    eval "set -- $1 $XT_TABLE_STATES"
    _what=$1
    shift
    for _s in "$@"; do
        run nfluactl "$_what" "$_s"
        [ "$_what" = destroy ] || run nfluactl execute "$_s" -e 'function check_ua(p) return true end
function verdict(p) return "continue" end
function _f0(p) return false end
function f012345678901234567890123456789012345678901234567890123456789_y(p) return false end
function yes(p) return true end
function no(p) return false end'
    done
}
