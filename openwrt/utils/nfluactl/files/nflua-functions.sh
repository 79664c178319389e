# shellcheck shell=dash
# (busybox ash: dash is the nearest dialect Debian 12's shellcheck knows; both have `local`)
# SC2154: the UCI options are set by f_validate; SC2089/SC2090: the schema's quotes are
# validate_data's, passed as words on purpose.
# shellcheck disable=SC2154,SC2089,SC2090
#
# nflua-functions.sh: the router-side "switch to this policy" transaction of nflua (docs/uci.md,
# "The transaction"). One implementation serves /etc/init.d/nflua (start, reload, stop,
# restore_rules, from the installed /etc/config/nflua) and `nfluactl apply` (a bundle: the UCI
# file and its Lua files, checked, switched to and persisted). Busybox sh only.
#
# A plan is a directory with two files, made from a UCI file by f_plan:
#   states  one line per state: NAME MAXALLOC BUDGET KIND SCRIPT... (MAXALLOC/BUDGET "-" =
#           default; KIND "shared", one Lua state, or "percpu", a replica per CPU)
#   rules   one line per rule:  FAMILY TABLE HOOK STATE ARGS... where FAMILY is ipv4 or ipv6,
#           HOOK the built-in chain in upper case, and ARGS the iptables arguments after -A
# What runs is recorded in $NFLUA_RUN:
#   applied  one line per state we run: NAME DIGEST MAXALLOC BUDGET KIND SCRIPT... (DIGEST: sha256
#            of the scripts' paths and bytes, as loaded)
#   rules    the rules installed (plan format)
#   apply.log  the progress of the last transaction ("staged" once every new state is loaded)
#   applied.sum  after an apply: TREE SHARE BUNDLE, the digests of the files it persisted, of
#            the policies package's scripts its states load ("-": none) and of the tar stream
#            it came as ("-": a directory) (f_unchanged); removed by any switch and by stop
# Rules live in chains of our own, NFLUA-HOOK-0 and NFLUA-HOOK-1 (one generation jumped to from
# the built-in chain); a switch fills the other generation and swaps the jump in one
# iptables-restore --noflush batch per family, so fw4's tables are never touched and traffic
# that stays allowed is never dropped.

NFLUA_RUN=${NFLUA_RUN:-/var/run/nflua}
NFLUA_CTL=${NFLUA_CTL:-/usr/sbin/nfluactl}
NFLUA_LOCK=${NFLUA_LOCK:-/var/lock/nflua.lock}
NFLUA_UCI=${NFLUA_UCI:-nflua}
NFLUA_LOG_TAG=nflua
# bundle limits (nfluactl apply): bytes of the tar stream, bytes of one file, entries
NFLUA_BUNDLE_MAX=${NFLUA_BUNDLE_MAX:-8388608}
NFLUA_FILE_MAX=${NFLUA_FILE_MAX:-2097152}
NFLUA_ENTRIES_MAX=${NFLUA_ENTRIES_MAX:-512}
NFLUA_TABLES="filter mangle raw"
# NFLUA_OUT=1: print the apply records (docs/uci.md) on stdout; else they go to the log only
NFLUA_OUT=${NFLUA_OUT:-}

# $1 - priority (err, warn, info), $2... - message
f_log() {
	f_prio=$1
	shift
	logger -t "$NFLUA_LOG_TAG" -p "daemon.$f_prio" -- "$*" 2>/dev/null
	[ "$f_prio" = info ] || [ -n "$NFLUA_OUT" ] || printf 'nflua: %s\n' "$*" >&2
	return 0
}

# $@ - an apply record ("change state web create", "error ...", "result ok"). A closed stdout
# (the operator's connection cut) must not stop the transaction: SIGPIPE is ignored then.
f_rec() {
	[ -n "$NFLUA_OUT" ] || return 0
	printf '%s\n' "$*" 2>/dev/null
	return 0
}

# $1 - message: an error record and the log
f_err() {
	f_log err "$1"
	f_rec "error $1"
}

# $1 - progress word for /var/run/nflua/apply.log
f_progress() {
	echo "$1" >>"$NFLUA_RUN/apply.log"
}

# Serialises every transaction (apply, start, reload, stop, restore_rules) on $NFLUA_LOCK.
# Taken once per process; fd 9 stays open (and locked) until the process ends.
f_lock() {
	[ -n "$NFLUA_LOCKED" ] && return 0
	mkdir -p "${NFLUA_LOCK%/*}" "$NFLUA_RUN"
	exec 9>>"$NFLUA_LOCK" || return 1
	flock -x 9 || return 1
	NFLUA_LOCKED=1
}

# $1 - family: the iptables command for it; f_ipt_restore: its iptables-restore
f_ipt() {
	case $1 in
	ipv6) echo "${NFLUA_IP6TABLES:-ip6tables}" ;;
	*) echo "${NFLUA_IPTABLES:-iptables}" ;;
	esac
}
f_ipt_restore() {
	case $1 in
	ipv6) echo "${NFLUA_IP6TABLES_RESTORE:-ip6tables-restore}" ;;
	*) echo "${NFLUA_IPTABLES_RESTORE:-iptables-restore}" ;;
	esac
}
# (iptables-save, iptables-legacy-save, ...: the family's iptables command's own)
f_ipt_save() {
	echo "$(f_ipt "$1")-save"
}

# $@ - an nfluactl command line. In `nfluactl apply` this shell is the router-side nfluactl
# (nf_main: its functions are loaded), so the call runs them in a subshell: a fork instead of a
# new shell that reads the whole tool again (60-70 ms a call on a TCG router, a few ms here).
# Elsewhere (the init script) the installed tool runs.
f_ctl() {
	if [ -n "$NF_VERSION" ] && command -v nf_main >/dev/null 2>&1; then
		(nf_main "$@")
	else
		"$NFLUA_CTL" "$@"
	fi
}

# Prints the names of the kernel's states, one a line.
f_kernel_states() {
	f_ctl list 2>/dev/null | sed -n 's/^name=\([^ ]*\).*/\1/p'
}

# $1 - a string, $2 - a file: true when a line of the file is the string (f_has_line, as
# grep -qx) or begins with it (f_has_prefix, as grep -q "^..." of a fixed string). The shell
# reads the few lines of a work file itself: no process for each of these questions. (A
# missing file has no such line.)
f_has_line() {
	[ -f "$2" ] || return 1
	while IFS= read -r f_hl || [ -n "$f_hl" ]; do
		[ "$f_hl" = "$1" ] && return 0
	done <"$2"
	return 1
}
f_has_prefix() {
	[ -f "$2" ] || return 1
	while IFS= read -r f_hl || [ -n "$f_hl" ]; do
		case $f_hl in "$1"*) f_found=$f_hl; return 0 ;; esac
	done <"$2"
	return 1
}

# $1 - a file: its lines (words: state names, paths) in $f_words, read by the shell; a loop
# over them reads no standard input of its own (unlike `while read ... <FILE`)
f_words() {
	f_words=
	[ -f "$1" ] || return 0
	while IFS= read -r f_wl || [ -n "$f_wl" ]; do
		f_words="$f_words $f_wl"
	done <"$1"
}

# $1 - nfluactl's error text: the kernel's message without the tool's "nfluactl: OP NAME: "
f_msg() {
	printf '%s' "$1" | sed '1s/^nfluactl: [a-z]* [^ :]*: //' | tr '\n' ' ' | sed 's/ *$//'
}

# ---------------------------------------------------------------- plan (UCI -> plan)

# The UCI schema (docs/uci.md): OPTION:DATATYPE[:DEFAULT] words, as procd's validation takes them.
NFLUA_STATE_SCHEMA='name:uciname enabled:bool:1 maxalloc:regex("[0-9]+[KMG]?") budget:uinteger percpu:bool:0 script:list(string)'
NFLUA_RULE_SCHEMA='enabled:bool:1 family:or("ipv4","ipv6","any"):ipv4 table:or("filter","mangle","raw"):filter chain:or("prerouting","input","forward","output","postrouting"):forward match:string state:uciname function:regex("[A-Za-z_][A-Za-z0-9_]*") mode:or("match","target"):match invert:bool:0 tcp_payload:bool:0 target:regex("[A-Za-z][A-Za-z0-9_-]*"):DROP'

