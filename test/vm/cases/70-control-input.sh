#!/bin/sh
# Bad input on /dev/nflua gives error replies, never a stuck or broken descriptor.
# timeout: 120
. /test/lib.sh
W=$(mktemp -d /tmp/70.XXXXXX) || fail "mktemp"
trap 'rm -rf "$W"' EXIT

# req FD FORMAT [ARGS]: write a request with one printf (one write())
req() {
    _fd=$1
    shift
    # shellcheck disable=SC2059
    printf "$@" >&"$_fd" || fail "write failed: $*"
}

# reply FD: read one reply; $HDR is its header, $ERRNO the errno, $BODY the fields
reply() {
    _rfd=$1
    HDR=
    IFS= read -r HDR <&"$_rfd" || fail "no complete reply header (got '$HDR')"
    # shellcheck disable=SC2086
    set -- $HDR
    ERRNO=$1
    shift
    _n=0
    for _l in "$@"; do _n=$((_n + _l)); done
    BODY=$(head -c "$_n" <&"$_rfd")
}

# expect FD ERRNO MSG: the next reply on FD has errno ERRNO and a one-field message
expect() {
    reply "$1"
    assert_eq "$ERRNO" "$2" "$3 (reply '$HDR' '$BODY')"
    if [ "$2" != 0 ]; then
        assert_eq "$(echo "$HDR" | wc -w)" 2 "$3: an error reply has one field"
        [ -n "$BODY" ] || fail "$3: empty error message"
    fi
}

# expect_in FD "ERRNO..." MSG: the reply's errno is one of the list
expect_in() {
    reply "$1"
    case " $2 " in
    *" $ERRNO "*) ;;
    *) fail "$3: errno $ERRNO not in ($2) (reply '$HDR' '$BODY')" ;;
    esac
}

# nothing_pending FD: read() returns end of file at once (dd reads without poll(), unlike
# the read builtin)
nothing_pending() {
    _got=$(dd bs=1 count=1 <&"$1" 2>/dev/null | od -An -c)
    [ -z "$_got" ] || fail "a read with nothing pending returned '$_got'"
}

# still_works: fd 3 and a new descriptor both answer version; nothing else is pending on fd 3
still_works() {
    req 3 'version\n'
    expect 3 0 "version on the same descriptor after: $1"
    assert_contains "$BODY" "nflua " "version text"
    exec 4<>/dev/nflua || fail "cannot open a second descriptor"
    req 4 'version\n'
    expect 4 0 "version on a new descriptor after: $1"
    exec 4<&-
    nothing_pending 3
}

exec 3<>/dev/nflua || fail "cannot open /dev/nflua"

step "version; read with nothing pending is end of file at once"
req 3 'version\n'
expect 3 0 "version"
assert_contains "$BODY" " lua 5.4.7" "version names Lua 5.4.7"
case $BODY in "nflua "*) ;; *) fail "version text: $BODY" ;; esac
nothing_pending 3

step "a request may come in pieces"
req 3 'create 3 '
req 3 '16\nwe'
req 3 'bmaxalloc='
req 3 '1048576'
expect 3 0 "create written in four pieces"
req 3 'execute 3 3 13\nwebwebreturn "a\\0b"'
expect 3 0 "execute"
assert_eq "$HDR" "0 3" "result 'a\\0b' is 3 bytes"

step "truncated requests: EPROTO when read before the last byte"
req 3 'execute 3 3 100\nwebweb'
expect 3 71 "field shorter than announced"
still_works "truncated field"
req 3 'create 3'
expect 3 71 "header without its newline"
still_works "truncated header"
req 3 'create 3\n'
expect 3 71 "header without its field"
still_works "missing field"
req 3 'create 3\nw'
expect 3 71 "partial field"
still_works "partial field"

step "unknown operation: EOPNOTSUPP, the rest of the write is discarded"
req 3 'frobnicate\n'
expect 3 95 "unknown operation"
still_works "unknown operation"
req 3 'frobnicate 3\nabc'
expect 3 95 "unknown operation with a field"
still_works "unknown operation with a field"

step "malformed headers: EINVAL"
for h in 'version x\n' 'create -3\nabc' 'create +3\nabc' 'create 3a\nabc' \
    'create  3\nabc' 'create\t3\nabc' ' create 3\nabc'; do
    req 3 "$h"
    expect 3 22 "malformed header '$h'"
    still_works "malformed header '$h'"
done
# an empty operation or one with a NUL byte: malformed or unknown
for h in '\n' ' 3\nabc' 'cr\000ate 3\nabc'; do
    req 3 "$h"
    expect_in 3 "22 95" "header '$h'"
    still_works "header '$h'"
done
# a space before the newline: the doc's grammar has none, but ignoring it is harmless
req 3 'create 3 \nabc'
expect_in 3 "0 22" "header with a trailing space"
if [ "$ERRNO" = 0 ]; then
    req 3 'destroy 3\nabc'
    expect 3 0 "destroy abc"
