#!/bin/sh
# Packet rate through FORWARD rules, each configuration against the no-rule baseline of the same
# traffic and the same CPU count, in the same VM (scripts/bench.sh turns the lines into ratios,
# bench/results.md and a chart). trafgen in a client namespace sends TCP segments at full speed
# through the router to a dummy interface; its sending also runs the router's softirq work, so
# the rate is what the router handled: packets received on its client-side interface per second
# (forwarded or dropped by a rule) while trafgen sent its NPKT packets, on 1 CPU (one trafgen) and
# on 2 CPUs (trafgen --cpus 2: two senders, each CPU running the rules for its own).
# Traffic:
#   tls   a TLS ClientHello to port 443, SNI www.allowed.net (in no list: forwarded)
#   drop  the same with SNI www.example.net, which the 1,000-name list holds (dropped)
#   http  an HTTP GET to port 80 with a browser's User-Agent (in no list: forwarded)
# Configurations (traffic):
#   none-tls, none-http   no rule (the baselines)
#   string1 (http)        one xt_string rule (-m string --algo bm), needle not in the packet
#   string1000 (http)     1,000 xt_string rules, 1,000 different needles, none in the packet
#   lua-dport (tls)       a Lua match that only reads pkt.dport (the cost of a call)
#   lua-ua1 (http)        a Lua match searching the payload for one User-Agent needle
#   lua-ua1000 (http)     a Lua match: the User-Agent value looked up in a 1,000-entry table
#   lua-sni (drop)        the talk's benchmark: policies/tls_sni.lua on every ClientHello with a
#                         1,000-name list holding the packets' name: every packet dropped
#   lua-sni-pc (drop)     lua-sni on a per-CPU state (create --percpu): each CPU its own replica
#   lua-sni-cm (tls)      tls_sni behind a connmark cache (Lua sees the flow's first packet only)
# Then control-plane figures: create + execute of a 1 KiB, 100 KiB and 1 MiB script; list with
# NSTATES states.
# Output lines: "BENCH <config> <traffic> <cpus> <round> <pps> <packets> <seconds> <busy%>",
# "CTRL <what> <seconds>".
# timeout: 3000
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/p00-net.sh	# the packet-path cases' helpers (scripts/bench.sh puts it there)

# nflua_bench_packets=N nflua_bench_rounds=N nflua_bench_states=N nflua_bench_seconds=N on the
# kernel command line: a measurement ends after N packets or N seconds, whichever comes first
opt() { tr " " "\n" </proc/cmdline | sed -n "s/^nflua_$1=//p"; }
NPKT=$(opt bench_packets) ROUNDS=$(opt bench_rounds) NSTATES=$(opt bench_states) SECS=$(opt bench_seconds)
NPKT=${NPKT:-1000000} ROUNDS=${ROUNDS:-3} NSTATES=${NSTATES:-1000} SECS=${SECS:-4}
CONFIGS="none-tls:tls none-http:http string1:http string1000:http lua-dport:tls lua-ua1:http
lua-ua1000:http lua-sni:drop lua-sni-pc:drop lua-sni-cm:tls"
command -v trafgen >/dev/null || fail "trafgen is not in the image"
NCPU=$(grep -c '^processor' /proc/cpuinfo)
CPUS=1
[ "$NCPU" -ge 2 ] && CPUS="1 2"
echo "guest: $NCPU CPUs; $NPKT packets or $SECS s per measurement, $ROUNDS rounds"

net_init
run ip netns add c1
run ip link add rc1 type veth peer name eth0 netns c1
run ip addr add 10.1.1.1/24 dev rc1
run ip link set rc1 up
run ip -n c1 addr add 10.1.1.2/24 dev eth0
run ip -n c1 link set eth0 up
run ip -n c1 link set lo up
run ip link add sink type dummy
run ip link set sink up
run ip route add 10.99.0.0/16 dev sink