# The schema for procd (the init script's service_triggers: procd_open_validate).
validate_nflua_state() {
	set -f
	# shellcheck disable=SC2086 # schema words
	uci_load_validate "$NFLUA_UCI" state "$1" "$2" $NFLUA_STATE_SCHEMA
}
validate_nflua_rule() {
	set -f
	# shellcheck disable=SC2086
	uci_load_validate "$NFLUA_UCI" rule "$1" "$2" $NFLUA_RULE_SCHEMA
}

# $1 - datatype, $2 - value: true when the value is of the type, as validate_data decides
# (ubox's validate.c). The types whose rule is a plain list or character set, and the regexes
# of our schema, are decided here, which saves a process per value; the others are asked of
# validate_data.
f_datatype_ok() {
	case $1 in
	string) return 0 ;;	# (no length bounds in our schema)
	bool) f_bool_num "$2"; return ;;
	uciname) case $2 in *[!A-Za-z0-9_]*) return 1 ;; *) return 0 ;; esac ;;
	uinteger) case $2 in 0 | [1-9] | [1-9]*[0-9]) case $2 in *[!0-9]*) ;; *) return 0 ;; esac ;; esac ;;
	# the schema's regexes (validate_data anchors them: the whole value)
	'regex("[0-9]+[KMG]?")') case ${2%[KMG]} in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac ;;
	'regex("[A-Za-z_][A-Za-z0-9_]*")') case $2 in [A-Za-z_]*) case $2 in *[!A-Za-z0-9_]*) return 1 ;; *) return 0 ;; esac ;; *) return 1 ;; esac ;;
	'regex("[A-Za-z][A-Za-z0-9_-]*")') case $2 in [A-Za-z]*) case $2 in *[!A-Za-z0-9_-]*) return 1 ;; *) return 0 ;; esac ;; *) return 1 ;; esac ;;
	or\(\"*\"\))
		# or("a","b",...) of string literals: the value is one of them
		case ",${1#or(}" in *",\"$2\","* | *",\"$2\")") case $2 in *[\",]*) ;; *) return 0 ;; esac ;; esac
		;;
	esac
	validate_data "$1" "$2" 2>/dev/null
}

# $1 - a value: 1 or 0 in $f_bool for ubox's bool words in any case (what uci_load_validate
# gives the init script: "yes", "on", "true", "enabled" are 1); returns 1 for anything else
f_bool_num() {
	case $1 in
	1 | [oO][nN] | [tT][rR][uU][eE] | [yY][eE][sS] | [eE][nN][aA][bB][lL][eE][dD]) f_bool=1 ;;
	0 | [oO][fF][fF] | [fF][aA][lL][sS][eE] | [nN][oO] | [dD][iI][sS][aA][bB][lL][eE][dD]) f_bool=0 ;;
	*) return 1 ;;
	esac
}

# $1 - section (of the package config_load read), $2... - schema words: sets each option's
# variable to its value or default, each value checked by validate_data's rules (f_datatype_ok:
# the same check procd's uci_load_validate makes; validate_data reads only /etc/config by
# itself, and apply plans a staged file), a bool as 1 or 0. Returns 1 when a value is invalid.
f_validate() {
	local f_sec=$1 f_e f_opt f_rest f_type f_def f_val f_item f_rc=0
	shift
	for f_e in "$@"; do
		f_opt=${f_e%%:*}
		f_rest=${f_e#*:}
		f_type=${f_rest%%:*}
		f_def=
		[ "$f_rest" = "$f_type" ] || f_def=${f_rest#*:}
		config_get f_val "$f_sec" "$f_opt"
		if [ -z "$f_val" ]; then
			f_val=$f_def
		else
			case $f_type in
			list\(*\))
				f_t=${f_type#list(}
				f_t=${f_t%)}
				for f_item in $f_val; do
					f_datatype_ok "$f_t" "$f_item" || { f_rc=1; f_val=$f_def; }
				done ;;
			*) f_datatype_ok "$f_type" "$f_val" || { f_rc=1; f_val=$f_def; } ;;
			esac
		fi
		if [ "$f_type" = bool ] && [ -n "$f_val" ]; then
			f_bool_num "$f_val"
			f_val=$f_bool
		fi
		eval "$f_opt=\$f_val"
	done
	return $f_rc
}

# $1 - message: a planning problem (left out in a start/reload, an error for apply)
f_plan_problem() {
	echo "$1" >>"$f_plan_dir/errors"
}

