#!/bin/sh
# Per-CPU states (create --percpu): one replica per possible CPU. execute reaches every replica
# (a value per CPU, in CPU order; split=1 frames the reply by replica); packets sent from each
# CPU run that CPU's replica (its counters and its Lua globals rise, not the other's); an error
# names the CPU and leaves the replicas before it changed; stats' sums equal the per-CPU split;
# set reaches every replica; destroy is refused while a rule uses the state; execute races
# traffic on both CPUs; a CPU taken offline and back keeps its replica; a normal state is
# unaffected.
# timeout: 300
. /test/lib.sh
TASKSET=/usr/bin/taskset
[ -x "$TASKSET" ] || fail "no $TASKSET in the guest"
W=$(mktemp -d /tmp/p46.XXXXXX) || fail "mktemp"
trap 'kill $(jobs -p) 2>/dev/null; iptables-legacy -F OUTPUT 2>/dev/null; rm -rf "$W"' EXIT

possible=$(cat /sys/devices/system/cpu/possible)
assert_eq "$possible" 0-1 "the guest has two possible CPUs"

# get STATE EXPR: the values of a Lua expression, TAB-separated (one per replica)
get() {
    run nfluactl execute "$1" -e "return $2"
    printf '%s' "$OUT"
}
TAB=$(printf '\t')
# split LIST: "A,B" -> A+B
sum() { echo $(( $(printf '%s' "$1" | sed 's/,/+/g') )); }
# ping from CPU $1, $2 packets
ping_on() { run "$TASKSET" -c "$1" ping -c "$2" -i 0.2 -W 1 127.0.0.1; }

step "create --percpu: one replica per CPU"
run nfluactl create pc --percpu --budget 200000
run nfluactl list
assert_contains "$OUT" "name=pc " "listed"
assert_eq "$(field "$OUT" percpu)" 2 "two replicas"
assert_eq "$(field "$OUT" cpus)" 0,1 "in CPU order"
assert_eq "$(get pc nflua.cpu)" "0${TAB}1" "execute runs on each replica, in CPU order"
assert_eq "$(get pc nflua.state)" "pc${TAB}pc" "every replica has the state's name"
# all three options together (a request of four fields)
run nfluactl create pc3 --percpu --maxalloc 2M --budget 300000
run nfluactl stats pc3
assert_contains "$OUT" "maxalloc=2097152" "pc3: maxalloc"
assert_contains "$OUT" "budget=300000" "pc3: budget"
assert_contains "$OUT" "percpu=2" "pc3: per CPU"
run nfluactl destroy pc3

step "the reply framed by replica (split=1), raw on /dev/nflua"
printf 'execute 2 1 16 7\npcxreturn nflua.cpusplit=1' >"$W/req"
exec 3<>/dev/nflua
cat "$W/req" >&3
reply=$(dd bs=4096 count=1 <&3 2>/dev/null)
exec 3>&-
assert_eq "$reply" "0 15 1 15 1
cpu=0 results=10cpu=1 results=11" "one header field before each replica's results"
printf 'execute 1 1 8 7\nnxreturn 1split=1' >"$W/req"
run nfluactl create n
exec 3<>/dev/nflua
cat "$W/req" >&3
reply=$(dd bs=4096 count=1 <&3 2>/dev/null)
exec 3>&-
assert_eq "$reply" "0 17 1
cpu=all results=11" "a normal state: one group"
printf 'execute 2 1 8 5\npcxreturn 1split' >"$W/req"
exec 3<>/dev/nflua
cat "$W/req" >&3
reply=$(dd bs=4096 count=1 <&3 2>/dev/null)
exec 3>&-
assert_contains "$reply" "invalid option 'split'" "a bad option is refused"

