#!/bin/sh
# timeout: 1500
# `nfluactl apply` on the router, for real (OpenWrt's procd, ubus, uci, validate_data, the real
# nflua.ko, iptables-nft and iptables-legacy, traffic through the router): from a directory and
# from a tar stream; re-apply is `ok` with nothing touched (state and rule counters keep going);
# a changed script replaces the state; a syntax error and a rule iptables refuses roll back
# with the previous rules still filtering; --check touches nothing; --diff; hostile bundles
# refused with nothing touched; a hang-up after `staged` ends on the new policy; the applied
# policy survives stop/start and a flush by hand; a reload with a broken script keeps the
# previous version of that state; a state made per-CPU and back is replaced. docs/uci.md, "The
# transaction".
. /test/lib.sh
. /test/net.sh
. /test/openwrt.sh

# bundle DIR AGENT: the policy that drops User-Agent AGENT (/test/openwrt.sh) with this case's
# state options
bundle() { ua_bundle "$1" "$2" maxalloc=2M budget=200000; }

# apply RC ARGS...: nfluactl apply must exit RC; its records in $OUT
apply() {
	expect_rc "$1" shift_apply "$@"
}
shift_apply() {
	shift
	/usr/sbin/nfluactl apply "$@"
}
# has RECORD: the last apply printed that line
has() {
	printf '%s\n' "$OUT" | grep -qxF -- "$1" || fail "no record '$1' in: $OUT"
}
hasnt() {
	printf '%s\n' "$OUT" | grep -q -- "$1" && fail "record '$1' in: $OUT"
	return 0
}

# snap: what the router runs and has persisted (our chains' rules without counters, the
# states' names and limits, the persisted files)
snap() {
	{
		iptables-save | grep -- 'NFLUA' | sed 's/\[[0-9]*:[0-9]*\]//'
		ip6tables-save | grep -- 'NFLUA' | sed 's/\[[0-9]*:[0-9]*\]//'
		nfluactl list | cut -d' ' -f1,2,5
		md5sum /etc/config/nflua 2>/dev/null
		find /etc/nflua/apply -type f 2>/dev/null | sort | xargs md5sum 2>/dev/null
	}
}
# policy: our chains' rules with generation numbers and counters taken out, and the states'
# names (what a stop/start or a flush and start must restore)
policy() {
	{
		iptables-save | grep -- 'NFLUA' | sed 's/\[[0-9]*:[0-9]*\]//; s/NFLUA-\([A-Z]*\)-[01]/NFLUA-\1-G/g'
		ip6tables-save | grep -- 'NFLUA' | sed 's/\[[0-9]*:[0-9]*\]//; s/NFLUA-\([A-Z]*\)-[01]/NFLUA-\1-G/g'
		nfluactl list | cut -d' ' -f1,2,5
	}
}
# gen: the generation of our FORWARD chain jumped to now
gen() { iptables -S FORWARD | sed -n 's/^-A FORWARD -j NFLUA-FORWARD-\([01]\)$/\1/p'; }
# rule_pkts: packets counted by our v4 FORWARD rule
rule_pkts() { pkts iptables "NFLUA-FORWARD-$(gen)" 1; }
marker() { nfluactl execute web -e 'return marker'; }

net_init
net_pair 2 2
serve "$SRV" 80

step "OpenWrt runtime: syslogd, ubusd, procd"
rm -f /etc/config/nflua
openwrt_runtime

step "usage errors and a missing policy"
apply 2
has "result failed"
apply 2 --frobnicate /tmp
apply 2 /nonexistent
has "nflua-apply 1"