# $1 - section, $2 - result of the validation
f_plan_state() {
	local section=$1 err=$2 s
	[ "$err" = 0 ] || { f_plan_problem "state $section: invalid options"; return 0; }
	[ "$enabled" = 1 ] || return 0
	[ -n "$name" ] || name=$section
	# NAME~new must be a valid state name too (63 bytes at most)
	[ "${#name}" -le 59 ] || { f_plan_problem "state $name: name longer than 59 characters"; return 0; }
	local scripts=""
	for s in $script; do
		case $s in
		/*) ;;
		*) f_plan_problem "state $name: script path is not absolute: $s"; return 0 ;;
		esac
		scripts="$scripts $s"
	done
	f_has_prefix "$name " "$f_plan_dir/states.tmp" &&
		{ f_plan_problem "state $name: defined twice"; return 0; }
	local kind=shared
	[ "$percpu" = 1 ] && kind=percpu
	echo "$name ${maxalloc:--} ${budget:--} $kind$scripts" >>"$f_plan_dir/states.tmp"
}

# $1 - section, $2 - result of the validation
f_plan_rule() {
	local section=$1 err=$2 fam lua hook
	[ "$err" = 0 ] || { f_plan_problem "rule $section: invalid options"; return 0; }
	[ "$enabled" = 1 ] || return 0
	[ -n "$state" ] && [ -n "$function" ] ||
		{ f_plan_problem "rule $section: state and function are required"; return 0; }
	case $match in
	*[!A-Za-z0-9\ ._:,/!=+-]*)
		f_plan_problem "rule $section: match may hold letters, digits, blanks and ._:,/!=+- only"
		return 0
		;;
	esac
	# (the schema allows these five)
	case $chain in
	prerouting) hook=PREROUTING ;;
	input) hook=INPUT ;;
	forward) hook=FORWARD ;;
	output) hook=OUTPUT ;;
	postrouting) hook=POSTROUTING ;;
	esac
	if [ "$mode" = target ]; then
		lua="-j LUA --state $state --function $function"
	else
		lua="-m lua --state $state"
		if [ "$invert" = 1 ]; then
			lua="$lua ! --function $function"	# (libxt_lua inverts --function, not --state)
		else
			lua="$lua --function $function"
		fi
		[ "$tcp_payload" = 1 ] && lua="$lua --tcp-payload"
		lua="$lua -j $target"
	fi
	for fam in ipv4 ipv6; do
		[ "$family" = any ] || [ "$family" = "$fam" ] || continue
		# shellcheck disable=SC2086 # one blank between words
		echo "$fam $table $hook $state" $match $lua >>"$f_plan_dir/rules.tmp"
	done
}

# $1 - UCI package (a name in /etc/config, or an absolute path), $2 - plan directory.
# Makes the plan; problems go to $2/errors (one a line).
f_plan() {
	f_plan_dir=$2
	mkdir -p "$f_plan_dir"
	: >"$f_plan_dir/states.tmp"
	: >"$f_plan_dir/rules.tmp"
	: >"$f_plan_dir/errors"
	(
		set -f
		config_load "$1"
		# shellcheck disable=SC2086 # schema words
		f_each_state() { f_validate "$1" $NFLUA_STATE_SCHEMA; f_plan_state "$1" $?; }
		# shellcheck disable=SC2086
		f_each_rule() { f_validate "$1" $NFLUA_RULE_SCHEMA; f_plan_rule "$1" $?; }
		config_foreach f_each_state state
		config_foreach f_each_rule rule
	)
	mv "$f_plan_dir/states.tmp" "$f_plan_dir/states"
	# rules of states the plan does not have
	: >"$f_plan_dir/rules"
	while read -r f_fam f_tab f_hook f_state f_args; do
		if f_has_prefix "$f_state " "$f_plan_dir/states"; then
			echo "$f_fam $f_tab $f_hook $f_state $f_args" >>"$f_plan_dir/rules"
		else
			f_plan_problem "rule $f_fam $f_tab $f_hook $f_args: no state '$f_state' in the configuration"
		fi
	done <"$f_plan_dir/rules.tmp"
	rm -f "$f_plan_dir/rules.tmp"
}

# $1 - root the scripts are read from ("" or a staging directory), $2 - script path: the file
# to read (a bundle's own file, else the installed one)
f_src() {
	if [ -n "$1" ] && [ -f "$1$2" ]; then echo "$1$2"; else echo "$2"; fi
}

# $1 - root, $2... - scripts: the digest of their paths and bytes
f_digest() {
	f_d_root=$1
	shift
	for f_d in "$@"; do
		f_d_src=$(f_src "$f_d_root" "$f_d")
		[ -f "$f_d_src" ] || return 1
		echo "$f_d $(wc -c <"$f_d_src")"
		cat "$f_d_src"
	done | sha256sum | cut -d' ' -f1
}

# $1 - a root ("/" for the installed files): the digest of the policy files apply persists
# under it (etc/config/nflua, etc/nflua/apply/), their names and bytes. (Bundle names have no
# blanks: docs/uci.md.)
f_tree_digest() {
	(cd "$1" && find etc/config/nflua etc/nflua/apply -type f 2>/dev/null | sort | xargs -r sha256sum) |
		sha256sum | cut -d' ' -f1
}

# The digest of the policies package's scripts (/usr/share/nflua/) the recorded states load: a
# package upgrade changes what a state would load without changing the persisted files.
f_share_digest() {
	f_sh=
	while read -r _ _ _ _ _ f_ss; do
		for f_s in $f_ss; do
			case $f_s in /usr/share/nflua/*) f_sh="$f_sh $f_s" ;; esac
		done
	done <"$NFLUA_RUN/applied"
	if [ -z "$f_sh" ]; then
		echo -
	else
		# shellcheck disable=SC2086 # script paths, one word each
		sha256sum $f_sh 2>&1 | sha256sum | cut -d' ' -f1
	fi
}

# $1 - the digest of the tar stream applied, or "-": after a switch (or a full comparison that
# found nothing to do), applied.sum for f_unchanged
f_stamp() {
	echo "$(f_tree_digest /) $(f_share_digest) $1" >"$NFLUA_RUN/applied.sum.tmp" &&
		mv "$NFLUA_RUN/applied.sum.tmp" "$NFLUA_RUN/applied.sum"
}

# $1 - tar or tree, $2 - the bundle's tar stream digest, or the root of its extracted tree:
# true when the bundle is the one last applied (the same tar stream, or the same files) and
# all of it still runs: the same files installed (no edit by hand since), the same package
# scripts, every recorded state in the kernel, every recorded group live. Then the full
# comparison would find nothing to do (its plan is a function of these files), and a re-apply
# costs a few processes instead of an extraction, a plan and a comparison. Anything else:
# false, and the full comparison decides.
f_unchanged() {
	[ -s "$NFLUA_RUN/applied.sum" ] && [ -f "$NFLUA_RUN/applied" ] && [ -f "$NFLUA_RUN/rules" ] || return 1
	read -r f_u_tree f_u_share f_u_bundle <"$NFLUA_RUN/applied.sum"
	case $1 in
	tar) [ "$2" = "$f_u_bundle" ] || return 1 ;;
	*) [ "$(f_tree_digest "$2")" = "$f_u_tree" ] || return 1 ;;
	esac
	[ "$(f_tree_digest /)" = "$f_u_tree" ] || return 1
	[ "$(f_share_digest)" = "$f_u_share" ] || return 1
	f_u_kernel=" $(f_kernel_states | tr '\n' ' ')"
	while read -r f_u_name _; do
		case $f_u_kernel in *" $f_u_name "*) ;; *) return 1 ;; esac
	done <"$NFLUA_RUN/applied"
	f_u_seen=' '
	while read -r f_u_fam f_u_tab f_u_hook _; do
		case $f_u_seen in *" $f_u_fam:$f_u_tab:$f_u_hook "*) continue ;; esac
		f_u_seen="$f_u_seen$f_u_fam:$f_u_tab:$f_u_hook "
		f_group_live "$f_u_fam" "$f_u_tab" "$f_u_hook" "$NFLUA_RUN/rules" || return 1
	done <"$NFLUA_RUN/rules"
}

# ---------------------------------------------------------------- compare

# $1 - work directory with plan/ (and root/ for apply), $2 - root ("" or the staging dir).
# Writes $1/actions (NAME ACTION DIGEST MAXALLOC BUDGET KIND SCRIPT...; ACTION create, replace,
# limits, keep, or destroy with nothing after it) and $1/groups (FAMILY TABLE HOOK changed|same).
# Prints the change records. Returns 1 when a script is missing (recorded as an error).
f_compare() {
	f_w=$1 f_root=$2
	: >"$f_w/actions"
	: >"$f_w/groups"
	f_kernel_states >"$f_w/kernel"
	f_bad=0
	while read -r f_name f_max f_bud f_kind f_scripts; do
		# shellcheck disable=SC2086 # script paths, one word each
		f_dg=$(f_digest "$f_root" $f_scripts) || {
			for f_s in $f_scripts; do
				[ -f "$(f_src "$f_root" "$f_s")" ] || f_err "state $f_name: script $f_s: no such file"
			done
			echo "$f_name" >>"$f_w/broken"
			f_bad=1
			continue
		}
		f_recd=
		! f_has_prefix "$f_name " "$NFLUA_RUN/applied" || f_recd=$f_found
		f_act=keep
		if ! f_has_line "$f_name" "$f_w/kernel"; then
			f_act=create
		elif [ -z "$f_recd" ]; then
			f_act=replace	# a state of that name we did not make, or our records are gone
		else
			# shellcheck disable=SC2086
			set -- $f_recd
			# (a shared state cannot become per-CPU in place, nor back; a record of an older
			# version, without KIND, has a script path there: replaced once)
			if [ "$2" != "$f_dg" ] || [ "$5" != "$f_kind" ]; then
				f_act=replace
			elif [ "$3 $4" != "$f_max $f_bud" ]; then
				f_act=limits
				[ "$f_max" = - ] || [ "$f_bud" = - ] && f_act=replace
			fi
		fi
		echo "$f_name $f_act $f_dg $f_max $f_bud $f_kind $f_scripts" >>"$f_w/actions"
		[ $f_act = keep ] || f_rec "change state $f_name $f_act"
	done <"$f_w/plan/states"
	# recorded states the plan no longer has (none on a first start: no records; the shell
	# reports a missing file of `done <FILE` whatever that line's 2>/dev/null says)
	[ ! -f "$NFLUA_RUN/applied" ] || while read -r f_name f_rest; do
		f_has_prefix "$f_name " "$f_w/plan/states" && continue
		f_has_line "$f_name" "$f_w/kernel" || continue
		echo "$f_name destroy" >>"$f_w/actions"
		f_rec "change state $f_name destroy"
	done <"$NFLUA_RUN/applied"
	f_compare_rules "$f_w"
	return $f_bad
}

# $1 - work directory: compares the plan's rules with the recorded ones and with the kernel
f_compare_rules() {
	f_w=$1
	{ cut -d' ' -f1-3 "$f_w/plan/rules"; cut -d' ' -f1-3 "$NFLUA_RUN/rules" 2>/dev/null; } |
		sort -u >"$f_w/allgroups"
	: >"$f_w/groups"
	while read -r f_fam f_tab f_hook; do
		[ -n "$f_fam" ] || continue
		f_how=same
		grep "^$f_fam $f_tab $f_hook " "$f_w/plan/rules" >"$f_w/g.new"
		grep "^$f_fam $f_tab $f_hook " "$NFLUA_RUN/rules" >"$f_w/g.old" 2>/dev/null
		if ! cmp -s "$f_w/g.new" "$f_w/g.old"; then
			f_how=changed
		elif [ -s "$f_w/g.new" ] && ! f_group_live "$f_fam" "$f_tab" "$f_hook" "$f_w/g.new"; then
			f_how=changed	# recorded but gone from the kernel (flushed by hand or by fw4)
		fi
		echo "$f_fam $f_tab $f_hook $f_how" >>"$f_w/groups"
		[ $f_how = same ] || f_rec "change rules $f_fam $f_tab $f_hook"
	done <"$f_w/allgroups"
}

# $1 family, $2 table, $3 hook, $4 rules file (plan format): true when the built-in chain jumps
# to a chain of ours that holds as many rules as the file has for the group (a chain emptied
# or trimmed by hand, or a jump deleted, is not live)
f_group_live() {
	f_gl_n=$(grep -c "^$1 $2 $3 " "$4")
	"$(f_ipt "$1")" -t "$2" -S 2>/dev/null | awk -v h="$3" -v n="$f_gl_n" '
		$1 == "-A" && $2 == h && $3 == "-j" && NF == 4 && $4 ~ ("^NFLUA-" h "-[01]$") { c = $4 }
		$1 == "-A" && $2 ~ /^NFLUA-/ { rules[$2]++ }
		END { exit !(c != "" && rules[c] + 0 == n) }'
}

# ---------------------------------------------------------------- the rules batch

# $1 - family, $2 - directory: what of ours the kernel has now, a file per table of
# NFLUA_TABLES ("-N NFLUA-..." and "-A HOOK -j NFLUA-HOOK-G" lines, as iptables -S prints
# them), from one iptables-save for all tables (under TCG an iptables process costs 100-150 ms)
f_snap() {
	{ [ ! -e "$2" ] || rm -rf "$2"; } && mkdir -p "$2" || return 1
	for f_sn_tab in $NFLUA_TABLES; do : >"$2/$f_sn_tab"; done
	"$(f_ipt_save "$1")" 2>/dev/null | awk -v d="$2" '
		/^\*/ { t = substr($0, 2); next }
		/^:NFLUA-/ { split(substr($0, 2), a, " "); print "-N " a[1] >> (d "/" t); next }
		/^-A [A-Z]+ -j NFLUA-[A-Z]+-[01]$/ { print >> (d "/" t) }'
}

