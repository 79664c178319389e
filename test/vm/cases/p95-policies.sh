#!/bin/sh
# Differential test of policies/ (issue 6): every policy's match function in the kernel gives, on
# every packet, the result the simulator (`nfluactl simulate`, fengari) gave on the host.
# scripts/test-kernel.sh runs test/vm/policies/prepare.mjs, which writes /test/policies-data: one
# Ethernet capture (replay.pcap) of policies/fixtures/*.pcap followed by 1,000 mutated and
# truncated packets per policy (the simulator fuzz test's mutator; lengths and IPv4 checksums
# made valid so that ip_rcv passes them to netfilter), and the simulator's results per packet
# (expect.txt: "capture #pkt result-per-policy").
#
# Topology: namespace tx (IPv6 disabled: it sends nothing by itself) --veth-- namespace rx, whose
# veth has the MAC every replayed frame is sent to (PACKET_HOST). rx has no conntrack (so no
# defragmentation before raw). One state "pol" holds every policy; in rx's raw PREROUTING, v4 and
# v6 (legacy), rule 1 counts every packet and rule 2 calls probe(pkt), which calls each policy's
# match function (pcall) and appends "#pkt result..." to the table R. trafgen replays the
# capture once; R is read back (in pages: a reply is at most 256 KiB) and compared line by line.
# Fails on any disagreement, a packet count other than the replayed one, or a Lua error.
# timeout: 240
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh

D=/test/policies-data
[ -r "$D/expect.txt" ] || fail "no $D: run this case through scripts/test-kernel.sh"
command -v trafgen >/dev/null || fail "trafgen is not in the image"
POLS=$(cat "$D/policies.txt")
NPOL=$(echo "$POLS" | wc -l)
IPTS="iptables-legacy ip6tables-legacy"
MAC=02:00:00:00:99:99
rx() { /usr/sbin/ip netns exec rx "$@"; }

step "topology: tx --veth-- rx ($MAC)"
echo 100000 >/proc/sys/net/core/netdev_max_backlog
run ip netns add tx
run ip netns add rx
/usr/sbin/ip netns exec tx sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
    echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' || fail "disable_ipv6 in tx"
run ip link add tx0 netns tx mtu 9000 type veth peer name rx0 netns rx mtu 9000
run ip -n rx link set rx0 address "$MAC"
run ip -n tx link set tx0 up
run ip -n rx link set rx0 up
rx ethtool -K rx0 gro off >/dev/null 2>&1 || true # no coalescing (off already where veth has no NAPI)

