# shellcheck shell=sh
#
# nflua-functions.sh: the router-side "switch to this policy" transaction of nflua, used by
# /etc/init.d/nflua (from /etc/config/nflua) and the fw4 include. Busybox sh only.
#
# A plan is a directory with two files:
#   states  one line per state: NAME MAXALLOC BUDGET SCRIPT... (MAXALLOC/BUDGET "-" = default)
#   rules   one line per rule:  FAMILY TABLE HOOK STATE ARGS... where FAMILY is ipv4 or ipv6,
#           HOOK the built-in chain in upper case, and ARGS the iptables arguments after -A
# f_apply PLAN makes the kernel match the plan: states created (or their limits changed) and
# their scripts run in order; a state whose script fails is left out with its rules, and the
# Lua error goes to the system log. Rules go into chains of our own (NFLUA-HOOK-0 or -1), filled
# first and then swapped in place of the previous generation, so traffic that stays allowed is
# never dropped during a reload and fw4's own tables are never touched. What was made is
# recorded in $NFLUA_RUN, so f_stop removes exactly that.

NFLUA_RUN=${NFLUA_RUN:-/var/run/nflua}
NFLUA_CTL=${NFLUA_CTL:-/usr/sbin/nfluactl}
NFLUA_LOG_TAG=nflua

# $1 - priority (err, warn, info), $2... - message
f_log() {
	f_prio=$1
	shift
	logger -t "$NFLUA_LOG_TAG" -p "daemon.$f_prio" -- "$*"
	[ "$f_prio" = info ] || printf 'nflua: %s\n' "$*" >&2
}

# $1 - family: the iptables command for it
f_ipt() {
	case $1 in
	ipv6) echo "${NFLUA_IP6TABLES:-ip6tables}" ;;
	*) echo "${NFLUA_IPTABLES:-iptables}" ;;
	esac
}

# $1 - state name: true when the kernel has it
f_state_exists() {
	"$NFLUA_CTL" list 2>/dev/null | sed -n 's/^name=\([^ ]*\).*/\1/p' | grep -qx -- "$1"
}

# $1 - name, $2 - maxalloc, $3 - budget, $4... - scripts. Returns 1 (and logs why) on failure.
f_state_load() {
	f_name=$1 f_max=$2 f_bud=$3
	shift 3
	if f_state_exists "$f_name"; then
		f_opts=
		[ "$f_max" = - ] || f_opts="$f_opts --maxalloc $f_max"
		[ "$f_bud" = - ] || f_opts="$f_opts --budget $f_bud"
		# shellcheck disable=SC2086 # option words
		[ -z "$f_opts" ] || f_out=$("$NFLUA_CTL" set "$f_name" $f_opts 2>&1) ||
			{ f_log err "state $f_name: $f_out"; return 1; }
	else
		f_opts=
		[ "$f_max" = - ] || f_opts="$f_opts --maxalloc $f_max"
		[ "$f_bud" = - ] || f_opts="$f_opts --budget $f_bud"
		# shellcheck disable=SC2086
		f_out=$("$NFLUA_CTL" create "$f_name" $f_opts 2>&1) ||
			{ f_log err "state $f_name: $f_out"; return 1; }
		echo "$f_name" >>"$NFLUA_RUN/states.made"
	fi
	for f_script in "$@"; do
		f_out=$("$NFLUA_CTL" execute "$f_name" "$f_script" 2>&1) || {
			f_log err "state $f_name: script $f_script failed: $f_out"
			return 1
		}
	done
	f_log info "state $f_name: $# script(s) loaded"
}

# $1 - state: destroys it if we made it (rules using it must be gone)
f_state_drop() {
	grep -qx -- "$1" "$NFLUA_RUN/states.made" 2>/dev/null || return 0
	f_state_exists "$1" && { "$NFLUA_CTL" destroy "$1" >/dev/null 2>&1 ||
		f_log warn "state $1: destroy refused (rules of others still use it?)"; }
	grep -vx -- "$1" "$NFLUA_RUN/states.made" >"$NFLUA_RUN/states.tmp"
	mv "$NFLUA_RUN/states.tmp" "$NFLUA_RUN/states.made"
}

# $1 - family, $2 - table, $3 - hook: which generation (0, 1) is installed, or nothing
f_gen_of() {
	sed -n "s/^$1 $2 $3 //p" "$NFLUA_RUN/chains" 2>/dev/null
}