# $1 - family, $2 - rules file (plan format), $3 - output, $4 - optional generations file
# (FAMILY TABLE HOOK GEN lines, for a rollback: the generations to come back to), $5 - optional
# f_snap directory of the family taken just before (else one is taken now): an
# iptables-restore --noflush batch that makes the family's chains of ours equal to the rules
# file: for every group a fresh generation (the one not jumped to now, or the one $4 names),
# filled, jumped to first in the built-in chain, and every other chain of ours in the tables
# we use deleted with its jumps. Rules of other software are not touched. Our chains are named
# here, never by the configuration.
f_batch() {
	f_b_fam=$1 f_b_rules=$2 f_b_out=$3 f_b_gens=${4:-/dev/null} f_b_snap=$5
	if [ -z "$f_b_snap" ]; then
		f_b_snap=$f_b_out.snap
		f_snap "$f_b_fam" "$f_b_snap"
	fi
	: >"$f_b_out"
	# (a table with nothing of ours, before and after, costs no process: most have nothing)
	for f_b_tab in $NFLUA_TABLES; do
		# what of ours the kernel has in this table: "-N NFLUA-..." and "-A HOOK -j NFLUA-..."
		f_b_cur=$f_b_snap/$f_b_tab
		# the table's hooks the rules use
		f_b_hooks=' '
		while read -r f_b_f f_b_t f_b_h _; do
			[ "$f_b_f $f_b_t" = "$f_b_fam $f_b_tab" ] || continue
			case $f_b_hooks in *" $f_b_h "*) ;; *) f_b_hooks="$f_b_hooks$f_b_h " ;; esac
		done <"$f_b_rules"
		[ -s "$f_b_cur" ] || [ "$f_b_hooks" != ' ' ] || continue
		echo "*$f_b_tab" >>"$f_b_out"
		f_b_keep=' '
		for f_b_hook in $f_b_hooks; do
			f_b_gen=0
			f_has_line "-A $f_b_hook -j NFLUA-$f_b_hook-0" "$f_b_cur" && f_b_gen=1
			# the generation a rollback comes back to
			while read -r f_b_f f_b_t f_b_h f_b_g; do
				[ "$f_b_f $f_b_t $f_b_h" = "$f_b_fam $f_b_tab $f_b_hook" ] || continue
				case $f_b_g in 0 | 1) f_b_gen=$f_b_g ;; esac
			done <"$f_b_gens"
			f_b_chain=NFLUA-$f_b_hook-$f_b_gen
			f_b_keep="$f_b_keep$f_b_chain "
			if f_has_line "-N $f_b_chain" "$f_b_cur"; then
				echo "-F $f_b_chain" >>"$f_b_out"	# a leftover: emptied, reused
			else
				echo ":$f_b_chain - [0:0]" >>"$f_b_out"
			fi
			while read -r f_b_f f_b_t f_b_h _ f_b_args; do
				if [ "$f_b_f $f_b_t $f_b_h" = "$f_b_fam $f_b_tab $f_b_hook" ]; then
					printf '%s\n' "-A $f_b_chain $f_b_args"
				fi
			done <"$f_b_rules" >>"$f_b_out"
			f_has_line "-A $f_b_hook -j $f_b_chain" "$f_b_cur" ||
				echo "-I $f_b_hook 1 -j $f_b_chain" >>"$f_b_out"
		done
		# every other chain of ours goes: its jumps, then its rules and the chain (the snapshot's
		# lines: "-A HOOK -j NFLUA-..." and "-N NFLUA-...")
		while read -r f_b_a f_b_h _ f_b_chain; do
			[ "$f_b_a" = -A ] || continue
			case $f_b_keep in *" $f_b_chain "*) ;; *) printf '%s\n' "-D $f_b_h -j $f_b_chain" ;; esac
		done <"$f_b_cur" >>"$f_b_out"
		while read -r f_b_a f_b_chain; do
			[ "$f_b_a" = -N ] || continue
			case $f_b_keep in *" $f_b_chain "*) ;; *) printf '%s\n' "-F $f_b_chain" "-X $f_b_chain" ;; esac
		done <"$f_b_cur" >>"$f_b_out"
		echo COMMIT >>"$f_b_out"
	done
	rm -rf "$f_b_out.snap"
}

# $1 - family, $2 - its f_snap directory: prints FAMILY TABLE HOOK GEN of each group of ours
# jumped to
f_gens() {
	for f_g_tab in $NFLUA_TABLES; do
		[ -s "$2/$f_g_tab" ] || continue
		sed -n "s/^-A \([A-Z]*\) -j NFLUA-[A-Z]*-\([01]\)\$/$1 $f_g_tab \1 \2/p" "$2/$f_g_tab"
	done
}

# $1 - family, $2 - batch file: runs it; on failure records the error (with the batch line
# iptables-restore names) and returns 1
f_batch_run() {
	[ -s "$2" ] || return 0
	"$(f_ipt_restore "$1")" --noflush <"$2" >"$2.err" 2>&1 && return 0
	f_b_line=$(sed -n 's/.*line \([0-9]*\).*/\1/p' "$2.err" | head -n 1)
	f_b_what=
	[ -n "$f_b_line" ] && f_b_what=" (batch line $f_b_line: $(sed -n "${f_b_line}p" "$2"))"
	f_err "rules $1: iptables-restore failed: $(tr '\n' ' ' <"$2.err" | sed 's/ *$//')$f_b_what"
	return 1
}

# ---------------------------------------------------------------- the switch

# A short wait: a tenth of a second where sleep takes fractions, else a second. OpenWrt's
# busybox has neither fractions nor usleep (FLOAT_DURATION and USLEEP are off in its
# package/utils/busybox/Config-defaults.in, 24.10 and main): there `sleep 0.1` fails at once,
# and a loop of them does not wait at all. Sets f_napped to the tenths waited.
f_nap() {
	if sleep 0.1 2>/dev/null; then
		f_napped=1
	else
		sleep 1
		f_napped=10
	fi
}

# $1 - state name, $2 - tenths of a second to keep trying (default 30; 1: once): destroys it,
# waiting a little while rules let it go (iptables-nft releases a deleted rule's state after
# the transaction, not within it)
f_destroy() {
	f_x_t=1
	while ! f_x_out=$(f_ctl destroy "$1" 2>&1); do
		case $f_x_out in *"no state named"*) return 0 ;; esac
		[ $f_x_t -lt "${2:-30}" ] || { f_log warn "state $1: $(f_msg "$f_x_out")"; return 1; }
		f_nap
		f_x_t=$((f_x_t + f_napped))
	done
}