step "the router tool's --by-cpu: a line per replica (execute -e, a file, stdin; send)"
run nfluactl execute pc --by-cpu -e 'return nflua.cpu, "x"'
assert_eq "$OUT" "$(printf 'cpu0\t0\tx\ncpu1\t1\tx')" "execute --by-cpu"
printf 'return nflua.cpu * 10' >"$W/c.lua"
run nfluactl execute pc "$W/c.lua" --by-cpu
assert_eq "$OUT" "$(printf 'cpu0\t0\ncpu1\t10')" "from a file (the split field goes after it)"
OUT=$(printf 'return -nflua.cpu' | nfluactl execute pc --by-cpu -)
assert_eq "$OUT" "$(printf 'cpu0\t0\ncpu1\t-1')" "from standard input"
run nfluactl execute n --by-cpu -e 'return 1, 2'
assert_eq "$OUT" "$(printf 'all\t1\t2')" "a normal state: one line"
run nfluactl execute pc --by-cpu -e 'local _ = 1'
assert_eq "$OUT" "$(printf 'cpu0\ncpu1')" "no values: each replica still named"
run nfluactl execute pc -e 'return nflua.cpu, "x"'
assert_eq "$OUT" "$(printf '0\tx\t1\tx')" "without --by-cpu: one line, CPU order"
run nfluactl execute pc -e 'function on_receive(d) return d .. nflua.cpu end'
run nfluactl send pc --by-cpu hi
assert_eq "$OUT" "$(printf 'cpu0\thi0\ncpu1\thi1')" "send --by-cpu"
printf 'yo' >"$W/d"
run nfluactl send pc --by-cpu -f "$W/d"
assert_eq "$OUT" "$(printf 'cpu0\tyo0\ncpu1\tyo1')" "send -f FILE --by-cpu"
run nfluactl execute pc -e 'on_receive = nil'
expect_fail nfluactl execute pc --by-cpu -e 'if nflua.cpu == 1 then error("boom") end'
assert_contains "$ERR" "cpu 1: " "the failing replica named"
expect_fail nfluactl execute pc --by-cpu=1 -e 'return 1'
assert_contains "$ERR" "takes no value" "a flag"

step "packets from each CPU run that CPU's replica"
run nfluactl execute pc -e 'n = 0
function f(pkt) n = n + 1 return true end
function on_receive(s) return nflua.cpu .. ":" .. n end'
run iptables-legacy -A OUTPUT -o lo -p icmp --icmp-type echo-request -m lua --state pc --function f -j ACCEPT
ping_on 0 3
ping_on 1 2
assert_eq "$(get pc n)" "3${TAB}2" "Lua globals are per CPU"
run nfluactl send pc x
assert_eq "$OUT" "0:3${TAB}1:2" "send reaches every replica"
run nfluactl stats pc
st=$OUT
assert_eq "$(field "$st" cpu_matches)" 3,2 "matches per CPU"
assert_eq "$(field "$st" matches)" 5 "the sum"
assert_eq "$(field "$st" rules)" 1 "one rule"

step "stats: the sums equal the per-CPU split"
for k in mem calls errors budget_hits matches; do
    assert_eq "$(field "$st" "$k")" "$(sum "$(field "$st" "cpu_$k")")" "$k is the sum of cpu_$k"
done

step "an error names the CPU; the replicas before it keep what ran"
expect_fail nfluactl execute pc -e 'x = nflua.cpu if nflua.cpu == 1 then error("boom") end'
assert_contains "$ERR" "cpu 1: pc:1: boom" "the error names the CPU"
assert_eq "$(get pc x)" "0${TAB}1" "cpu 0 ran it all, cpu 1 up to the error"
expect_fail nfluactl execute pc -e 'y = 1 +'
assert_contains "$ERR" "cpu 0: pc:1:" "a syntax error stops at the first CPU"
assert_eq "$(get pc 'y == nil')" "true${TAB}true" "and nothing ran"