# $1 - rules file (plan format, broken states already left out): installs every
# (family, table, hook) group as a new generation, then removes groups no longer there.
f_rules_install() {
	f_rules=$1
	: >"$NFLUA_RUN/chains.new"
	f_fail=0
	for f_group in $(cut -d' ' -f1-3 "$f_rules" | sort -u | tr ' ' ':'); do
		f_fam=${f_group%%:*} f_rest=${f_group#*:}
		f_tab=${f_rest%%:*} f_hook=${f_rest#*:}
		f_ipt=$(f_ipt "$f_fam")
		f_old=$(f_gen_of "$f_fam" "$f_tab" "$f_hook")
		f_new=0
		[ "$f_old" = 0 ] && f_new=1
		f_chain=NFLUA-$f_hook-$f_new
		"$f_ipt" -t "$f_tab" -N "$f_chain" 2>/dev/null || "$f_ipt" -t "$f_tab" -F "$f_chain"
		while read -r f_l_fam f_l_tab f_l_hook f_l_state f_l_args; do
			[ "$f_l_fam $f_l_tab $f_l_hook" = "$f_fam $f_tab $f_hook" ] || continue
			# shellcheck disable=SC2086 # iptables words, split on blanks, no globbing
			(set -f; "$f_ipt" -t "$f_tab" -A "$f_chain" $f_l_args) 2>"$NFLUA_RUN/ipt.err" ||
				{ f_log err "rule of state $f_l_state ($f_fam $f_tab $f_hook $f_l_args): $(cat "$NFLUA_RUN/ipt.err")"; f_fail=1; }
		done <"$f_rules"
		"$f_ipt" -t "$f_tab" -I "$f_hook" 1 -j "$f_chain" || { f_fail=1; continue; }
		if [ -n "$f_old" ]; then
			f_chain_del "$f_ipt" "$f_tab" "$f_hook" "NFLUA-$f_hook-$f_old"
		fi
		echo "$f_fam $f_tab $f_hook $f_new" >>"$NFLUA_RUN/chains.new"
	done
	# groups of the previous plan that this one no longer has
	while read -r f_fam f_tab f_hook f_old; do
		grep -q "^$f_fam $f_tab $f_hook " "$NFLUA_RUN/chains.new" && continue
		f_chain_del "$(f_ipt "$f_fam")" "$f_tab" "$f_hook" "NFLUA-$f_hook-$f_old"
	done <"$NFLUA_RUN/chains" 2>/dev/null
	mv "$NFLUA_RUN/chains.new" "$NFLUA_RUN/chains"
	return $f_fail
}

# $1 - iptables command, $2 - table, $3 - hook, $4 - our chain: unhooks, flushes, deletes it
f_chain_del() {
	while "$1" -t "$2" -D "$3" -j "$4" 2>/dev/null; do :; done
	"$1" -t "$2" -F "$4" 2>/dev/null
	"$1" -t "$2" -X "$4" 2>/dev/null
	return 0
}

# $1 - plan directory: the transaction (see the top of this file)
f_apply() {
	f_plan=$1
	mkdir -p "$NFLUA_RUN"
	: >"$NFLUA_RUN/broken"
	: >"$NFLUA_RUN/wanted"
	while read -r f_s_name f_s_max f_s_bud f_s_scripts; do
		[ -n "$f_s_name" ] || continue
		echo "$f_s_name" >>"$NFLUA_RUN/wanted"
		# shellcheck disable=SC2086 # script paths, one word each
		f_state_load "$f_s_name" "$f_s_max" "$f_s_bud" $f_s_scripts || echo "$f_s_name" >>"$NFLUA_RUN/broken"
	done <"$f_plan/states"
	# rules of broken or unknown states are left out
	: >"$NFLUA_RUN/rules"
	while read -r f_r_fam f_r_tab f_r_hook f_r_state f_r_args; do
		[ -n "$f_r_fam" ] || continue
		if grep -qx -- "$f_r_state" "$NFLUA_RUN/broken" || ! grep -qx -- "$f_r_state" "$NFLUA_RUN/wanted"; then
			f_log warn "rule $f_r_fam $f_r_tab $f_r_hook of state $f_r_state left out (state not loaded)"
			continue
		fi
		echo "$f_r_fam $f_r_tab $f_r_hook $f_r_state $f_r_args" >>"$NFLUA_RUN/rules"
	done <"$f_plan/rules"
	f_rules_install "$NFLUA_RUN/rules"
	f_rc=$?
	# states of ours that are broken or no longer wanted go once no rule of ours uses them
	for f_s in $(cat "$NFLUA_RUN/states.made" 2>/dev/null); do
		if grep -qx -- "$f_s" "$NFLUA_RUN/broken" || ! grep -qx -- "$f_s" "$NFLUA_RUN/wanted"; then
			f_state_drop "$f_s"
		fi
	done
	[ ! -s "$NFLUA_RUN/broken" ] && return $f_rc
	return 1
}

# Reinstalls the rules of the last plan (after a firewall action flushed them).
f_rules_restore() {
	[ -f "$NFLUA_RUN/rules" ] || return 0
	# fw4's "stop" deletes every nft table: our chains may be gone while recorded
	while read -r f_fam f_tab f_hook f_old; do
		"$(f_ipt "$f_fam")" -t "$f_tab" -L "NFLUA-$f_hook-$f_old" -n >/dev/null 2>&1 && continue
		sed -i "/^$f_fam $f_tab $f_hook /d" "$NFLUA_RUN/chains"
	done <"$NFLUA_RUN/chains" 2>/dev/null
	f_rules_install "$NFLUA_RUN/rules"
}

# Removes every chain, rule and state this service made.
f_stop() {
	[ -d "$NFLUA_RUN" ] || return 0
	: >"$NFLUA_RUN/rules.none"
	f_rules_install "$NFLUA_RUN/rules.none"
	for f_s in $(cat "$NFLUA_RUN/states.made" 2>/dev/null); do
		f_state_drop "$f_s"
	done
	rm -f "$NFLUA_RUN/rules" "$NFLUA_RUN/rules.none" "$NFLUA_RUN/wanted" "$NFLUA_RUN/broken"
}