# $1 - state name: NAME~new is left by an interrupted transaction (killed, power cut) and
# rules still hold it: it becomes NAME~old, destroyed once no rule holds it (f_junk_clean, at
# the end of every transaction, when the rules have switched to new chains)
f_junk() {
	f_has_line "$1~old" "$f_w/kernel" && ! f_destroy "$1~old" 1 &&
		{ f_err "state $1: $1~new and $1~old are left over and rules hold both"; return 1; }
	f_out=$(f_ctl rename "$1~new" "$1~old" 2>&1) ||
		{ f_err "state $1: $1~new is left over and busy: $(f_msg "$f_out")"; return 1; }
	echo "$1~old" >>"$NFLUA_RUN/junk"
	f_log warn "state $1: $1~new, left by an interrupted transaction, is now $1~old"
}

# Destroys the leftovers no rule holds any more.
f_junk_clean() {
	[ -s "$NFLUA_RUN/junk" ] || return 0
	: >"$NFLUA_RUN/junk.tmp"
	for f_s in $(sort -u "$NFLUA_RUN/junk"); do
		f_destroy "$f_s" 10 || echo "$f_s" >>"$NFLUA_RUN/junk.tmp"
	done
	mv "$NFLUA_RUN/junk.tmp" "$NFLUA_RUN/junk"
}

# $1 - work dir, $2 - root, $3... - name max budget kind scripts: loads the state under NAME~new and
# test-calls the functions its rules name. Returns 1 with the error recorded.
f_stage() {
	f_w=$1 f_root=$2 f_name=$3 f_max=$4 f_bud=$5 f_kind=$6
	shift 6
	f_tmp="$f_name~new"
	f_has_line "$f_tmp" "$f_w/kernel" && { f_destroy "$f_tmp" 1 || f_junk "$f_name" || return 1; }
	f_opts=
	[ "$f_max" = - ] || f_opts="$f_opts --maxalloc $f_max"
	[ "$f_bud" = - ] || f_opts="$f_opts --budget $f_bud"
	[ "$f_kind" = shared ] || f_opts="$f_opts --percpu"
	# shellcheck disable=SC2086 # option words
	f_out=$(f_ctl create "$f_tmp" $f_opts 2>&1) ||
		{ f_err "state $f_name: $(f_msg "$f_out")"; return 1; }
	echo "$f_tmp" >>"$f_w/staged"
	for f_script in "$@"; do
		f_out=$(f_ctl execute "$f_tmp" "$(f_src "$f_root" "$f_script")" 2>&1) || {
			f_err "state $f_name: script $f_script: $(f_msg "$f_out")"
			return 1
		}
	done
	# one test call for all the functions its rules name: each must be a Lua function (in every
	# replica of a per-CPU state: the kernel names the CPU of the first that is not); nothing is
	# returned when they all are, so the answer costs no process to read
	f_code=
	# (the functions: after "--state NAME --function" or "--state NAME ! --function")
	f_fns=' '
	while read -r f_line; do
		case "$f_line " in
		*" --state $f_name --function "* | *" --state $f_name ! --function "*)
			f_fn=${f_line#* --state "$f_name" }
			f_fn=${f_fn#! }
			f_fn=${f_fn#--function }
			f_fn=${f_fn%% *}
			case $f_fns in *" $f_fn "*) ;; *) f_fns="$f_fns$f_fn " ;; esac
			;;
		esac
	done <"$f_w/plan/rules"
	for f_fn in $f_fns; do
		f_code="${f_code}if type($f_fn) ~= 'function' then error('the rules call $f_fn, which is ' .. type($f_fn) .. ', not a Lua function', 0) end "
	done
	[ -z "$f_code" ] && return 0
	f_out=$(f_ctl execute "$f_tmp" -e "$f_code" --chunkname test-call 2>&1) ||
		{ f_err "state $f_name: $(f_msg "$f_out")"; return 1; }
}

# $1 - work dir: undoes what f_switch did, from its journal ($1/done): renames back first (so
# that the previous rules find the previous states by name), then the previous chains, then
# limits, then the staged states go. Returns 1 when something could not be undone.
f_rollback() {
	f_w=$1
	f_rb=0
	f_log warn "rolling back to the previous policy"
	[ -f "$f_w/done" ] || : >"$f_w/done"
	# renames, last first
	sed -n 's/^rename //p' "$f_w/done" | sed -n '1!G;h;$p' | while read -r f_from f_to; do
		f_out=$(f_ctl rename "$f_to" "$f_from" 2>&1) ||
			{ f_err "rollback: rename $f_to $f_from: $(f_msg "$f_out")"; echo 1 >"$f_w/rbfail"; }
	done
	if [ -f "$NFLUA_RUN/rules" ]; then cp "$NFLUA_RUN/rules" "$f_w/prev.rules"; else : >"$f_w/prev.rules"; fi
	for f_fam in ipv6 ipv4; do
		f_has_line "rules $f_fam" "$f_w/done" || continue
		f_batch "$f_fam" "$f_w/prev.rules" "$f_w/undo.$f_fam" "$f_w/gens.before"
		f_batch_run "$f_fam" "$f_w/undo.$f_fam" || echo 1 >"$f_w/rbfail"
	done
	sed -n 's/^limits //p' "$f_w/done" | while read -r f_name f_max f_bud; do
		f_opts=
		[ "$f_max" = - ] || f_opts="$f_opts --maxalloc $f_max"
		[ "$f_bud" = - ] || f_opts="$f_opts --budget $f_bud"
		# shellcheck disable=SC2086
		[ -z "$f_opts" ] || f_ctl set "$f_name" $f_opts >/dev/null 2>&1 || echo 1 >"$f_w/rbfail"
	done
	for f_s in $(cat "$f_w/staged" 2>/dev/null); do
		f_destroy "$f_s" || echo 1 >"$f_w/rbfail"
	done
	[ -f "$f_w/rbfail" ] && f_rb=1
	f_progress "rolled-back $f_rb"
	return $f_rb
}