step "apply from a directory"
bundle /tmp/b1 blocked-agent
apply 0 /tmp/b1
has "nflua-apply 1"
has "change state web create"
has "change rules ipv4 filter FORWARD"
has "change rules ipv6 filter FORWARD"
has "change file /etc/config/nflua"
has "change file /etc/nflua/apply/web/20-list.lua"
has "result changed"
assert_eq "$(printf '%s\n' "$OUT" | tail -n 1)" "result changed" "result is the last line"
run nfluactl list
assert_contains "$OUT" "name=web maxalloc=2097152" "state web"
case $OUT in *"~new"*) fail "a staged state is left: $OUT" ;; esac
cmp /tmp/b1/etc/config/nflua /etc/config/nflua || fail "config not persisted"
cmp /tmp/b1/etc/nflua/apply/web/20-list.lua /etc/nflua/apply/web/20-list.lua || fail "script not persisted"
get_blocked "$CLI" "http://$S4/" -A blocked-agent
get_blocked "$CLI" "http://[$S6]/" -A blocked-agent
get_ok "$CLI" "http://$S4/" -A friendly-agent
get_ok "$CLI" "http://[$S6]/"
grep -qx staged /var/run/nflua/apply.log || fail "no 'staged' in apply.log: $(cat /var/run/nflua/apply.log)"

step "re-apply of the same files (directory, then a busybox tar stream): ok, nothing touched"
run nfluactl execute web -e 'marker = "still-here"'
g0=$(gen)
p0=$(rule_pkts)
[ "$p0" -gt 0 ] || fail "our rule counted no packets"
s0=$(snap)
apply 0 /tmp/b1
assert_eq "$OUT" "nflua-apply 1
result ok" "re-apply prints only ok"
(cd /tmp/b1 && busybox tar -cf /tmp/b1.tar etc) || fail "busybox tar"
apply 0 - </tmp/b1.tar
assert_eq "$OUT" "nflua-apply 1
result ok" "the same as a tar stream: ok"
assert_eq "$(snap)" "$s0" "nothing changed"
assert_eq "$(marker)" still-here "the state was not recreated"
assert_eq "$(gen)" "$g0" "the same chain generation"
get_ok "$CLI" "http://$S4/" -A friendly-agent
get_blocked "$CLI" "http://$S4/" -A blocked-agent
[ "$(rule_pkts)" -gt "$p0" ] || fail "the rule counters were reset or stopped ($p0 -> $(rule_pkts))"
run nfluactl stats web
calls=$(field "$OUT" calls)
[ "$calls" -gt 10 ] || fail "calls=$calls: the state looks new"

step "--check and --diff of a changed policy touch nothing"
bundle /tmp/b2 other-agent
(cd /tmp/b2 && busybox tar -cf /tmp/b2.tar etc) || fail "busybox tar"
apply 0 --check - </tmp/b2.tar
has "change state web replace"
has "change file /etc/nflua/apply/web/20-list.lua"
has "result would-change"
hasnt "diff|"
apply 0 --check --diff /tmp/b2
has 'diff| -return http_ua.configure{ "blocked-agent" }'
has 'diff| +return http_ua.configure{ "other-agent" }'
has "diff| --- a/etc/nflua/apply/web/20-list.lua"
has "result would-change"
# OpenWrt's busybox has no diff by default: the whole-file hunk
expect_rc 0 env NFLUA_DIFF=whole /usr/sbin/nfluactl apply --check --diff /tmp/b2
has "diff| +++ b/etc/nflua/apply/web/20-list.lua"
has "diff| @@ -1,1 +1,1 @@"
has 'diff| +return http_ua.configure{ "other-agent" }'
assert_eq "$(snap)" "$s0" "--check changed nothing"
assert_eq "$(marker)" still-here "the state is untouched"

step "re-apply decides from digests when nothing changed; whatever changed by hand still counts"
apply 0 /tmp/b1
assert_eq "$OUT" "nflua-apply 1
result ok" "re-apply of b1"
grep -qx 'done ok unchanged' /var/run/nflua/apply.log ||
	fail "the re-apply did not take the unchanged path: $(cat /var/run/nflua/apply.log)"