rmac=$(cat /sys/class/net/rc1/address)
cmac=$(ip netns exec c1 cat /sys/class/net/eth0/address)
hex() { printf '%0*x' $(($2 * 2)) "$1"; }
tohex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
# frame FILE DPORT HEXPAYLOAD: a trafgen config of one TCP segment
frame() {
    cat >"$1" <<EOF
{
  eth(da=$rmac, sa=$cmac),
  ipv4(sa=10.1.1.2, da=10.99.0.1, ttl=64, df),
  tcp(sp=40000, dp=$2, seq=1, aseq=1, ack, psh, win=512),
  $(printf %s "$3" | sed 's/../0x&, /g; s/, $//')
}
EOF
}
# A ClientHello: record(handshake) > ClientHello(TLS 1.2, 32-byte random, no session id,
# 2 suites, null compression) > extensions: server_name(NAME), supported_versions.
hello() {
    name=$1
    sni_ext=$(hex 0 2)$(hex $((${#name} + 5)) 2)$(hex $((${#name} + 3)) 2)00$(hex ${#name} 2)$(tohex "$name")
    exts=${sni_ext}002b0003020304
    body=0303$(printf '%064d' 0)00$(hex 4 2)13011302$(hex 1 1)00$(hex $((${#exts} / 2)) 2)$exts
    hs=01$(hex $((${#body} / 2)) 3)$body
    printf %s "160301$(hex $((${#hs} / 2)) 2)$hs"
}
frame /tmp/tls.cfg 443 "$(hello www.allowed.net)"
frame /tmp/drop.cfg 443 "$(hello www.example.net)"
UA="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
frame /tmp/http.cfg 80 "$(printf 'GET /index.html HTTP/1.1\r\nHost: www.allowed.net\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n' "$UA" |
    od -An -tx1 | tr -d ' \n')"

# The Lua state: the functions the rules call, and the lists
run nfluactl create bench --budget 10000000 --maxalloc 16777216	# the lists take more than a packet
run nfluactl execute bench /policies/tls_sni.lua
awk 'BEGIN { printf "local t = { \"www.example.net\""; for (i = 1; i < 1000; i++) printf ", \"host%d.example\"", i; print " }"
    print "return tls_sni.configure(t)" }' >/tmp/sni-list.lua
run nfluactl execute bench /tmp/sni-list.lua
assert_eq "$OUT" 1000 "1,000 names listed"
# the same SNI filter on a per-CPU state
run nfluactl create benchpc --percpu --budget 10000000 --maxalloc 16777216
run nfluactl execute benchpc /policies/tls_sni.lua
run nfluactl execute benchpc /tmp/sni-list.lua
run nfluactl set benchpc --budget 100000
awk 'BEGIN { print "ua_list = {}"; for (i = 0; i < 1000; i++) printf "ua_list[\"Bot%d/1.0 (+http://bot%d.example/)\"] = true\n", i, i }' >/tmp/ua-list.lua
run nfluactl execute bench /tmp/ua-list.lua
run nfluactl execute bench -e 'function by_port(pkt) return pkt.dport == 1 end
-- one needle, as one xt_string rule does: a search of the payload
function ua1(pkt) return pkt:payload():find("User-Agent: BadBot", 1, true) ~= nil end
-- the User-Agent value, looked up in the table
function ua1000(pkt)
    local p = pkt:payload()
    local s = p:find("\r\nUser-Agent: ", 1, true)
    if not s then return false end
    local e = p:find("\r", s + 14, true)
    return ua_list[p:sub(s + 14, (e or #p + 1) - 1)] == true
end
function classify(pkt)
    local bad = tls_sni_match(pkt)
    pkt:connmark(bad and 1 or 2)
    return bad
end'
run nfluactl set bench --budget 100000	# what a packet may take
awk 'BEGIN { print "*filter"; for (i = 0; i < 1000; i++) printf "-A FORWARD -p tcp --dport 80 -m string --algo bm --string \"User-Agent: BadBot%d\" -j DROP\n", i; print "COMMIT" }' >/tmp/string1000.rules

rules() {
    iptables-legacy -F FORWARD
    iptables-legacy -t mangle -F FORWARD
    case $1 in
        none-*) ;;
        string1) iptables-legacy -A FORWARD -p tcp --dport 80 -m string --algo bm --string "User-Agent: BadBot" -j DROP ;;
        string1000) iptables-legacy-restore --noflush </tmp/string1000.rules ;;
        lua-dport) iptables-legacy -A FORWARD -p tcp --dport 443 -m lua --state bench --function by_port -j DROP ;;
        lua-ua1) iptables-legacy -A FORWARD -p tcp --dport 80 -m lua --state bench --function ua1 --tcp-payload -j DROP ;;
        lua-ua1000) iptables-legacy -A FORWARD -p tcp --dport 80 -m lua --state bench --function ua1000 --tcp-payload -j DROP ;;
        lua-sni) iptables-legacy -A FORWARD -p tcp --dport 443 -m lua --state bench --function tls_sni_match --tcp-payload -j DROP ;;
        lua-sni-pc) iptables-legacy -A FORWARD -p tcp --dport 443 -m lua --state benchpc --function tls_sni_match --tcp-payload -j DROP ;;
        lua-sni-cm)
            # the first packet of the flow is classified (mark 2 = allowed), the rest skip Lua
            iptables-legacy -A FORWARD -p tcp --dport 443 -m connmark --mark 2 -j ACCEPT
            iptables-legacy -A FORWARD -p tcp --dport 443 -m lua --state bench --function classify --tcp-payload -j DROP ;;
    esac || fail "rules for $1"
}

now() { cut -d' ' -f1 /proc/uptime; }
RX=/sys/class/net/rc1/statistics/rx_packets
# busy and total jiffies of all CPUs (/proc/stat: idle and iowait are not busy)
cpustat() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
# settle: the router has handled what the last measurement left queued (its received count
# stands still for 0.3 s; at most 5 s)
settle() {
    read -r _s0 <"$RX"
    _i=0
    while [ "$_i" -lt 25 ]; do
        sleep 0.3
        read -r _s1 <"$RX"
        [ "$_s1" != "$_s0" ] || return 0
        _s0=$_s1
        _i=$((_i + 1))
    done
}
# start_sender [N]: once the router is settled, trafgen ($pid) sends N packets (default NPKT; 0:
# until stopped) of $traffic on $cpus CPUs (the sender on CPU i is pinned to it); a0 is the
# router's received count before it
start_sender() {
    settle
    read -r a0 <"$RX"
    ip netns exec c1 trafgen -o eth0 -i "/tmp/$traffic.cfg" --cpus "$cpus" -n "${1:-$NPKT}" -q -C --no-sock-mem >/tmp/trafgen.log 2>&1 &
    pid=$!
}
# first_packets TENTHS: waits (at most TENTHS tenths of a second) until the router receives
# the sender's first packets or the sender ends; a is the count then
first_packets() {
    a=$a0 i=0
    while [ "$a" = "$a0" ] && [ "$i" -lt "$1" ] && kill -0 "$pid" 2>/dev/null; do
        sleep 0.1
        read -r a <"$RX"
        i=$((i + 1))
    done
}
# stop_sender: ends trafgen ($pid, config $c) and waits until no sender is left to run into the
# next measurement
stop_sender() {
    kill -INT "$pid" 2>/dev/null
    # trafgen blocked on a full TX ring may never see the SIGINT (the bench hung there, at
    # string1000): after 5 s it and its per-CPU children are killed
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "  ($c: trafgen ignored SIGINT for 5 s: killed)"
        killall -KILL trafgen 2>/dev/null
    fi
    wait "$pid" || echo "  ($c: trafgen: $(grep -v -e '^$' -e Running /tmp/trafgen.log | tail -n 1))"
    i=0
    while pidof trafgen >/dev/null && [ "$i" -lt 50 ]; do
        killall -KILL trafgen 2>/dev/null
        sleep 0.1
        i=$((i + 1))
    done
    pidof trafgen >/dev/null && fail "$c: trafgen cannot be stopped"
}
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for cpus in $CPUS; do
        for ct in $CONFIGS; do
            c=${ct%%:*} traffic=${ct#*:}
            rules "$c"
            start_sender
            # a sender whose first flush of its TX ring failed (EAGAIN: the client's queue still
            # full) sent nothing: once more, after the queue drained
            first_packets 10
            if ! kill -0 "$pid" 2>/dev/null && grep -q 'Flushing TX_RING failed' /tmp/trafgen.log; then
                read -r a <"$RX"
                if [ "$a" = "$a0" ]; then
                    wait "$pid"
                    echo "  ($c: trafgen's first flush failed: started again)"
                    start_sender
                fi
            fi
            # the window opens at trafgen's first packets (its start-up is not the router's
            # work) and closes at the last sample taken while it ran: after SECS seconds, or
            # when it stops (NPKT sent, or its TX ring failed with EAGAIN under load). The
            # loops use shell builtins only: a fork per sample would compete with trafgen.
            first_packets 100
            read -r a <"$RX"
            read -r t0 _ </proc/uptime
            s0=$(cpustat)
            end=$((${t0%.*} + SECS))
            b=$a t1=$t0
            while kill -0 "$pid" 2>/dev/null; do
                sleep 0.2
                read -r b <"$RX"
                read -r t1 _ </proc/uptime
                [ "${t1%.*}" -lt "$end" ] || break
            done
            s1=$(cpustat)
            stop_sender
            [ "$t1" != "$t0" ] || t1=$(awk -v t="$t0" 'BEGIN { print t + 0.01 }')
            echo "$s0 $s1" | awk -v c="$c" -v tr="$traffic" -v cpus="$cpus" -v r="$r" -v n=$((b - a)) -v a="$t0" -v b="$t1" \
                '{ busy = $4 - $2 > 0 ? 100 * ($3 - $1) / ($4 - $2) : 0
                   printf "BENCH %s %s %d %d %d %d %.2f %.0f\n", c, tr, cpus, r, n / (b - a), n, b - a, busy }'
            read -r b <"$RX"
            [ $((b - a0)) -gt 0 ] || fail "$c: no packet reached the router"
        done
    done
    r=$((r + 1))
done
rules none-tls
stats bench
echo "state: calls=$ST_calls matches=$ST_matches errors=$ST_errors budget_hits=$ST_budget_hits"
assert_eq "$ST_errors$ST_budget_hits" 00 "no call failed or ran out of budget"
[ "$ST_matches" -gt 0 ] || fail "lua-sni matched no packet"
stats benchpc
echo "per-CPU state: calls=$ST_calls matches=$ST_matches errors=$ST_errors budget_hits=$ST_budget_hits"
assert_eq "$ST_errors$ST_budget_hits" 00 "no per-CPU call failed or ran out of budget"
[ "$ST_matches" -gt 0 ] || fail "lua-sni-pc matched no packet"

# ---- where a packet's time goes ----
# perf in the guest samples CPU 0 (cpu-clock: TCG has no hardware counters) while one sender,
# pinned there, sends for SECS seconds: the sender's own work, the router's softirq work and the
# rules all run on that CPU. For the baseline, the cost of a call and the SNI filter, lines
# "PROFILE <config> dso <self%> <dso>" and "PROFILE <config> sym <self%> <dso> <symbol>" (time in
# the function itself, 0.5% and up), "PROFILE <config> under <total%> <symbol>" (in a function
# and what it called, for the rule's entry points), "PROFILE <config> rule <self%> <symbol>"
# (what the rule's time is made of: 0.25% and up)
command -v perf >/dev/null || fail "perf is not in the image"
# report ARGS...: perf report of config $c's samples into /tmp/report.txt. perf report exits
# with 0 even on an option it does not know: an error is what it prints, or no report at all.
report() {
    perf report -i "/tmp/perf-$c.data" --stdio -q -g none --percent-limit 0.5 "$@" >/tmp/report.txt 2>/tmp/perf.log
    if [ $? -ne 0 ] || grep -q '^Error' /tmp/perf.log || [ ! -s /tmp/report.txt ]; then
        fail "$c: perf report $*: $(grep -v '^ *$' /tmp/perf.log | head -n 3 | tr '\n' ' ')"
    fi
}
cpus=1
for ct in none-tls:tls lua-dport:tls lua-sni:drop; do
    c=${ct%%:*} traffic=${ct#*:}
    rules "$c"
    # a sender whose TX ring flush fails (EAGAIN) stops: the profile is taken again, with a
    # sender that kept sending through the whole window
    tries=1
    while :; do
        start_sender 0
        first_packets 100
        if kill -0 "$pid" 2>/dev/null; then
            perf record -q -C 0 -g -e cpu-clock -F 1000 -o "/tmp/perf-$c.data" -- sleep "$SECS" >/tmp/perf.log 2>&1 ||
                fail "$c: perf record: $(tail -n 3 /tmp/perf.log)"
            kill -0 "$pid" 2>/dev/null && break
        fi
        stop_sender
        [ "$tries" -lt 5 ] || fail "$c: the sender stopped in each of 5 tries to profile it"
        echo "  ($c: the sender stopped while profiled: again)"
        tries=$((tries + 1))
    done
    stop_sender
    {
        # perf's output goes to a file first: a failure inside a pipeline would not end the case
        report --no-children --sort dso
        awk -v c="$c" 'NF >= 2 { sub(/%$/, "", $1); print "PROFILE", c, "dso", $1, $2 }' /tmp/report.txt
        report --no-children --sort dso,sym
        awk -v c="$c" 'NF >= 4 { sub(/%$/, "", $1); print "PROFILE", c, "sym", $1, $2, $4 }' /tmp/report.txt
        report --children --sort sym
        awk -v c="$c" '$4 ~ /^(ipt_do_table|xt_lua_mt|nflua_state_packet(\.constprop\.0)?|luaV_execute)$/ {
            sub(/%$/, "", $1); print "PROFILE", c, "under", $1, $4 }' /tmp/report.txt
        # the rule's time by function: samples with xt_lua_mt in their call chain, by the
        # function they were in (a sample is a block of "address symbol" lines, leaf first)
        perf script -i "/tmp/perf-$c.data" -F ip,sym >/tmp/report.txt 2>/tmp/perf.log ||
            fail "$c: perf script: $(tail -n 3 /tmp/perf.log)"
        awk -v c="$c" '
            function sample() { if (n) { total++; if (in_rule) rule[leaf]++ } n = 0; in_rule = 0 }
            NF == 0 { sample(); next }
            { if (++n == 1) leaf = $2; if ($2 == "xt_lua_mt") in_rule = 1 }
            END { sample(); for (f in rule) if (rule[f] * 400 >= total) printf "PROFILE %s rule %.2f %s\n", c, 100 * rule[f] / total, f }' \
            /tmp/report.txt | sort -k4,4nr
    } >/tmp/profile.txt
    cat /tmp/profile.txt
    grep -q "^PROFILE $c sym " /tmp/profile.txt || fail "$c: the profile has no function"
    case $c in lua-*)
        grep -q "^PROFILE $c under [0-9.]* xt_lua_mt$" /tmp/profile.txt || fail "$c: the profile never saw the rule's match"
        grep -q "^PROFILE $c rule " /tmp/profile.txt || fail "$c: no call chain of the profile went through the rule's match" ;;
    esac
done
rules none-tls

# ---- control plane ----
ctrl() { awk -v w="$1" -v a="$2" -v b="$3" 'BEGIN { printf "CTRL %s %.2f\n", w, b - a }'; }
# a script of about SIZE bytes: string constants in a table
for size in 1024 102400 1048576; do
    awk -v n="$size" 'BEGIN { print "local t = {}"; for (i = 1; i * 64 < n; i++) printf "t[%d] = \"%050d\"\n", i, i; print "return #t" }' >/tmp/load.lua
    t0=$(now)
    run nfluactl create load --maxalloc 67108864 --budget 10000000
    t1=$(now)
    run nfluactl execute load /tmp/load.lua
    t2=$(now)
    ctrl "create+load-$size" "$t0" "$t2"
    ctrl "load-$size" "$t1" "$t2"
    run nfluactl destroy load
done
echo "$((NSTATES + 16))" >/sys/module/nflua/parameters/max_states
t0=$(now)
i=0
while [ "$i" -lt "$NSTATES" ]; do
    nfluactl create "s$i" || fail "create s$i"
    i=$((i + 1))
done
t1=$(now)
ctrl "create-$NSTATES" "$t0" "$t1"
t0=$(now)
n=$(nfluactl list | grep -c '^name=s[0-9]')
t1=$(now)
assert_eq "$n" "$NSTATES" "states listed"
ctrl "list-$NSTATES" "$t0" "$t1"
i=0
while [ "$i" -lt "$NSTATES" ]; do
    nfluactl destroy "s$i" || fail "destroy s$i"
    i=$((i + 1))
done
