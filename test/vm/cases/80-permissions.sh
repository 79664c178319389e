#!/bin/sh
# CAP_NET_ADMIN is needed for every operation; states are per network namespace and are freed
# with it; an unprivileged user namespace is refused.
# timeout: 120
. /test/lib.sh
W=$(mktemp -d /tmp/80.XXXXXX) || fail "mktemp"
trap 'rm -rf "$W"' EXIT

# module_stat KEY: one module-wide counter (stats without a name)
module_stat() {
    run nfluactl stats
    printf '%s\n' "$OUT" | sed -n "s/^$1=//p"
}

# nocaps CMD...: CMD as root without any capability
nocaps() { /usr/bin/setpriv --inh-caps=-all --bounding-set=-all "$@"; }
# nobody CMD...: CMD as user 65534 without any capability
nobody() {
    /usr/bin/setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all \
        --bounding-set=-all "$@"
}

step "the device is root's, mode 0600"
assert_eq "$(stat -c '%a %u' /dev/nflua)" "600 0" "mode and owner of /dev/nflua"

run nfluactl create web
run nfluactl execute web -e 'function on_receive(d) return d end'

step "root without CAP_NET_ADMIN: EPERM, exit 4, for every operation"
for cmd in 'list' 'version' 'stats' 'stats web' 'create other' 'destroy web' \
    'execute web -e return(1)' 'send web x' 'receive web --nonblock' 'set web --budget 5000'; do
    # shellcheck disable=SC2086 # split into words on purpose
    expect_rc 4 nocaps nfluactl $cmd
    assert_contains "$ERR" "CAP_NET_ADMIN" "message for: $cmd"
    assert_contains "$ERR" "Operation not permitted" "EPERM for: $cmd"
done
expect_fail nocaps sh -c 'exec 3<>/dev/nflua'
assert_contains "$ERR" "Operation not permitted" "open() without CAP_NET_ADMIN"
run nfluactl list
assert_eq "$(printf '%s\n' "$OUT" | cut -d' ' -f1)" "name=web" "nothing was created or destroyed"

step "a descriptor handed to a process without CAP_NET_ADMIN: write() fails with EPERM"
exec 3<>/dev/nflua || fail "cannot open /dev/nflua"
printf 'create 5\nother' >"$W/create.req"
# shellcheck disable=SC2016 # expanded by the inner sh
expect_fail nocaps sh -c 'cat "$1" >&3' sh "$W/create.req"
assert_contains "$ERR" "Operation not permitted" "write() without CAP_NET_ADMIN"
got=$(dd bs=1 count=1 <&3 2>/dev/null | od -An -c)
[ -z "$got" ] || fail "a refused write left a reply: '$got'"
printf 'version\n' >&3
IFS= read -r hdr <&3 || fail "no reply on the descriptor after the refused write"
assert_eq "${hdr%% *}" 0 "the descriptor still works"
head -c "${hdr#* }" <&3 >/dev/null
run nfluactl list
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 1 "the refused create did not run"

step "a descriptor handed to a process without CAP_NET_ADMIN: read() and poll() refused too"
# DESIGN.md: every way to read from the control device is checked like writing to it
run nfluactl create q
run nfluactl execute q -e 'nflua.send("secret of q")'
printf 'receive 1\nq' >&3 || fail "receive request"
for who in nobody nocaps; do
    run "$who" /test/tools/nflua-io poll 3
    assert_eq "$OUT" "$(printf 'ERR \nread: EPERM')" "poll() and read() as $who"
    expect_fail "$who" dd bs=4096 count=1 <&3
    assert_contains "$ERR" "Operation not permitted" "dd as $who"