# the same tar stream again: decided before extracting it (its digest is recorded)
apply 0 - </tmp/b1.tar
has "result ok"
apply 0 - </tmp/b1.tar
has "result ok"
[ "$(cut -d' ' -f3 /var/run/nflua/applied.sum)" = "$(sha256sum </tmp/b1.tar | cut -d' ' -f1)" ] ||
	fail "applied.sum does not record the stream: $(cat /var/run/nflua/applied.sum)"
ms() { cut -d' ' -f1 /proc/uptime; }
took() { echo "$1 $2" | awk '{ printf "%d", ($2 - $1) * 1000 }'; }
t0=$(ms)
apply 0 - </tmp/b1.tar
t1=$(ms)
apply 0 /tmp/b1
t2=$(ms)
rm /var/run/nflua/applied.sum
apply 0 - </tmp/b1.tar
t3=$(ms)
grep -qx 'done ok' /var/run/nflua/apply.log || fail "no full comparison without applied.sum"
echo "    re-apply: same stream $(took "$t0" "$t1") ms, same files $(took "$t1" "$t2") ms, full comparison $(took "$t2" "$t3") ms"
# our chain emptied by hand, its jump kept: not 'ok' (the jump alone used to pass for live)
iptables -F "NFLUA-FORWARD-$(gen)"
get_ok "$CLI" "http://$S4/" -A blocked-agent
apply 0 /tmp/b1
has "change rules ipv4 filter FORWARD"
hasnt "change rules ipv6"
has "result changed"
get_blocked "$CLI" "http://$S4/" -A blocked-agent
# the jump deleted by hand
iptables -D FORWARD -j "NFLUA-FORWARD-$(gen)"
apply 0 /tmp/b1
has "change rules ipv4 filter FORWARD"
has "result changed"
get_blocked "$CLI" "http://$S4/" -A blocked-agent
# the state destroyed by hand (its rules first, so that the kernel lets it go)
iptables -F "NFLUA-FORWARD-$(gen)"
ip6tables -F "NFLUA-FORWARD-$(ip6tables -S FORWARD | sed -n 's/^-A FORWARD -j NFLUA-FORWARD-\([01]\)$/\1/p')"
run nfluactl destroy web
apply 0 /tmp/b1
has "change state web create"
has "change rules ipv4 filter FORWARD"
has "change rules ipv6 filter FORWARD"
has "result changed"
get_blocked "$CLI" "http://$S4/" -A blocked-agent
get_blocked "$CLI" "http://[$S6]/" -A blocked-agent
apply 0 /tmp/b1
assert_eq "$OUT" "nflua-apply 1
result ok" "back to ok"
# the installed config edited by hand
echo '# edited' >>/etc/config/nflua
apply 0 /tmp/b1
has "change file /etc/config/nflua"
has "result changed"
cmp /tmp/b1/etc/config/nflua /etc/config/nflua || fail "the bundle's config is not back"
# a script of the policies package (an upgrade) that the state loads from /usr/share/nflua/
rm -rf /tmp/b1s
cp -R /tmp/b1 /tmp/b1s
rm /tmp/b1s/etc/nflua/apply/web/10-http_ua.lua
sed -i 's,/etc/nflua/apply/web/10-http_ua.lua,/usr/share/nflua/policies/http_ua.lua,' /tmp/b1s/etc/config/nflua
apply 0 /tmp/b1s
has "change state web replace"
has "result changed"
apply 0 /tmp/b1s
has "result ok"
grep -qx 'done ok unchanged' /var/run/nflua/apply.log || fail "no unchanged path with a package script"
cp /usr/share/nflua/policies/http_ua.lua /tmp/http_ua.lua.orig
echo '-- upgraded' >>/usr/share/nflua/policies/http_ua.lua
apply 0 /tmp/b1s
has "change state web replace"
has "result changed"
cp /tmp/http_ua.lua.orig /usr/share/nflua/policies/http_ua.lua
apply 0 /tmp/b1
has "result changed"
get_blocked "$CLI" "http://$S4/" -A blocked-agent
get_ok "$CLI" "http://$S4/" -A friendly-agent
# --check never writes the record; a stop removes it
rm -f /var/run/nflua/applied.sum
apply 0 --check /tmp/b1
[ ! -e /var/run/nflua/applied.sum ] || fail "--check wrote applied.sum"
apply 0 /tmp/b1
assert_eq "$OUT" "nflua-apply 1
result ok" "ok from the full comparison"
[ -s /var/run/nflua/applied.sum ] || fail "a full comparison that found nothing to do wrote no applied.sum"