fi
still_works "trailing space"
# 11 digits: a bad number, and a size
req 3 'create 12345678901\n'
expect_in 3 "22 90" "an 11-digit length"
still_works "an 11-digit length"

step "bad names: EINVAL"
n64=$(printf '%64s' '' | tr ' ' 'n')
n63=$(printf '%63s' '' | tr ' ' 'n')
for n in '' "$n64" 'a/b' 'a b' "$(printf 'a\tb')" "$(printf 'a\177')" "$(printf 'a\200')" "$(printf 'caf\303\251')"; do
    len=$(printf %s "$n" | wc -c)
    req 3 "create %d\\n%s" "$len" "$n"
    expect 3 22 "create with name '$n'"
    assert_contains "$BODY" "name" "message for name '$n'"
done
req 3 'create 3\na\000b'
expect 3 22 "name with a NUL byte"
req 3 'create 63\n%s' "$n63"
expect 3 0 "a 63-byte name is valid"
req 3 'destroy 63\n%s' "$n63"
expect 3 0 "destroy the 63-byte name"
req 3 'create 5 10\nstatebudget=abc'
expect 3 22 "non-decimal option value"
req 3 'create 5 7\nstatecolor=1'
expect 3 22 "unknown option"
still_works "bad names and options"

step "EEXIST, ENOENT"
req 3 'create 3\nweb'
expect 3 17 "duplicate create"
for r in 'destroy 4\nnope' 'execute 4 4 8\nnopenopereturn 1' 'stats 4\nnope' 'send 4 1\nnopex' \
    'set 4 11\nnopebudget=5000'; do
    req 3 "$r"
    expect 3 2 "unknown state: $r"
done
# a receive on a missing state must not wait
# shellcheck disable=SC2016 # expanded by the inner sh
timeout 10 sh -c 'exec 5<>/dev/nflua; printf "receive 4\nnope" >&5; IFS= read -r h <&5; echo "$h"' >"$W/recv.out"
assert_eq "$(cut -d' ' -f1 "$W/recv.out")" 2 "receive of an unknown state"
still_works "EEXIST and ENOENT"

step "a second request before the first reply is read: EBUSY"
req 3 'version\n'
printf 'stats 0\n' >"$W/stats.req"
if cat "$W/stats.req" >&3 2>"$W/ebusy.err"; then fail "second request accepted with a reply unread"; fi
assert_contains "$(cat "$W/ebusy.err")" "busy" "write fails with EBUSY"
if printf 'stats\n' >&3 2>/dev/null; then fail "printf of a second request succeeded"; fi
expect 3 0 "the unread reply stays"
assert_contains "$BODY" "nflua " "it is the version reply"
still_works "EBUSY"
req 3 'execute 3 3 8\nwebwebreturn 1'
if printf 'version\n' >&3 2>/dev/null; then fail "second request after execute accepted"; fi
expect 3 0 "execute reply after EBUSY"
assert_eq "$BODY" 1 "execute result"
still_works "EBUSY after execute"

step "closing with an unread reply or a partial request is harmless"
exec 4<>/dev/nflua
req 4 'list\n'
exec 4<&-
exec 4<>/dev/nflua
req 4 'execute 3 3 1000\nweb'
exec 4<&-
still_works "closed descriptors"

step "sizes: over 64 MiB is EMSGSIZE; header too long; too many fields"
req 3 'execute 3 3 9999999999\nwebweb'
expect 3 90 "a request over 64 MiB"
still_works "request over 64 MiB"
req 3 'execute 3 3 67108864\nwebweb'
expect 3 90 "header + fields over 64 MiB"
still_works "request just over 64 MiB"
req 3 "version%300s\\n" ''
# "line too long" is listed among malformed headers but is also a size: EINVAL or EMSGSIZE
expect_in 3 "22 90" "header line over 255 bytes"
still_works "header line too long"
req 3 'version%300s' ''
expect_in 3 "22 90" "header over 255 bytes without a newline"
still_works "header too long, no newline"
req 3 'create 1 1 1 1 1 1 1 1 1\nabcdefghi'
expect_in 3 "22 90" "nine fields"
still_works "too many fields"

step "poll() says readable when read() would not block (the read builtin polls first)"
# the doc says read() returns end of file at once with nothing pending; a poll() that still
# waits makes every shell script that reads one line too many hang
# shellcheck disable=SC2016 # expanded by the inner sh
timeout 5 sh -c 'exec 5<>/dev/nflua; IFS= read -r x <&5; echo "eof $?"' >"$W/poll.out" 2>&1
assert_eq "$(cat "$W/poll.out")" "eof 1" "read builtin on a fresh descriptor"

req 3 'destroy 3\nweb'
expect 3 0 "destroy web"
req 3 'list\n'
expect 3 0 "list"
assert_eq "$HDR" 0 "no states left"
exec 3<&-