step "state pol: $(echo "$POLS" | tr '\n' ' ')"
# one chunk: each policy file and its configuration in a function of its own, then the probe
{
    for p in $POLS; do
        printf ';(function()\n'; cat "/policies/$p.lua"; printf '\nend)()\n;(function()\n'
        cat "/policies/$p.conf.lua"; printf '\nend)()\n'
    done
    printf 'local F = {'; for p in $POLS; do printf ' %s_match,' "$p"; done; printf ' }\n'
    cat <<'LUA'
R, N = {}, 0
function probe(pkt)
    local r, err = { #pkt }, nil
    for i = 1, #F do
        local ok, m = pcall(F[i], pkt)
        if ok then r[i + 1] = tostring(m) else r[i + 1], err = 'error', m end
    end
    N = N + 1
    R[N] = table.concat(r, ' ')
    if err then error(err, 0) end -- counted in stats
    return false
end
return N
LUA
} >/tmp/pol.lua
# the simulator's budget is per policy call (100000), the probe calls all of them in one
run rx nfluactl create pol --maxalloc 32M --budget $((NPOL * 100000 + 10000))
run rx nfluactl execute pol /tmp/pol.lua
for ipt in $IPTS; do
    run rx "$ipt" -t raw -A PREROUTING -i rx0
    run rx "$ipt" -t raw -A PREROUTING -i rx0 -m lua --state pol --function probe
done

# rule1_sum: packets of rule 1 of raw PREROUTING (every packet), v4 + v6
rule1_sum() {
    _s=0
    for _i in $IPTS; do
        _c=$(rx "$_i" -t raw -L PREROUTING -v -x -n | awk 'NR == 3 { print $1 }')
        _s=$((_s + ${_c:-0}))
    done
    echo "$_s"
}

T0=$(cut -d' ' -f1 /proc/uptime)
REPLAYED=$(awk '{ n += $3 } END { print n }' "$D/captures.txt")
step "replay: $REPLAYED packets"
# trafgen's last TX_RING flush may fail with EAGAIN after every frame went out: the packet
# counts below are the check, not the exit status
/usr/sbin/ip netns exec tx trafgen -o tx0 -i "$D/replay.pcap" --cpus 1 --no-sock-mem -q -C \
    -n "$REPLAYED" >/tmp/trafgen.out 2>&1 || echo "(trafgen exit $?: $(tail -n 1 /tmp/trafgen.out))"
TT=$(cut -d' ' -f1 /proc/uptime)
i=0
while got=$(rule1_sum); [ "$got" -lt "$REPLAYED" ]; do
    i=$((i + 1))
    [ $i -lt 30 ] || fail "$got of $REPLAYED packets reached the rule"
    sleep 0.2
done
T1=$(cut -d' ' -f1 /proc/uptime)

step "read back"
: >/tmp/got.txt
a=1
while :; do
    r=$(rx nfluactl execute pol -e "local a = $a
local b = a + 2499
if b > N then b = N end
return N .. '\n' .. table.concat(R, '\n', a, b)") || fail "reading R"
    n=$(printf '%s\n' "$r" | head -n 1)
    [ "$n" -ge "$a" ] 2>/dev/null || break
    printf '%s\n' "$r" | sed 1d >>/tmp/got.txt
    a=$((a + 2500))
done
[ "$(rule1_sum)" = "$REPLAYED" ] || fail "$(rule1_sum) packets reached the rule, $REPLAYED were sent"
T2=$(cut -d' ' -f1 /proc/uptime)

# the table: per capture and policy; of the fuzz captures, each policy's own (the others are
# compared too and shown only where they disagree)
echo "policies: $(echo "$POLS" | tr '\n' ' ')"
awk -v pols="$POLS" '
    BEGIN { np = split(pols, P, "\n") }
    FILENAME == ARGV[1] { cap[++nc] = $1; frames[$1] = $2; replayed[$1] = $3; next }
    FILENAME == ARGV[2] { want[FNR] = $0; n = FNR; next }
    { got[FNR] = $0; m = FNR }
    END {
        bad = 0
        for (i = 1; i <= (n > m ? n : m); i++) {
            split(want[i], w, " "); split(got[i], g, " ")
            c = w[1]
            if (c == "") { c = "(extra)"; extra++ }
            for (k = 1; k <= np; k++) {
                key = c SUBSEP k
                called[key]++
                if (w[k + 2] == "true") match_[key]++
                if (i <= n && w[2] == g[1] && w[k + 2] == g[k + 1]) agree[key]++
                else if (shown++ < 10) printf "DIFF packet %d (%s), %s: simulator \"%s %s\", kernel \"%s %s\"\n", i, c, P[k], w[2], w[k + 2], g[1], g[k + 1]
            }
        }
        printf "%-11s %-16s %7s %8s %6s %7s %s\n", "policy", "capture", "packets", "replayed", "called", "matches", "agree"
        for (j = 1; j <= nc; j++) for (k = 1; k <= np; k++) {
            c = cap[j]; key = c SUBSEP k
            ok = agree[key] + 0 == called[key] + 0
            if (!ok) bad++
            if (c ~ /^fuzz-/ && c != "fuzz-" P[k] && ok) continue
            printf "%-11s %-16s %7d %8d %6d %7d %s\n", P[k], c, frames[c], replayed[c], called[key], match_[key],
                ok ? "100%" : sprintf("DISAGREE %d/%d", agree[key], called[key])
        }
        if (extra) { printf "the kernel recorded %d more packets than the simulator\n", extra; bad++ }
        if (m < n) { printf "the kernel recorded %d packets, the simulator %d\n", m, n; bad++ }
        printf "total: %d packets x %d policies, %s\n", n, np, bad ? bad " disagreeing rows" : "100% agreement"
        exit bad != 0
    }' "$D/captures.txt" "$D/expect.txt" /tmp/got.txt || fail "the kernel disagrees with the simulator"
echo "guest time: replay $(awk -v a="$T0" -v b="$T1" 'BEGIN { print b - a }') s (trafgen $(awk -v a="$T0" -v b="$TT" 'BEGIN { print b - a }') s), read back $(awk -v a="$T1" -v b="$T2" 'BEGIN { print b - a }') s"

step "no Lua errors or budget hits"
st=$(rx nfluactl stats pol) || fail "stats pol"
for c in errors budget_hits bad_results; do
    assert_eq "$(printf '%s\n' "$st" | sed -n "s/^$c=//p")" 0 "stats pol: $c"
done

for ipt in $IPTS; do run rx "$ipt" -t raw -F PREROUTING; done
run rx nfluactl destroy pol