step "a changed script: replaced, new code live, old state gone"
apply 0 - </tmp/b2.tar
has "change state web replace"
has "result changed"
run nfluactl list
assert_eq "$(printf '%s\n' "$OUT" | cut -d' ' -f1)" "name=web" "one state, web (the old one destroyed)"
assert_eq "$(marker)" nil "web is a new state"
get_blocked "$CLI" "http://$S4/" -A other-agent
get_ok "$CLI" "http://$S4/" -A blocked-agent
cmp /tmp/b2/etc/nflua/apply/web/20-list.lua /etc/nflua/apply/web/20-list.lua || fail "not persisted"
assert_eq "$(iptables -S | grep -c '^-N NFLUA-')" 1 "one chain of ours (v4)"

step "a script with a syntax error: failed, Lua's chunk:line in the error, previous policy filters"
run nfluactl execute web -e 'marker = "v2"'
s2=$(snap)
bundle /tmp/b3 third-agent
printf 'x = = 1\n' >/tmp/b3/etc/nflua/apply/web/20-list.lua
apply 1 /tmp/b3
has "result failed"
printf '%s\n' "$OUT" | grep -q "^error state web: script /etc/nflua/apply/web/20-list.lua: 20-list.lua:1: " ||
	fail "no Lua error with chunk:line: $OUT"
assert_eq "$(snap)" "$s2" "nothing changed"
assert_eq "$(marker)" v2 "the previous state runs"
get_blocked "$CLI" "http://$S4/" -A other-agent
get_blocked "$CLI" "http://[$S6]/" -A other-agent
get_ok "$CLI" "http://$S4/" -A third-agent

step "a function the rules call is missing: failed at the test-call"
bundle /tmp/b3 third-agent
sed -i 's/http_ua_match/no_such_function/' /tmp/b3/etc/config/nflua
apply 1 /tmp/b3
has "error state web: the rules call no_such_function, which is nil, not a Lua function"
assert_eq "$(snap)" "$s2" "nothing changed"
# (an inverted match calls its function too: the test call covers `! --function F`)
bundle /tmp/b3 third-agent
cat >>/tmp/b3/etc/config/nflua <<'EOF'

config rule 'inverted'
	option state 'web'
	option function 'no_inverted_function'
	option invert '1'
	option target 'ACCEPT'
EOF
apply 1 /tmp/b3
has "error state web: the rules call no_inverted_function, which is nil, not a Lua function"
assert_eq "$(snap)" "$s2" "nothing changed"

step "a rule iptables refuses after the states switched: rolled back"
bundle /tmp/b4 fourth-agent
cat >>/tmp/b4/etc/config/nflua <<'EOF'

config rule 'bad'
	option family 'ipv6'
	option chain 'input'
	option match '-m nosuchmatch --foo'
	option state 'web'
	option function 'http_ua_match'
EOF
apply 1 /tmp/b4
has "change state web replace"
has "result failed"
printf '%s\n' "$OUT" | grep -q "^error rules ipv6: iptables-restore failed" || fail "no iptables error: $OUT"
assert_eq "$(snap)" "$s2" "everything as before"
assert_eq "$(marker)" v2 "the previous state has its name back"
get_blocked "$CLI" "http://$S4/" -A other-agent
get_ok "$CLI" "http://$S4/" -A fourth-agent
sys_log "rolling back" || fail "no rollback in the log"

