#!/bin/sh
# The router topology of the packet-path cases (p*.sh): sourced by them after /test/lib.sh
# (`. /test/cases/p00-net.sh`); run as a case itself, it checks that the topology forwards
# IPv4 and IPv6 and serves HTTP with no rules.
#
# The guest's main namespace is the router. net_pair TAG N makes two namespaces, c$TAG (the
# client) and s$TAG (the server), each joined to the router by a veth pair (rc$TAG / rs$TAG on
# the router side, eth0 inside):
#
#   c$TAG eth0 10.N.1.2/24 fd00:N:1::2/64 --- rc$TAG 10.N.1.1 fd00:N:1::1   (router, FORWARD)
#   s$TAG eth0 10.N.2.2/24 fd00:N:2::2/64 --- rs$TAG 10.N.2.1 fd00:N:2::1
#
# and sets CLI, SRV, C4, S4, RC4, RS4, C6, S6, RC6, RS6. Give each backend (legacy, nft) its own
# pair: TCP retransmissions of a blocked connection must not reach the next backend's rules.
# timeout: 60

# net_init: forwarding on, no IPv6 duplicate address detection (no waiting for addresses)
net_init() {
    echo 1 >/proc/sys/net/ipv4/ip_forward
    echo 1 >/proc/sys/net/ipv6/conf/all/forwarding
    echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad
    echo 0 >/proc/sys/net/ipv6/conf/all/accept_dad
}

# nsdo NS CMD...: run CMD in namespace NS (the real tools: ip netns exec searches $PATH); NS "-"
# is the router (the main namespace)
nsdo() {
    _ns=$1
    shift
    if [ "$_ns" = - ]; then
        "$@"
    else
        /usr/sbin/ip netns exec "$_ns" "$@"
    fi
}

# nsbg NS CMD...: CMD in the background in NS; $! is then CMD's own process (ip netns exec
# execs it), so `kill $!` stops it (`nsdo ... &` would leave $! a subshell, and kill that only)
nsbg() {
    _ns=$1
    shift
    /usr/sbin/ip netns exec "$_ns" "$@" &
}

# net_pair TAG N: see above
net_pair() {
    CLI=c$1 SRV=s$1
    # shellcheck disable=SC2034 # used by the cases that source this file
    C4=10.$2.1.2 RC4=10.$2.1.1 S4=10.$2.2.2 RS4=10.$2.2.1
    # shellcheck disable=SC2034
    C6=fd00:$2:1::2 RC6=fd00:$2:1::1 S6=fd00:$2:2::2 RS6=fd00:$2:2::1
    # a previous case's namespaces are deleted asynchronously: their veth peers may linger here
    for _l in "rc$1" "rs$1"; do
        /usr/sbin/ip link del "$_l" 2>/dev/null
        _i=0
        while /usr/sbin/ip link show "$_l" >/dev/null 2>&1; do
            _i=$((_i + 1))
            [ $_i -lt 100 ] || fail "link $_l of an earlier case does not go away"
            sleep 0.05
        done
    done
    run ip netns add "$CLI"
    run ip netns add "$SRV"
    for _ns in "$CLI" "$SRV"; do
        nsdo "$_ns" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad
            echo 0 >/proc/sys/net/ipv6/conf/all/accept_dad' || fail "accept_dad in $_ns"
        run ip -n "$_ns" link set lo up
    done
    _net_leg "rc$1" "$CLI" 1 "$2"
    _net_leg "rs$1" "$SRV" 2 "$2"
}

# _net_leg ROUTER-IF NS SIDE N
_net_leg() {
    run ip link add "$1" type veth peer name eth0 netns "$2"
    run ip addr add "10.$4.$3.1/24" dev "$1"
    run ip -6 addr add "fd00:$4:$3::1/64" dev "$1" nodad
    run ip link set "$1" up
    run ip -n "$2" addr add "10.$4.$3.2/24" dev eth0
    run ip -n "$2" -6 addr add "fd00:$4:$3::2/64" dev eth0 nodad
    run ip -n "$2" link set eth0 up
    run ip -n "$2" route add default via "10.$4.$3.1"
    run ip -n "$2" -6 route add default via "fd00:$4:$3::1"
}

# net_cut TAG: take the client's link down so that retransmissions of blocked connections stop
# reaching the router (counters are compared after this)
net_cut() {
    run ip -n "c$1" link set eth0 down
    sleep 0.3
}

# serve NS PORT [TEXT]: busybox httpd in NS (- for the router) on PORT (all addresses, v4 and v6) serving
# /index.html = TEXT (default "hello from NS:PORT"); waits until it listens
serve() {
    _dir=/tmp/www-$1-$2
    mkdir -p "$_dir"
    printf '%s\n' "${3:-hello from $1:$2}" >"$_dir/index.html"
    nsdo "$1" busybox httpd -p "$2" -h "$_dir" || fail "httpd in $1 on port $2"
    wait_listen "$1" "$2"
}

# wait_listen NS PORT: wait (up to 5 s) until a TCP socket listens on PORT in NS
wait_listen() {
    _i=0
    while ! nsdo "$1" ss -Hltn "sport = :$2" | grep -q .; do
        _i=$((_i + 1))
        [ $_i -lt 100 ] || fail "nothing listens on port $2 in $1"
        sleep 0.05
    done
}

