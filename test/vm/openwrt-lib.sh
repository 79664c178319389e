# shellcheck shell=sh
# Helpers of the OpenWrt service cases (test/vm/openwrt/o*.sh), in the guest as /test/openwrt.sh
# (scripts/test-openwrt-service.sh; kept out of the case directory, where every *.sh is a
# case). Sourced after /test/lib.sh and /test/net.sh.

# wait_for SECS CMD...: CMD succeeds within SECS seconds (polled every 0.2 s)
wait_for() {
	_n=$(($1 * 5))
	shift
	while ! "$@" >/dev/null 2>&1; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		sleep 0.2
	done
}

# sys_log TEXT: the system log (busybox syslogd) has TEXT
sys_log() { grep -q -- "$1" /tmp/syslog; }

# openwrt_runtime: base-files' directories, then syslogd, ubusd and procd (not PID 1) running,
# procd's 'service' object on ubus
openwrt_runtime() {
	mkdir -p /var/run /var/lock /var/state /tmp/run /etc/config /etc/rc.d /etc/nflua
	[ -e /etc/config/firewall ] || touch /etc/config/firewall	# (the firewall package's file)
	busybox syslogd -n -O /tmp/syslog &
	/sbin/ubusd &
	wait_for 10 test -S /var/run/ubus/ubus.sock || fail "ubusd does not listen"
	/sbin/procd -S >/tmp/procd.log 2>&1 &
	wait_for 10 sh -c 'ubus list service | grep -qx service' ||
		fail "procd did not register 'service' on ubus"
}

# ours_left: lines of ours (chains, jumps) in the filter and mangle tables of both families
ours_left() { { iptables -S; iptables -t mangle -S; ip6tables -S; } 2>/dev/null | grep -c NFLUA; }
# jumps FAMILY-TOOL: jumps into our chains from FORWARD
jumps() { "$1" -S FORWARD 2>/dev/null | grep -c -- '-j NFLUA-'; }
# ours_once WHAT: exactly one jump per family into our chain
ours_once() {
	assert_eq "$(jumps iptables)" 1 "$1: one IPv4 jump into our chain"
	assert_eq "$(jumps ip6tables)" 1 "$1: one IPv6 jump into our chain"
}

# ua_config NAME [OPTION=VALUE...]: UCI state NAME (the packaged http_ua library, then a list
# with blocked-agent; OPTIONs set on the state, e.g. maxalloc=2M) and rule NAME_ua dropping its
# matches in forward, both families; committed
ua_config() {
	_s=$1
	shift
	echo 'return http_ua.configure{ "blocked-agent" }' >"/etc/nflua/$_s-list.lua"
	{
		echo "set nflua.$_s=state"
		for _o in "$@"; do echo "set nflua.$_s.$_o"; done
		echo "add_list nflua.$_s.script=/usr/share/nflua/policies/http_ua.lua"
		echo "add_list nflua.$_s.script=/etc/nflua/$_s-list.lua"
		echo "set nflua.${_s}_ua=rule"
		echo "set nflua.${_s}_ua.family=any"
		echo "set nflua.${_s}_ua.chain=forward"
		echo "set nflua.${_s}_ua.match='-p tcp --dport 80'"
		echo "set nflua.${_s}_ua.tcp_payload=1"
		echo "set nflua.${_s}_ua.state=$_s"
		echo "set nflua.${_s}_ua.function=http_ua_match"
		echo "set nflua.${_s}_ua.target=DROP"
		echo "commit nflua"
	} | uci -q batch || fail "uci batch for state $_s"
}

# ua_bundle DIR AGENT [OPTION=VALUE...]: in DIR, as the tree `nfluactl apply` takes, a policy
# that drops HTTP requests of User-Agent AGENT: state web (the packaged http_ua library, then a
# list; OPTIONs set on it, e.g. maxalloc=2M) and rule web_ua in forward, both families
ua_bundle() {
	_d=$1
	rm -rf "$_d"
	mkdir -p "$_d/etc/config" "$_d/etc/nflua/apply/web"
	cp /usr/share/nflua/policies/http_ua.lua "$_d/etc/nflua/apply/web/10-http_ua.lua"
	printf 'return http_ua.configure{ "%s" }\n' "$2" >"$_d/etc/nflua/apply/web/20-list.lua"
	shift 2
	{
		echo "config state 'web'"
		for _o in "$@"; do printf "\toption %s '%s'\n" "${_o%%=*}" "${_o#*=}"; done
		printf "\tlist script '%s'\n" /etc/nflua/apply/web/10-http_ua.lua /etc/nflua/apply/web/20-list.lua
		echo
		echo "config rule 'web_ua'"
		printf "\toption %s\n" "family 'any'" "chain 'forward'" "match '-p tcp --dport 80'" \
			"tcp_payload '1'" "state 'web'" "function 'http_ua_match'" "target 'DROP'"
	} >"$_d/etc/config/nflua"
}

# installed_ok LIST: the packages' files are in place (LIST: the package manager's file list of
# nfluactl), the post-install script ran (the fw4 include registered, the uci-defaults script
# gone, the service enabled and known to procd)
installed_ok() {
	grep -qx /usr/sbin/nfluactl "$1" || fail "$1 lacks /usr/sbin/nfluactl"
	[ -x /usr/sbin/nfluactl ] && [ -x /etc/init.d/nflua ] && [ -f /etc/config/nflua ] ||
		fail "nfluactl's files are not installed"
	[ -f /usr/share/nflua/policies/http_ua.lua ] || fail "nflua-policies' files are not installed"
	step "post-install: uci-defaults ran (and is gone), the service is enabled and started"
	run uci get firewall.nflua.path
	assert_eq "$OUT" /usr/lib/nflua/firewall.include "the fw4 include is registered"
	[ ! -e /etc/uci-defaults/95-nflua ] || fail "uci-defaults script left behind"
	ls /etc/rc.d/S*nflua >/dev/null 2>&1 || fail "not enabled: $(ls /etc/rc.d)"
	run ubus call service list '{"name":"nflua"}'
	assert_contains "$OUT" '"nflua"' "procd knows the service"
}

# blocked_all / served_all: the listed agent is dropped (v4 and v6), others are served; the
# listed agent is served
blocked_all() {
	get_blocked "$CLI" "http://$S4/" -A blocked-agent
	get_blocked "$CLI" "http://[$S6]/" -A blocked-agent
	get_ok "$CLI" "http://$S4/" -A friendly-agent
	get_ok "$CLI" "http://[$S6]/" -A friendly-agent
}
served_all() {
	get_ok "$CLI" "http://$S4/" -A blocked-agent
	get_ok "$CLI" "http://[$S6]/" -A blocked-agent
}