step "hostile bundles are refused before anything is touched"
for b in /test/bundles/*.tar; do
	apply 2 - <"$b"
	has "result failed"
	printf '%s\n' "$OUT" | grep -q "^error bad bundle: " || fail "$b: $OUT"
	echo "  ${b##*/}: $(printf '%s\n' "$OUT" | grep '^error')"
done
head -c 20000 /dev/zero | NFLUA_BUNDLE_MAX=10000 /usr/sbin/nfluactl apply - >/tmp/big.out
[ $? = 2 ] || true
grep -q "^error bad bundle: bundle larger than 10000 bytes" /tmp/big.out || fail "a too big stream: $(cat /tmp/big.out)"
mkdir -p /tmp/b5/etc/nflua/apply/web
cp -R /tmp/b1/etc /tmp/b5/
ln -s /etc/shadow /tmp/b5/etc/nflua/apply/web/30-link.lua
apply 2 /tmp/b5
has "error bad bundle: not a regular file or directory: etc/nflua/apply/web/30-link.lua"
rm /tmp/b5/etc/nflua/apply/web/30-link.lua
sed -i "s|/etc/nflua/apply/web/20-list.lua|/etc/shadow|" /tmp/b5/etc/config/nflua
apply 1 /tmp/b5
has "error script /etc/shadow: only /etc/nflua/apply/ (the bundle) and /usr/share/nflua/ may be named"
assert_eq "$(snap)" "$s2" "nothing changed by the refused bundles"
[ ! -e /tmp/evil ] && [ ! -e /evil ] || fail "a hostile entry was written"

step "a hang-up after 'staged': the transaction goes on and the router ends on the new policy"
bundle /tmp/b6 sixth-agent
(cd /tmp/b6 && busybox tar -cf /tmp/b6.tar etc) || fail "busybox tar"
# as when an ssh connection is cut: the parent (the session's shell) is killed, the reader of
# stdout is gone, apply gets a hang-up
rm -f /tmp/hup.fifo
mkfifo /tmp/hup.fifo
cat /tmp/hup.fifo >/tmp/hup.out &
reader=$!
/bin/sh -c 'NFLUA_TEST_PAUSE=2 /usr/sbin/nfluactl apply - </tmp/b6.tar >/tmp/hup.fifo; echo after' &
parent=$!
wait_for 30 grep -qx staged /var/run/nflua/apply.log || fail "no 'staged': $(cat /var/run/nflua/apply.log)"
pid=$(sed -n 's/^begin apply //p' /var/run/nflua/apply.log)
kill -9 "$parent" "$reader"
kill -HUP "$pid" || fail "nfluactl apply ($pid) already gone at 'staged'"
wait_for 30 grep -qx "done" /var/run/nflua/apply.log || fail "the transaction did not finish: $(cat /var/run/nflua/apply.log)"
get_blocked "$CLI" "http://$S4/" -A sixth-agent
get_ok "$CLI" "http://$S4/" -A other-agent
cmp /tmp/b6/etc/nflua/apply/web/20-list.lua /etc/nflua/apply/web/20-list.lua || fail "not persisted"
apply 0 /tmp/b6
assert_eq "$OUT" "nflua-apply 1
result ok" "the router is exactly on the new policy"

step "a leftover web~new that rules still hold (a transaction killed after its exchange)"
run nfluactl create 'web~new'
run nfluactl execute 'web~new' -e 'function f() return false end'
run iptables -A INPUT -p udp --dport 9 -m lua --state 'web~new' --function f -j ACCEPT
bundle /tmp/b7 seventh-agent
apply 0 /tmp/b7
has "result changed"
get_blocked "$CLI" "http://$S4/" -A seventh-agent
run nfluactl list
assert_contains "$OUT" "name=web~old " "the leftover is parked as web~old"
case $OUT in *"name=web~new "*) fail "web~new left: $OUT" ;; esac
sys_log "web~new, left by an interrupted transaction, is now web~old" || fail "not logged"
# by number: a rule spec naming a state is checked, and no state has that name any more
n=$(iptables -S INPUT | grep -v '^-P' | grep -n -- '--dport 9 ' | cut -d: -f1)
run iptables -D INPUT "$n"
apply 0 /tmp/b6
has "result changed"
case $(nfluactl list) in *"~old"*) fail "web~old not destroyed once free" ;; esac