# fetch NS MAXTIME CURL-ARGS...: curl in NS; sets RC (exit status), BODY (stdout), CERR
# (stderr), FT (seconds it took)
fetch() {
    _ns=$1 _t=$2
    shift 2
    RC=0
    _t0=$(cut -d' ' -f1 /proc/uptime)
    BODY=$(nsdo "$_ns" curl -sS --max-time "$_t" "$@" 2>/tmp/.curl.err) || RC=$?
    # shellcheck disable=SC2034 # read by the cases that source this file
    FT=$(awk -v a="$_t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }')
    CERR=$(cat /tmp/.curl.err)
}

# get_ok NS URL [CURL-ARGS...]: the page must come (exit 0, body "hello from ...")
get_ok() {
    _u=$2
    _n=$1
    shift 2
    fetch "$_n" 10 "$@" "$_u"
    [ "$RC" = 0 ] || fail "curl $* $_u from $_n: exit $RC ($CERR), expected the page"
    assert_contains "$BODY" "hello from" "curl $* $_u from $_n"
}

# get_blocked NS URL [CURL-ARGS...]: no page: curl times out (exit 28) after 2 s
get_blocked() {
    _u=$2
    _n=$1
    shift 2
    fetch "$_n" 2 "$@" "$_u"
    [ "$RC" = 28 ] || fail "curl $* $_u from $_n: exit $RC ($CERR; body '$BODY'), expected a timeout (28)"
}

# pkts IPT CHAIN N: packet counter of rule N of CHAIN
pkts() {
    "$1" -L "$2" -v -x -n 2>/dev/null | awk -v n="$3" 'NR == n + 2 { print $1 }'
}

# counter STATE KEY: a counter of nfluactl stats
counter() {
    nfluactl stats "$1" | sed -n "s/^$2=//p"
}

# stats STATE: set ST_calls, ST_errors, ST_matches, ... to the state's numeric counters (one call)
# shellcheck disable=SC2034 # read by the cases that source this file
ST_calls='' ST_errors='' ST_budget_hits='' ST_matches='' ST_bad_results='' ST_rules=''
stats() {
    _st=$(nfluactl stats "$1") || fail "nfluactl stats $1"
    eval "$(printf '%s\n' "$_st" | sed -n 's/^\([a-z_]*\)=\([0-9]*\)$/ST_\1=\2/p')"
}

# snapshot IPT CHAIN N STATE [M]: stats STATE (ST_*), SP = packets of rule N and SP2 = packets of
# rule M (if given), read while the rules counted nothing in between (so that Lua's calls and the
# rules' packets are from one moment)
snapshot() {
    _i=0
    while :; do
        _a=$(pkts "$1" "$2" "$3") _a2=${5:+$(pkts "$1" "$2" "$5")}
        stats "$4"
        SP=$(pkts "$1" "$2" "$3") SP2=${5:+$(pkts "$1" "$2" "$5")}
        [ "$_a" != "$SP" ] || [ "$_a2" != "$SP2" ] || return 0
        _i=$((_i + 1))
        [ $_i -lt 20 ] || fail "counters of $1 $2 rule $3 do not settle"
    done
}

# quiet IPT CHAIN N: wait (up to 6 s) until rule N of CHAIN counts nothing for 0.3 s, so that
# late packets of the last connection (a final ACK, a retransmission on a loaded machine) are
# not counted with the next step's
quiet() {
    _i=0 _a=$(pkts "$1" "$2" "$3")
    while sleep 0.3; _b=$(pkts "$1" "$2" "$3"); [ "$_a" != "$_b" ]; do
        _a=$_b _i=$((_i + 1))
        [ $_i -lt 20 ] || fail "rule $3 of $1 $2 keeps counting"
    done
}

# nft_compat_refs: reference count of nft_compat in /proc/modules (0 if not loaded)
nft_compat_refs() {
    awk '$1 == "nft_compat" { r = $3 } END { print r + 0 }' /proc/modules
}

case $0 in
*p00-net.sh)
    # shellcheck source=test/vm/guest/lib.sh
    . /test/lib.sh
    net_init
    step "topology"
    net_pair 1 1
    run nsdo "$CLI" ping -c 1 -W 2 "$S4"
    run nsdo "$SRV" ping -c 1 -W 2 "$C4"
    run nsdo "$CLI" ping -c 1 -W 2 "$S6"
    run nsdo "$SRV" ping -c 1 -W 2 "$C6"
    step "HTTP through the router, v4 and v6"
    serve "$SRV" 80
    get_ok "$CLI" "http://$S4/"
    assert_eq "$BODY" "hello from $SRV:80" "page"
    get_ok "$CLI" "http://[$S6]/"
    step "no route back without forwarding"
    echo 0 >/proc/sys/net/ipv4/ip_forward
    get_blocked "$CLI" "http://$S4/" --connect-timeout 1
    echo 1 >/proc/sys/net/ipv4/ip_forward
    get_ok "$CLI" "http://$S4/"
    ;;
esac