done
IFS= read -r hdr <&3 || fail "the reply is gone after the refused reads"
assert_eq "$hdr" "0 11" "the receive reply is still whole"
assert_eq "$(head -c 11 <&3)" "secret of q" "the message is still there"
step "a blocked receive: a reader without CAP_NET_ADMIN neither waits nor takes the message"
printf 'receive 1\nq' >&3 || fail "receive request"
expect_fail nobody timeout 5 dd bs=4096 count=1 <&3
assert_contains "$ERR" "Operation not permitted" "read() of a waiting receive as nobody"
run nfluactl execute q -e 'nflua.send("second")'
IFS= read -r hdr <&3 || fail "no reply for the waiting receive"
assert_eq "$hdr" "0 6" "root gets the message"
assert_eq "$(head -c 6 <&3)" "second" "the message"
run nfluactl destroy q

step "another user: EACCES on open, exit 4"
expect_rc 4 nobody nfluactl list
assert_contains "$ERR" "CAP_NET_ADMIN" "message for an unprivileged user"

step "states are per network namespace"
run ip netns add x
run ip netns exec x nfluactl list
assert_eq "$OUT" "" "netns x sees no states"
expect_rc 1 ip netns exec x nfluactl execute web -e 'return 1'
run ip netns exec x nfluactl create web --budget 5000
run ip netns exec x nfluactl execute web -e 'where = "x" return where'
run nfluactl execute web -e 'return where'
assert_eq "$OUT" nil "init netns's web is another state"
run ip netns exec x nfluactl list
assert_contains "$OUT" "budget=5000" "netns x lists its own web"
run nfluactl list
assert_contains "$OUT" "budget=100000" "init netns lists its own web"
run unshare -n nfluactl list
assert_eq "$OUT" "" "a new netns (unshare -n) sees no states"
run nsenter --net=/run/netns/x nfluactl execute web -e 'return where'
assert_eq "$OUT" x "nsenter reaches netns x's state"

step "a descriptor keeps the opener's namespace"
# shellcheck disable=SC2016 # expanded by the inner sh
run ip netns exec x sh -c 'printf "execute 3 3 12\nwebwebreturn where" >&3; IFS= read -r h <&3; echo "$h"; head -c 3 <&3'
assert_eq "$OUT" "$(printf '0 3\nnil')" "fd opened in init netns acts on init's web from netns x"
exec 3<&-

step "deleting a netns frees its states"
run nfluactl destroy web
run ip netns exec x nfluactl destroy web
states0=$(module_stat all_states)
mem0=$(module_stat all_mem)
assert_eq "$states0" 0 "no states left anywhere"
run ip netns exec x nfluactl create a
run ip netns exec x nfluactl create b --maxalloc 2M
run ip netns exec x nfluactl execute b -e 't = {} for i = 1, 1000 do t[i] = tostring(i) end'
# unshare and sh exec, so $! ends up as the sleep that holds the namespace (the full path:
# lib.sh's unshare function would run in a subshell)
/usr/bin/unshare -n sh -c 'nfluactl create c && nfluactl create d && exec sleep 1000' &
pid=$!
i=0
while [ "$(module_stat all_states)" != 4 ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "states in other namespaces not counted: $(module_stat all_states)"
    sleep 0.1
done
assert_eq "$(module_stat states)" 0 "init netns has none of them"
[ "$(module_stat all_mem)" -gt "$mem0" ] || fail "all_mem does not count the states"
run ip netns del x
kill "$pid"
wait "$pid" 2>/dev/null
# netns cleanup runs in a workqueue: wait for it
i=0
while [ "$(module_stat all_states)" != 0 ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "states of deleted namespaces not freed: all_states=$(module_stat all_states)"
    sleep 0.1
done
assert_eq "$(module_stat all_mem)" "$mem0" "all_mem back to its value before"

step "an unprivileged user namespace is refused"
expect_rc 4 unshare -Urn nfluactl list
assert_contains "$ERR" "CAP_NET_ADMIN" "unshare -Urn"
expect_rc 4 unshare -Urn nfluactl create web
expect_rc 4 nobody unshare -Urn nfluactl list
assert_eq "$(module_stat all_states)" 0 "nothing was created"