# $1 - work dir (actions, groups, plan), $2 - root, $3 - mode: strict (apply: any failure rolls
# everything back) or partial (start/reload: a state that fails keeps its previous version if
# it runs, else is left out with its rules; the rest switches). Returns 0, 1 (failed, rolled
# back; partial: some state kept or left out), 4 (rollback failed).
f_switch() {
	f_w=$1 f_root=$2 f_mode=$3
	: >"$f_w/staged"
	: >"$f_w/done"
	: >"$f_w/leftout"
	# from here a hang-up or a closed stdout must not stop us half-way
	trap '' HUP PIPE
	rm -f "$NFLUA_RUN/applied.sum"
	f_progress "switch"
	# 1. stage new and changed states under NAME~new
	while read -r f_name f_act f_dg f_max f_bud f_kind f_scripts; do
		case $f_act in create | replace) ;; *) continue ;; esac
		# shellcheck disable=SC2086 # script paths
		f_stage "$f_w" "$f_root" "$f_name" "$f_max" "$f_bud" "$f_kind" $f_scripts && continue
		[ "$f_mode" = partial ] || { f_rollback "$f_w" || return 4; return 1; }
		f_destroy "$f_name~new"
		sed -i "/^$f_name~new\$/d" "$f_w/staged"
		echo "$f_name" >>"$f_w/leftout"
	done <"$f_w/actions"
	[ ! -s "$f_w/leftout" ] || { f_keep_previous "$f_w"; f_compare_rules "$f_w" >/dev/null; }
	# 2. limits of states that stay
	while read -r f_name f_act f_dg f_max f_bud f_kind f_scripts; do
		[ "$f_act" = limits ] || continue
		f_old=$(grep "^$f_name " "$NFLUA_RUN/applied" | cut -d' ' -f3,4)
		f_out=$(f_ctl set "$f_name" --maxalloc "$f_max" --budget "$f_bud" 2>&1) || {
			f_err "state $f_name: $(f_msg "$f_out")"
			[ "$f_mode" = partial ] && { echo "$f_name" >>"$f_w/limitsfail"; continue; }
			f_rollback "$f_w" || return 4
			return 1
		}
		echo "limits $f_name $f_old" >>"$f_w/done"
	done <"$f_w/actions"
	f_progress staged
	# test hook: a pause to interrupt the transaction at this point (docs/uci.md)
	[ -z "$NFLUA_TEST_PAUSE" ] || sleep "$NFLUA_TEST_PAUSE"
	# 3. staged states take their names (an exchange with the live state of a replace)
	f_words "$f_w/staged"
	for f_s in $f_words; do
		f_out=$(f_ctl rename "$f_s" "${f_s%~new}" 2>&1) || {
			f_err "state ${f_s%~new}: rename: $(f_msg "$f_out")"
			f_rollback "$f_w" || return 4
			return 1
		}
		echo "rename $f_s ${f_s%~new}" >>"$f_w/done"
	done
	# 4. the rules: all groups in a new generation, one batch per family, made from what of
	# ours the kernel has now (the generations jumped to: gens.before, for a rollback)
	f_snap ipv4 "$f_w/snap.ipv4" && f_snap ipv6 "$f_w/snap.ipv6" || { f_rollback "$f_w" || return 4; return 1; }
	{ f_gens ipv4 "$f_w/snap.ipv4"; f_gens ipv6 "$f_w/snap.ipv6"; } >"$f_w/gens.before"
	for f_fam in ipv4 ipv6; do
		f_batch "$f_fam" "$f_w/plan/rules" "$f_w/batch.$f_fam" "" "$f_w/snap.$f_fam"
		# (marked before it runs: iptables-legacy commits table by table, so a failed batch
		# may have changed some tables; the undo makes every table equal to the records again)
		echo "rules $f_fam" >>"$f_w/done"
		f_batch_run "$f_fam" "$f_w/batch.$f_fam" && continue
		f_rollback "$f_w" || return 4
		return 1
	done
	f_progress switched
	# 5. verify before anything is destroyed: every state there, every group jumped to
	f_kernel_states >"$f_w/kernel.after"
	: >"$f_w/verify"
	while read -r f_name f_rest; do
		f_has_line "$f_name" "$f_w/kernel.after" || echo "verify: state $f_name missing" >>"$f_w/verify"
	done <"$f_w/plan/states"
	f_v_seen=' '
	while read -r f_fam f_tab f_hook _; do
		case $f_v_seen in *" $f_fam:$f_tab:$f_hook "*) continue ;; esac
		f_v_seen="$f_v_seen$f_fam:$f_tab:$f_hook "
		f_group_live "$f_fam" "$f_tab" "$f_hook" "$f_w/plan/rules" </dev/null ||
			echo "verify: no jump to our $f_fam $f_tab $f_hook chain" >>"$f_w/verify"
	done <"$f_w/plan/rules"
	if [ -s "$f_w/verify" ]; then
		while read -r f_l; do f_err "$f_l"; done <"$f_w/verify"
		f_rollback "$f_w" || return 4
		return 1
	fi
	return 0
}

# A start/reload whose new version of some states failed: those that run keep their previous
# version (their recorded line and rules), the others are left out with their rules.
f_keep_previous() {
	f_w=$1
	for f_name in $(cat "$f_w/leftout"); do
		f_prev=$(grep "^$f_name " "$NFLUA_RUN/applied" 2>/dev/null)
		sed -i "/^$f_name /d" "$f_w/actions" "$f_w/plan/states"
		sed -i "/^[a-z0-9]* [a-z]* [A-Z]* $f_name /d" "$f_w/plan/rules"
		if [ -n "$f_prev" ] && f_has_line "$f_name" "$f_w/kernel"; then
			# shellcheck disable=SC2086
			set -- $f_prev
			f_n=$1 f_dg=$2
			shift 2
			echo "$f_n keep $f_dg $*" >>"$f_w/actions"
			echo "$*" | sed "s/^/$f_n /" >>"$f_w/plan/states"
			grep "^[a-z0-9]* [a-z]* [A-Z]* $f_name " "$NFLUA_RUN/rules" >>"$f_w/plan/rules"
			f_log err "state $f_name: the previous version keeps running"
		else
			f_log err "state $f_name: left out with its rules"
		fi
	done
}

# $1 - work dir: after a switch, the old states go (now under NAME~new) and so do the states no
# longer wanted; the records are written.
f_finish() {
	f_w=$1
	f_words "$f_w/staged"
	for f_s in $f_words; do
		f_has_prefix "${f_s%~new} replace " "$f_w/actions" && f_destroy "$f_s"
	done
	f_gone=
	while read -r f_s f_act _; do
		[ "$f_act" = destroy ] && f_gone="$f_gone $f_s"
	done <"$f_w/actions"
	for f_s in $f_gone; do
		f_destroy "$f_s"
	done
	# the records: NAME DIGEST MAXALLOC BUDGET KIND SCRIPT... of each state kept or made
	while read -r f_s f_act f_rest; do
		[ "$f_act" = destroy ] || echo "$f_s $f_rest"
	done <"$f_w/actions" >"$NFLUA_RUN/applied.tmp"
	mv "$NFLUA_RUN/applied.tmp" "$NFLUA_RUN/applied"
	cp "$f_w/plan/rules" "$NFLUA_RUN/rules.tmp"
	mv "$NFLUA_RUN/rules.tmp" "$NFLUA_RUN/rules"
	f_junk_clean
	f_progress "done"
}

# ---------------------------------------------------------------- start, reload, stop, restore

# Start or reload from the installed /etc/config/nflua. A state whose scripts fail keeps its
# previous version when it runs (else it is left out with its rules); the Lua error is logged.
# Returns 1 when something was left out or kept back, or when the switch failed.
f_start() {
	f_lock || { f_log err "cannot take $NFLUA_LOCK"; return 1; }
	f_w=$(mktemp -d /tmp/nflua-XXXXXX) || return 1
	: >"$NFLUA_RUN/apply.log"
	f_progress "begin start $$"
	f_plan "$NFLUA_UCI" "$f_w/plan"
	f_ret=0
	while read -r f_l; do f_log err "$f_l (left out)"; f_ret=1; done <"$f_w/plan/errors"
	: >"$f_w/leftout"
	if ! f_compare "$f_w" ""; then
		# states with a missing script: as with a failing one
		cat "$f_w/broken" >>"$f_w/leftout"
		f_keep_previous "$f_w"
		f_compare_rules "$f_w"
		f_ret=1
	fi
	if grep -qv ' keep ' "$f_w/actions" || grep -q ' changed$' "$f_w/groups"; then
		: >"$f_w/leftout"
		if f_switch "$f_w" "" partial; then
			f_finish "$f_w"
			[ ! -s "$f_w/leftout" ] && [ ! -s "$f_w/limitsfail" ] || f_ret=1
		else
			f_ret=1
		fi
	else
		f_progress "done ok"
	fi
	f_log info "$(grep -c . "$NFLUA_RUN/applied" 2>/dev/null) state(s), $(grep -c . "$NFLUA_RUN/rules" 2>/dev/null) rule(s) running"
	rm -rf "$f_w"
	return $f_ret
}

# Reinstalls the recorded rules when a firewall action removed them (fw4 include).
f_rules_restore() {
	[ -f "$NFLUA_RUN/rules" ] || return 0
	f_lock || return 1
	f_w=$(mktemp -d /tmp/nflua-XXXXXX) || return 1
	f_ret=0
	for f_fam in ipv4 ipv6; do
		f_all=1
		for f_g in $(grep "^$f_fam " "$NFLUA_RUN/rules" | cut -d' ' -f2,3 | sort -u | tr ' ' ':'); do
			f_group_live "$f_fam" "${f_g%:*}" "${f_g#*:}" "$NFLUA_RUN/rules" || f_all=0
		done
		[ $f_all = 1 ] && continue
		f_batch "$f_fam" "$NFLUA_RUN/rules" "$f_w/batch"
		f_batch_run "$f_fam" "$f_w/batch" || f_ret=1
	done
	rm -rf "$f_w"
	return $f_ret
}

