#!/bin/sh
# A reply must never produce another reply without bound. A tcpreply answer is ACK|PSH|FIN
# with data, so it is itself a segment a filter may want to answer: with the same replying
# rule in FORWARD and in OUTPUT, the answer to a request passed OUTPUT, was answered, and so on
# (on the unmodified code: "BUG: IRQ stack guard page was hit", the guest died). Now tcpreply
# refuses any segment that carries FIN (every answer does): the OUTPUT call gets nil and why,
# exactly one answer is sent, and the client gets it.
# timeout: 150
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/rr.lua <<'EOF'
SENT, REFUSED, WHY = 0, 0, "none"
function ping(p)
	local ok, why = p:tcpreply("x")
	if ok then SENT = SENT + 1 else REFUSED = REFUSED + 1 WHY = why end
	return false
end
EOF
run nfluactl create rr
run nfluactl execute rr /tmp/rr.lua

lua_get() {
    run nfluactl execute rr -e "return $1"
    printf '%s' "$OUT"
}

n=37
for ipt in iptables-legacy iptables-nft; do
    n=$((n + 1))
    net_pair "$n" "$n"
    serve "$SRV" 80
    step "$ipt: the replying rule in FORWARD and in OUTPUT, one GET"
    run nfluactl execute rr -e 'SENT, REFUSED, WHY = 0, 0, "none"'
    run "$ipt" -A FORWARD -p tcp --dport 80 -m lua --state rr --function ping --tcp-payload
    run "$ipt" -A OUTPUT -p tcp -m lua --state rr --function ping --tcp-payload
    fetch "$CLI" 3 -s -o /dev/null "http://$S4/"
    net_cut "$n"
    assert_eq "$(lua_get SENT)" 1 "$ipt: answers sent"
    [ "$(lua_get REFUSED)" -ge 1 ] || fail "$ipt: OUTPUT never saw the answer"
    assert_contains "$(lua_get WHY)" "FIN" "$ipt: why the answer is not answered"
    run "$ipt" -F FORWARD
    run "$ipt" -F OUTPUT
done
run nfluactl destroy rr