step "two applies at once are serialised (flock): the router ends on exactly one of them"
/usr/sbin/nfluactl apply /tmp/b1 >/tmp/c1.out 2>&1 &
c1=$!
/usr/sbin/nfluactl apply /tmp/b2 >/tmp/c2.out 2>&1 &
c2=$!
wait $c1 || fail "first apply: $(cat /tmp/c1.out)"
wait $c2 || fail "second apply: $(cat /tmp/c2.out)"
assert_eq "$(tail -n 1 /tmp/c1.out)" "result changed" "first apply"
assert_eq "$(tail -n 1 /tmp/c2.out)" "result changed" "second apply"
case $(nfluactl list) in *"~new"*) fail "a staged state is left" ;; esac
r1=$(/usr/sbin/nfluactl apply --check /tmp/b1 | tail -n 1)
r2=$(/usr/sbin/nfluactl apply --check /tmp/b2 | tail -n 1)
case "$r1 $r2" in
"result ok result would-change" | "result would-change result ok") ;;
*) fail "the router is on neither policy exactly ($r1, $r2)" ;;
esac
apply 0 /tmp/b6
has "result changed"

step "persistence: stop then start, and a flush by hand then start, restore the applied policy"
p6=$(policy)
run /etc/init.d/nflua stop
assert_eq "$(nfluactl list)" "" "stop: no state"
assert_eq "$(iptables-save | grep -c NFLUA)" 0 "stop: no chain"
get_ok "$CLI" "http://$S4/" -A sixth-agent
run /etc/init.d/nflua start
assert_eq "$(policy)" "$p6" "start restored the applied policy"
get_blocked "$CLI" "http://$S4/" -A sixth-agent
for c in $(iptables -S | sed -n 's/^-N \(NFLUA-[A-Z0-9-]*\)/\1/p'); do
	iptables -D FORWARD -j "$c"; iptables -F "$c"; iptables -X "$c"
done
for c in $(ip6tables -S | sed -n 's/^-N \(NFLUA-[A-Z0-9-]*\)/\1/p'); do
	ip6tables -D FORWARD -j "$c"; ip6tables -F "$c"; ip6tables -X "$c"
done
run nfluactl destroy web
run /etc/init.d/nflua start
assert_eq "$(policy)" "$p6" "start after a flush by hand restored the applied policy"
get_blocked "$CLI" "http://$S4/" -A sixth-agent
apply 0 /tmp/b6
has "result ok"

step "reload with a broken script keeps the previous version of that state"
run nfluactl execute web -e 'marker = "v6"'
printf 'x = = 1\n' >/etc/nflua/apply/web/20-list.lua
expect_fail /etc/init.d/nflua reload
assert_eq "$(marker)" v6 "the previous web runs"
get_blocked "$CLI" "http://$S4/" -A sixth-agent
sys_log "20-list.lua:1:" || fail "no Lua error in the log"
sys_log "state web: the previous version keeps running" || fail "the log does not say so"
cp /tmp/b6/etc/nflua/apply/web/20-list.lua /etc/nflua/apply/web/20-list.lua
run /etc/init.d/nflua reload
assert_eq "$(marker)" v6 "reload of the unchanged files touches nothing"

