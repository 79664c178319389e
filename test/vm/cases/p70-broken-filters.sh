#!/bin/sh
# Broken filter functions installed in turn while traffic flows: one that errors, one that
# loops forever (the instruction budget stops it), one that returns a table, one a number.
# Each fails open (a DROP rule whose function is broken lets the traffic through), moves its
# counter (errors, budget_hits, bad_results: one per packet), and the router keeps forwarding
# an unrelated connection loop all along. Then a working version blocks again.
# timeout: 150
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

run nfluactl create web
run nfluactl execute web -e '
function good(pkt)	-- blocks the agent "blockme"
	return pkt:payload():find("\r\nUser-Agent: blockme", 1, true) ~= nil
end
check = good'
run nfluactl execute web -e 'function check_ua(pkt) return check(pkt) end'
net_pair 1 1
serve "$SRV" 80
serve "$SRV" 8080
ipt=iptables-nft
run $ipt -A FORWARD -p tcp --dport 80
run $ipt -A FORWARD -p tcp --dport 80 -m lua --state web --function check_ua -j DROP

rm -f /tmp/bg /tmp/stop
(
    while [ ! -e /tmp/stop ]; do
        rc=0
        nsdo "$CLI" curl -s -o /dev/null --max-time 5 -A blockme "http://$S4:8080/" || rc=$?
        echo "$rc" >>/tmp/bg
    done
) &

step "the working filter blocks"
get_blocked "$CLI" "http://$S4/" -A blockme
get_ok "$CLI" "http://$S4/" -A friend
[ "$(pkts $ipt FORWARD 2)" -ge 1 ] || fail "the working filter dropped nothing"

# phase NAME CODE COUNTER...: install check = CODE, fetch with the blocked agent (must pass),
# and check that each COUNTER moved by exactly the number of Lua calls (retransmissions of the
# blocked connection above reach the broken filter too: they are calls like the others)
phase() {
    name=$1 code=$2
    shift 2
    step "$name"
    run nfluactl execute web -e "check = $code"
    dropped=$(pkts $ipt FORWARD 2)
    snapshot $ipt FORWARD 1 web
    c0=$ST_calls m0=$ST_matches e0=$ST_errors b0=$ST_budget_hits r0=$ST_bad_results p0=$SP
    get_ok "$CLI" "http://$S4/" -A blockme
    get_ok "$CLI" "http://$S4/" -A blockme
    snapshot $ipt FORWARD 1 web
    dc=$((ST_calls - c0))
    echo "    calls +$dc matches +$((ST_matches - m0)) errors +$((ST_errors - e0))" \
        "budget_hits +$((ST_budget_hits - b0)) bad_results +$((ST_bad_results - r0))"
    assert_eq "$dc" "$((SP - p0))" "$name: calls = packets at the rule"
    [ "$dc" -ge 8 ] || fail "$name: only $dc calls for two requests"
    assert_eq "$ST_matches" "$m0" "$name: matches"
    assert_eq "$(pkts $ipt FORWARD 2)" "$dropped" "$name: drops"
    for cnt in errors budget_hits bad_results; do
        now=0
        eval "now=\$ST_$cnt"
        case " $* " in
        *" $cnt "*) want=$dc ;;
        *) want=0 ;;
        esac
        case $cnt in
        errors) was=$e0 ;;
        budget_hits) was=$b0 ;;
        bad_results) was=$r0 ;;
        esac
        assert_eq "$((now - was))" "$want" "$name: $cnt"
    done
}
phase "an endless loop" 'function(pkt) while true do end end' errors budget_hits
phase "an erroring function" 'function(pkt) error("broken filter") end' errors
phase "a table result" 'function(pkt) return {} end' bad_results
phase "a number result" 'function(pkt) return 1 end' bad_results
phase "a string result" 'function(pkt) return "true" end' bad_results

step "the working filter again"
run nfluactl execute web -e 'check = good'
get_blocked "$CLI" "http://$S4/" -A blockme
get_ok "$CLI" "http://$S4/" -A friend
touch /tmp/stop
wait
n=$(wc -l </tmp/bg)
echo "unrelated connection: $n requests: $(sort /tmp/bg | uniq -c | tr '\n' ' ')"
[ "$n" -ge 10 ] || fail "unrelated connection: only $n requests"
assert_eq "$(grep -vc '^0$' /tmp/bg)" 0 "unrelated requests that failed"
dmesg | grep 'nflua: web:' | sort -u -k2 | head -n 5
# the log is rate-limited (10 messages per 5 s for errors and for bad results): only the first
# phase of each kind is sure to be there
dmesg | grep -q 'nflua: web: .*instruction budget exhausted' || fail "the budget hit was not logged"
dmesg | grep -q 'nflua: web: check_ua returned table' || fail "the bad result was not logged"