step "set reaches every replica; the memory cap is per replica"
run nfluactl set pc --budget 300000
assert_eq "$(field "$(nfluactl stats pc)" budget)" 300000 "budget"
expect_fail nfluactl execute pc -e 'if nflua.cpu == 1 then big = string.rep("a", 900000) end'
assert_contains "$ERR" "cpu 1: " "cpu 1 hits its own maxalloc (1M)"
run nfluactl execute pc -e 'big = nil collectgarbage() if nflua.cpu == 1 then keep = string.rep("b", 200000) end'
expect_fail nfluactl set pc --maxalloc 128K
assert_contains "$ERR" "cpu 1: state 'pc' uses" "cpu 1 uses more than 128K"
assert_eq "$(field "$(nfluactl stats pc)" maxalloc)" 1048576 "cpu 0's maxalloc was put back"
run nfluactl execute pc -e 'keep = nil collectgarbage()'
run nfluactl set pc --maxalloc 2M
assert_eq "$(field "$(nfluactl stats pc)" maxalloc)" 2097152 "maxalloc"
expect_fail nfluactl execute pc -e 'if nflua.cpu == 1 then big = string.rep("a", 900000) .. string.rep("c", 900000) end'
assert_contains "$ERR" "cpu 1: " "2M per replica, not for both"
run nfluactl execute pc -e 'big = nil collectgarbage()'

step "destroy is refused while a rule uses the state"
expect_fail nfluactl destroy pc
assert_contains "$ERR" "used by 1 iptables rule" "refused"

step "execute races traffic on both CPUs"
( i=0; while [ $i -lt 40 ]; do "$TASKSET" -c 0 ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; i=$((i + 1)); done ) &
p0=$!
( i=0; while [ $i -lt 40 ]; do "$TASKSET" -c 1 ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; i=$((i + 1)); done ) &
p1=$!
i=0
while [ $i -lt 30 ]; do
    run nfluactl execute pc -e "function f(pkt) n = n + 1 return true end t = {} for j = 1, 200 do t[j] = j end return #t"
    assert_eq "$OUT" "200${TAB}200" "execute $i"
    i=$((i + 1))
done
wait $p0 $p1
run nfluactl stats pc
st=$OUT
assert_eq "$(field "$st" matches)" 85 "every packet matched on its CPU (5 + 80)"
assert_eq "$(sum "$(get pc n | tr "$TAB" ,)")" 85 "and counted in its replica's n"

if [ -w /sys/devices/system/cpu/cpu1/online ]; then
    step "CPU 1 offline and back: its replica is kept"
    echo 0 >/sys/devices/system/cpu/cpu1/online || fail "offline"
    ping_on 0 1
    assert_eq "$(get pc nflua.cpu)" "0${TAB}1" "execute still reaches the offline CPU's replica"
    echo 1 >/sys/devices/system/cpu/cpu1/online || fail "online"
    ping_on 1 1
    assert_eq "$(field "$(nfluactl stats pc)" cpu_matches)" "$(echo "$(field "$st" cpu_matches)" | awk -F, '{print $1 + 1 "," $2 + 1}')" "both CPUs ran their replica"
else
    step "(no CPU hotplug in this kernel: skipped)"
fi

step "rename reaches every replica"
run nfluactl rename pc pc2
assert_eq "$(get pc2 nflua.state)" "pc2${TAB}pc2" "renamed"
run nfluactl rename pc2 pc

step "a normal state is unaffected"
run nfluactl list
line=$(printf '%s\n' "$OUT" | grep '^name=n ')
case $line in *percpu*|*cpu_*) fail "a normal state shows per-CPU keys: $line" ;; esac
assert_eq "$(get n 'nflua.cpu == nil')" true "no nflua.cpu"
run iptables-legacy -I OUTPUT 1 -o lo -p icmp --icmp-type echo-request -m lua --state n --function g -j ACCEPT
run nfluactl execute n -e 'k = 0 function g(pkt) k = k + 1 return false end'
ping_on 1 2
ping_on 0 2
assert_eq "$(get n k)" 4 "one state for every CPU"

step "destroy after the rules are gone; memory returns"
run iptables-legacy -F OUTPUT
before=$(field "$(nfluactl stats)" states_mem)
run nfluactl destroy pc
after=$(field "$(nfluactl stats)" states_mem)
[ "$after" -lt "$before" ] || fail "states_mem $before -> $after"
run nfluactl destroy n
case $(nfluactl list) in *name=pc*|*name=n\ *) fail "left: $(nfluactl list)" ;; esac
step "ok"