step "percpu: a shared state made per-CPU is replaced (its kind cannot change in place), and back"
bundle /tmp/b8 sixth-agent
awk '{ print } /option budget/ { print "\toption percpu '"'1'"'" }' /tmp/b6/etc/config/nflua >/tmp/b8/etc/config/nflua
grep -q "option percpu '1'" /tmp/b8/etc/config/nflua || fail "no percpu option in the bundle"
apply 0 --check /tmp/b8
has "change state web replace"
assert_contains "$(nfluactl list)" "name=web" "--check: web still there"
case $(nfluactl list) in *" percpu="*) fail "--check made web per-CPU" ;; esac
apply 0 /tmp/b8
has "change state web replace"
has "result changed"
run nfluactl list
assert_eq "$(printf '%s\n' "$OUT" | cut -d' ' -f1)" "name=web" "one state, web"
assert_contains "$OUT" " percpu=" "web is per-CPU"
assert_contains "$OUT" "maxalloc=2097152" "its limits (per replica)"
get_blocked "$CLI" "http://$S4/" -A sixth-agent
get_blocked "$CLI" "http://[$S6]/" -A sixth-agent
get_ok "$CLI" "http://$S4/" -A friendly-agent
apply 0 /tmp/b8
has "result ok"
rm /var/run/nflua/applied.sum	# the full comparison, not the digests, says the same
apply 0 /tmp/b8
has "result ok"
run /etc/init.d/nflua stop
run /etc/init.d/nflua start
assert_contains "$(nfluactl list)" " percpu=" "start restored web per-CPU"
get_blocked "$CLI" "http://$S4/" -A sixth-agent
apply 0 /tmp/b6
has "change state web replace"
run nfluactl list
case $OUT in *" percpu="*) fail "web still per-CPU: $OUT" ;; esac
get_blocked "$CLI" "http://$S4/" -A sixth-agent

step "the same transaction with iptables-legacy"
run /etc/init.d/nflua stop
export NFLUA_IPTABLES=iptables-legacy NFLUA_IP6TABLES=ip6tables-legacy
export NFLUA_IPTABLES_RESTORE=iptables-legacy-restore NFLUA_IP6TABLES_RESTORE=ip6tables-legacy-restore
apply 0 /tmp/b1
has "result changed"
run iptables-legacy -S FORWARD
assert_contains "$OUT" "-j NFLUA-FORWARD-" "legacy jump"
get_blocked "$CLI" "http://$S4/" -A blocked-agent
apply 0 /tmp/b1
has "result ok"
apply 0 /tmp/b2
has "result changed"
get_blocked "$CLI" "http://$S4/" -A other-agent
get_ok "$CLI" "http://$S4/" -A blocked-agent
s7=$(iptables-legacy-save | grep NFLUA | sed 's/\[[0-9]*:[0-9]*\]//')
apply 1 /tmp/b4
has "result failed"
assert_eq "$(iptables-legacy-save | grep NFLUA | sed 's/\[[0-9]*:[0-9]*\]//')" "$s7" "legacy: rolled back"
get_blocked "$CLI" "http://$S4/" -A other-agent
run /etc/init.d/nflua stop
assert_eq "$(iptables-legacy-save | grep -c NFLUA)" 0 "legacy: stop removed our chains"
unset NFLUA_IPTABLES NFLUA_IP6TABLES NFLUA_IPTABLES_RESTORE NFLUA_IP6TABLES_RESTORE

step "what --noflush does with a :CHAIN line of an existing chain (for docs/uci.md)"
for b in legacy nft; do
	"iptables-$b" -N NFLUA-PROBE
	"iptables-$b" -A NFLUA-PROBE -j ACCEPT
	printf '*filter\n:NFLUA-PROBE - [0:0]\nCOMMIT\n' | "iptables-$b-restore" --noflush
	echo "  $b: rules left in the chain after ':NFLUA-PROBE' with --noflush: $("iptables-$b" -S NFLUA-PROBE | grep -c '^-A')"
	"iptables-$b" -F NFLUA-PROBE
	"iptables-$b" -X NFLUA-PROBE
done
dmesg | grep -q "BUG\|WARNING" && fail "kernel log: $(dmesg | grep 'BUG\|WARNING')"
true