# Removes every chain, rule and state this service made.
f_stop() {
	[ -d "$NFLUA_RUN" ] || return 0
	f_lock || return 1
	f_w=$(mktemp -d /tmp/nflua-XXXXXX) || return 1
	: >"$f_w/none"
	for f_fam in ipv4 ipv6; do
		f_batch "$f_fam" "$f_w/none" "$f_w/batch"
		f_batch_run "$f_fam" "$f_w/batch"
	done
	f_kernel_states >"$f_w/kernel"
	[ ! -f "$NFLUA_RUN/applied" ] || while read -r f_s f_rest; do
		f_has_line "$f_s" "$f_w/kernel" && f_destroy "$f_s"
		f_has_line "$f_s~new" "$f_w/kernel" && f_destroy "$f_s~new"
	done <"$NFLUA_RUN/applied"
	f_junk_clean
	rm -f "$NFLUA_RUN/applied" "$NFLUA_RUN/rules" "$NFLUA_RUN/applied.sum"
	rm -rf "$f_w"
}

# ---------------------------------------------------------------- nfluactl apply

# A bundle entry's name (docs/uci.md): only these are accepted, an optional "./" first:
# etc/ etc/config/ etc/config/nflua etc/nflua/ etc/nflua/apply/ etc/nflua/apply/DIR/ and
# etc/nflua/apply/DIR/FILE, DIR of [A-Za-z0-9_]+, FILE of [A-Za-z0-9_][A-Za-z0-9_.-]*
# (in the shell: no process per entry)
f_bundle_name_ok() {
	f_nm=${1#./}
	case $f_nm in
	etc/ | etc/config/ | etc/config/nflua | etc/nflua/ | etc/nflua/apply/) return 0 ;;
	etc/nflua/apply/?*) f_nm=${f_nm#etc/nflua/apply/} ;;
	*) return 1 ;;
	esac
	f_nd=${f_nm%%/*}
	case $f_nd in '' | *[!A-Za-z0-9_]*) return 1 ;; esac
	f_nm=${f_nm#"$f_nd"}
	case $f_nm in
	/) return 0 ;;
	/[A-Za-z0-9_]*) f_nm=${f_nm#/} ;;
	*) return 1 ;;
	esac
	case $f_nm in *[!A-Za-z0-9_.-]*) return 1 ;; esac
	return 0
}

# $1 - tar file, $2 - destination: checks the listing, then extracts. Returns 1 with the
# reason in $f_why. Nothing is extracted from a refused bundle.
f_bundle_tar() {
	f_why=
	f_tar=$1 f_dst=$2
	busybox tar -tvf "$f_tar" >"$f_tar.list" 2>"$f_tar.err" ||
		{ f_why="not a tar archive: $(head -n 1 "$f_tar.err")"; return 1; }
	# busybox strips leading "/" and "../" and says so on stderr: such a bundle is refused
	[ -s "$f_tar.err" ] && { f_why="bad entry: $(head -n 1 "$f_tar.err")"; return 1; }
	f_n=0 f_total=0
	while IFS= read -r f_l; do
		f_n=$((f_n + 1))
		[ $f_n -le "$NFLUA_ENTRIES_MAX" ] || { f_why="more than $NFLUA_ENTRIES_MAX entries"; return 1; }
		set -f
		# "-rw-r--r-- root/root 123 2026-11-30 12:00:00 etc/config/nflua": 6 words exactly
		# shellcheck disable=SC2086
		set -- $f_l
		set +f
		[ $# = 6 ] || { f_why="bad entry: $f_l"; return 1; }
		case $1 in
		-?????????) f_bundle_name_ok "$6" && case $6 in */) false ;; esac ||
			{ f_why="entry not allowed: $6"; return 1; } ;;
		d?????????) f_bundle_name_ok "$6" || { f_why="entry not allowed: $6"; return 1; } ;;
		*) f_why="not a regular file or directory: $6 (type ${1%"${1#?}"})"; return 1 ;;
		esac
		case $3 in *[!0-9]*) f_why="bad size: $f_l"; return 1 ;; esac
		[ "$3" -le "$NFLUA_FILE_MAX" ] || { f_why="$6: $3 bytes, more than $NFLUA_FILE_MAX"; return 1; }
		f_total=$((f_total + $3))
	done <"$f_tar.list"
	[ $f_n -gt 0 ] || { f_why="empty bundle"; return 1; }
	mkdir -p "$f_dst"
	busybox tar -xf "$f_tar" -C "$f_dst" 2>"$f_tar.err" ||
		{ f_why="extraction failed: $(head -n 1 "$f_tar.err")"; return 1; }
	f_bundle_tree "$f_dst"
}

# $1 - a tree: only regular files and directories of the allowed names, within the limits
f_bundle_tree() {
	f_why=
	f_bad=$(cd "$1" && find . ! -type f ! -type d | head -n 1)
	[ -z "$f_bad" ] || { f_why="not a regular file or directory: ${f_bad#./}"; return 1; }
	f_bad=$(cd "$1" && find . -mindepth 1 | sed 's,^\./,,' | while read -r f_p; do
		[ -d "$f_p" ] && f_p="$f_p/"
		f_bundle_name_ok "$f_p" || { echo "$f_p"; break; }
	done)
	[ -z "$f_bad" ] || { f_why="entry not allowed: $f_bad"; return 1; }
	[ "$(cd "$1" && find . | wc -l)" -le $((NFLUA_ENTRIES_MAX + 1)) ] ||
		{ f_why="more than $NFLUA_ENTRIES_MAX entries"; return 1; }
	f_bad=$(cd "$1" && find . -type f -size +$((NFLUA_FILE_MAX / 1024))k | head -n 1)
	[ -z "$f_bad" ] || { f_why="${f_bad#./}: more than $NFLUA_FILE_MAX bytes"; return 1; }
	[ -f "$1/etc/config/nflua" ] || { f_why="no etc/config/nflua in the bundle"; return 1; }
}

# $1 - the staged tree: owned by root, modes 0644/0755 (the bundle's own are not kept)
f_bundle_own() {
	# (OpenWrt's busybox has find -exec, not -exec ... {} +; -print0 and xargs -0 it has: one
	# chmod for all)
	chown -R 0:0 "$1" && find "$1" -type d -print0 | xargs -0 chmod 0755 &&
		find "$1" -type f -print0 | xargs -0 -r chmod 0644
}

# $1 - work dir: standard input (the tar stream) into $1/bundle.tar; its digest in $f_bundle_dg.
# Returns 1 with $f_why.
f_bundle_receive() {
	head -c $((NFLUA_BUNDLE_MAX + 1)) >"$1/bundle.tar"
	[ "$(wc -c <"$1/bundle.tar")" -le "$NFLUA_BUNDLE_MAX" ] ||
		{ f_why="bundle larger than $NFLUA_BUNDLE_MAX bytes"; return 1; }
	f_bundle_dg=$(sha256sum <"$1/bundle.tar" | cut -d' ' -f1)
}

# $1 - SOURCE (- for the stream f_bundle_receive took, or a directory), $2 - work dir: the
# bundle into $2/root. Returns 1 with $f_why.
f_bundle_read() {
	if [ "$1" = - ]; then
		f_bundle_tar "$2/bundle.tar" "$2/root" && f_bundle_own "$2/root"
	else
		[ -d "$1" ] || { f_why="$1: not a directory"; return 1; }
		f_bundle_tree "$1" || return 1
		mkdir -p "$2/root" && cp -R "$1/." "$2/root/" && f_bundle_tree "$2/root" && f_bundle_own "$2/root"
	fi
}

# $1 - root of the bundle: every script its plan names is a file of the bundle (or of an
# installed policies package, /usr/share/nflua/)
f_bundle_scripts() {
	f_why=
	for f_s in $(cut -d' ' -f5- "$2/states"); do
		case $f_s in
		/etc/nflua/apply/*) [ -f "$1$f_s" ] || { f_why="script $f_s is not in the bundle"; return 1; } ;;
		/usr/share/nflua/*) [ -f "$f_s" ] || { f_why="script $f_s is not installed"; return 1; } ;;
		*) f_why="script $f_s: only /etc/nflua/apply/ (the bundle) and /usr/share/nflua/ may be named"; return 1 ;;
		esac
	done
}

# $1 - work dir: the persisted files that differ (change file records; --diff lines)
f_files_compare() {
	f_w=$1
	: >"$f_w/files"
	{
		echo /etc/config/nflua
		(cd "$f_w/root" && find etc/nflua/apply -type f 2>/dev/null | sed 's,^,/,')
		find /etc/nflua/apply -type f 2>/dev/null
	} | sort -u | while read -r f_p; do
		f_new=$f_w/root$f_p
		[ -f "$f_new" ] || f_new=/dev/null
		f_old=$f_p
		[ -f "$f_old" ] || f_old=/dev/null
		cmp -s "$f_old" "$f_new" && continue
		echo "$f_p" >>"$f_w/files"
		f_rec "change file $f_p"
	done
}

# $1 - path, $2 - old file, $3 - new file: a unified diff. busybox diff when there is one
# (OpenWrt's busybox has none by default: CONFIG_BUSYBOX_DEFAULT_DIFF=n), else diffutils' diff,
# else one hunk of the whole files (a valid unified diff, not a minimal one).
# NFLUA_DIFF=whole forces the last.
f_udiff() {
	if [ "$NFLUA_DIFF" != whole ] && busybox diff /dev/null /dev/null >/dev/null 2>&1; then
		busybox diff -u -L "a$1" -L "b$1" "$2" "$3"
	elif [ "$NFLUA_DIFF" != whole ] && command -v diff >/dev/null 2>&1; then
		diff -u -L "a$1" -L "b$1" "$2" "$3"
	else
		f_d_o=$(grep -c '' "$2") f_d_n=$(grep -c '' "$3")
		echo "--- a$1"
		echo "+++ b$1"
		echo "@@ -$((f_d_o > 0)),$f_d_o +$((f_d_n > 0)),$f_d_n @@"
		sed 's/^/-/' "$2"
		sed 's/^/+/' "$3"
	fi
}

# $1 - work dir: "diff| " lines of the files that differ (old, then new)
f_files_diff() {
	while read -r f_p; do
		f_new=$1/root$f_p
		[ -f "$f_new" ] || f_new=/dev/null
		f_old=$f_p
		[ -f "$f_old" ] || f_old=/dev/null
		f_udiff "$f_p" "$f_old" "$f_new" | sed 's/^/diff| /'
	done <"$1/files"
}

# $1 - work dir: the bundle's files take the place of the installed ones (each by a rename on
# /etc's file system). Called after the switch succeeded.
f_persist() {
	f_w=$1
	mkdir -p /etc/nflua /etc/config || return 1
	rm -rf /etc/nflua/.apply.new /etc/nflua/.apply.old
	if [ -d "$f_w/root/etc/nflua/apply" ]; then
		cp -R "$f_w/root/etc/nflua/apply" /etc/nflua/.apply.new || return 1
	else
		mkdir /etc/nflua/.apply.new || return 1
	fi
	cp "$f_w/root/etc/config/nflua" /etc/nflua/.config.new || return 1
	sync
	[ ! -d /etc/nflua/apply ] || mv /etc/nflua/apply /etc/nflua/.apply.old || return 1
	if ! mv /etc/nflua/.apply.new /etc/nflua/apply || ! mv /etc/nflua/.config.new /etc/config/nflua; then
		# the installed files as they were (the config is moved last: it is still the old one)
		rm -rf /etc/nflua/apply
		[ ! -d /etc/nflua/.apply.old ] || mv /etc/nflua/.apply.old /etc/nflua/apply
		return 1
	fi
	rm -rf /etc/nflua/.apply.old
	sync
}

# nfluactl apply [--check] [--diff] SOURCE: the records of docs/uci.md on stdout. Exit status 0
# ok/changed/would-change, 1 failed (left on the previous policy), 2 bad usage or bundle, 3 no
# /dev/nflua, 4 rollback failed.
f_apply_cmd() {
	NFLUA_OUT=1
	f_check='' f_diff='' f_source='' f_usage=''
	while [ $# -gt 0 ]; do
		case $1 in
		--check) f_check=1 ;;
		--diff) f_diff=1 ;;
		-) [ -z "$f_source" ] || f_usage=1; f_source=- ;;
		-*) f_usage=1 ;;
		*) [ -z "$f_source" ] || f_usage=1; f_source=$1 ;;
		esac
		shift
	done
	f_rec "nflua-apply 1"
	if [ -n "$f_usage" ] || [ -z "$f_source" ]; then
		f_rec "error usage: nfluactl apply [--check] [--diff] (- | DIRECTORY)"
		f_rec "result failed"
		return 2
	fi
	[ -e "${NFLUA_DEV:-/dev/nflua}" ] || {
		f_rec "error ${NFLUA_DEV:-/dev/nflua} is missing (load the module: modprobe nflua)"
		f_rec "result failed"
		return 3
	}
	# (no dot in the path: uci reads "a.b" in a package path as package "a", section "b")
	f_w=$(mktemp -d /tmp/nflua-apply-XXXXXX) || { f_rec "error mktemp failed"; f_rec "result failed"; return 2; }
	# shellcheck disable=SC2064 # the directory is known now
	trap "rm -rf '$f_w'" EXIT
	# (f_ctl's calls share one directory for their request and reply files: no mktemp each)
	NF_TMP=$f_w/ctl
	mkdir "$NF_TMP" || { f_rec "error mkdir failed"; f_rec "result failed"; return 2; }
	f_apply_run "$f_w"
	f_ret=$?
	rm -rf "$f_w"
	trap - EXIT
	return $f_ret
}

# The records of an apply that f_unchanged decided: nothing to do
f_apply_unchanged() {
	f_rec "result ok"
	f_progress "done ok unchanged"
}

# $1 - work dir (f_apply_cmd's settings)
f_apply_run() {
	f_w=$1
	f_bundle_dg=-
	if [ "$f_source" = - ]; then
		f_bundle_receive "$f_w" || { f_rec "error bad bundle: $f_why"; f_rec "result failed"; return 2; }
	fi
	f_lock || { f_rec "error cannot take $NFLUA_LOCK"; f_rec "result failed"; return 1; }
	# the stream last applied, all of it still running: nothing to extract or compare
	if [ "$f_source" = - ] && f_unchanged tar "$f_bundle_dg"; then
		: >"$NFLUA_RUN/apply.log"
		f_progress "begin apply $$"
		f_apply_unchanged
		return 0
	fi
	f_bundle_read "$f_source" "$f_w" || {
		f_rec "error bad bundle: $f_why"
		f_rec "result failed"
		return 2
	}
	: >"$NFLUA_RUN/apply.log"
	f_progress "begin apply $$"
	if f_unchanged tree "$f_w/root"; then
		[ -n "$f_check" ] || f_stamp "$f_bundle_dg"
		f_apply_unchanged
		return 0
	fi
	f_plan "$f_w/root/etc/config/nflua" "$f_w/plan"
	f_bundle_scripts "$f_w/root" "$f_w/plan" || echo "$f_why" >>"$f_w/plan/errors"
	if [ -s "$f_w/plan/errors" ]; then
		while read -r f_l; do f_err "$f_l"; done <"$f_w/plan/errors"
		f_rec "result failed"
		f_progress "done failed"
		return 1
	fi
	f_compare "$f_w" "$f_w/root" || { f_rec "result failed"; f_progress "done failed"; return 1; }
	f_files_compare "$f_w"
	[ -z "$f_diff" ] || f_files_diff "$f_w"
	if ! grep -qv ' keep ' "$f_w/actions" && ! grep -q ' changed$' "$f_w/groups" && [ ! -s "$f_w/files" ]; then
		[ -n "$f_check" ] || [ ! -f "$NFLUA_RUN/applied" ] || f_stamp "$f_bundle_dg"
		f_rec "result ok"
		f_progress "done ok"
		return 0
	fi
	if [ -n "$f_check" ]; then
		f_rec "result would-change"
		f_progress "done would-change"
		return 0
	fi
	f_switch "$f_w" "$f_w/root" strict
	f_sw=$?
	case $f_sw in
	0) ;;
	4) f_rec "error rollback failed: the router may be between policies"; f_rec "result failed"; return 4 ;;
	*) f_rec "result failed"; f_progress "done failed"; return 1 ;;
	esac
	f_persist "$f_w" || {
		f_err "persist: cannot write /etc/config/nflua and /etc/nflua/apply"
		f_rollback "$f_w" || { f_rec "result failed"; return 4; }
		f_rec "result failed"
		return 1
	}
	f_finish "$f_w"
	f_stamp "$f_bundle_dg"
	f_rec "result changed"
	return 0
}
