#!/bin/sh
# shellcheck shell=sh
#
# test.sh [--parse-only] [--tools "T1 T2..."] [FILE.t...]: run the table-driven tests of the
# lua match and LUA target (default: libxt_lua.t next to this script).
#
# For each tool (iptables-legacy, iptables-nft, ip6tables-legacy, ip6tables-nft):
#   - "-m lua --help" and "-j LUA --help" show the extension's help;
#   - every OK line: -A succeeds in each chain, "-S CHAIN" shows "-A CHAIN EXPECTED", -C finds it;
#   - every FAIL line: -A fails and adds nothing; with a message in EXPECTED, the failure is the
#     parser's: exit status 2 and that text on stderr (checked in the first chain only);
#   - round trip: save, flush, restore, save again: both saves identical (counters aside), then
#     every rule can be deleted by its specification (-D), which leaves the chains empty.
# --parse-only runs only what needs no kernel module (help, FAIL lines with a message): on a
# host, point iptables at a build with XTABLES_LIBDIR=build/xt:/usr/lib/x86_64-linux-gnu/xtables.
#
# One line per check ("ok ..." or "FAIL ..."), a summary, and exit status 1 if anything failed.
# Runs under busybox sh. Uses only the filter table's built-in chains and flushes them.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
PARSE_ONLY=0
TOOLS="iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft"
while [ $# -gt 0 ]; do
	case $1 in
	--parse-only) PARSE_ONLY=1 ;;
	--tools) TOOLS=$2; shift ;;
	-h|--help) sed -n '3,18p' "$0"; exit 0 ;;
	-*) echo "test.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || set -- "$HERE/libxt_lua.t"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/libxt_lua.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
NCHECK=0
NFAIL=0

ok() {
	NCHECK=$((NCHECK + 1))
	echo "ok   $*"
}

# bad MSG: a failed check; the last command's stderr (if any) follows, indented
bad() {
	NCHECK=$((NCHECK + 1))
	NFAIL=$((NFAIL + 1))
	echo "FAIL $*"
	[ -s "$TMP/err" ] && sed 's/^/       | /' "$TMP/err"
	return 0
}

# ipt TOOL ARGS...: run TOOL, stdout in $TMP/out, stderr in $TMP/err, status in $RC
ipt() {
	RC=0
	"$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
}

# rules TOOL: the -A lines of the filter table
rules() {
	"$1" -S 2>/dev/null | grep -- '^-A ' || true
}

# saved FILE: a save without comments and counters, for comparing
saved() {
	grep -v '^#' "$1" | sed 's/\[[0-9]*:[0-9]*\]//g'
}

check_help() { # TOOL
	ipt "$1" -m lua --help
	if [ $RC -eq 0 ] && grep -q '^lua match options:' "$TMP/out" &&
		grep -q '^\[!\] --function NAME' "$TMP/out"; then
		ok "$1 -m lua --help"
	else
		bad "$1 -m lua --help (exit $RC)"
	fi
	ipt "$1" -j LUA --help
	if [ $RC -eq 0 ] && grep -q '^LUA target options:' "$TMP/out"; then
		ok "$1 -j LUA --help"
	else
		bad "$1 -j LUA --help (exit $RC)"
	fi
}

# check_ok TOOL CHAIN EXPECTED RULE-WORDS... ($RULE: the rule's text, kept for the round trip)
check_ok() {
	tool=$1 chain=$2 exp=$3
	shift 3
	ipt "$tool" -A "$chain" "$@"
	if [ $RC -ne 0 ]; then
		bad "$tool -A $chain $* (exit $RC)"
		return
	fi
	: >"$TMP/err"
	if ! "$tool" -S "$chain" 2>"$TMP/err" | grep -qxF -- "-A $chain $exp"; then
		"$tool" -S "$chain" 2>&1 | sed 's/^/       | /' >"$TMP/err"
		bad "$tool -S $chain: no line '-A $chain $exp'"
		return
	fi
	ipt "$tool" -C "$chain" "$@"
	if [ $RC -ne 0 ]; then
		bad "$tool -C $chain $* (exit $RC)"
		return
	fi
	echo "$chain $RULE" >>"$TMP/added"
	ok "$tool -A $chain $*"
}

# check_fail TOOL CHAIN MESSAGE RULE-WORDS...
check_fail() {
	tool=$1 chain=$2 msg=$3
	shift 3
	before=$(rules "$tool" | wc -l)
	ipt "$tool" -A "$chain" "$@"
	after=$(rules "$tool" | wc -l)
	if [ $RC -eq 0 ]; then
		bad "$tool -A $chain $*: accepted, should fail"
	elif [ "$before" != "$after" ]; then
		bad "$tool -A $chain $*: failed (exit $RC) but the rule count went $before -> $after"
	elif [ -n "$msg" ] && [ $RC -ne 2 ]; then
		bad "$tool -A $chain $*: exit $RC, want 2 (a parameter problem)"
	elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$TMP/err"; then
		bad "$tool -A $chain $*: error lacks '$msg'"
	elif grep -q 'Segmentation\|Aborted\|core dumped' "$TMP/err"; then
		bad "$tool -A $chain $*: crashed"
	else
		ok "$tool -A $chain $* fails: $(grep -v '^Try \|^Warning: \|^$' "$TMP/err" | head -n 1)"
	fi
}

# round_trip TOOL: save, flush, restore, save again; then delete every rule by specification
round_trip() {
	tool=$1
	save=$tool-save
	restore=$tool-restore
	ipt "$save" -t filter
	cp "$TMP/out" "$TMP/save1"
	if [ $RC -ne 0 ]; then
		bad "$save (exit $RC)"
		return
	fi
	n=$(grep -c -e '-m lua ' -e '-j LUA ' "$TMP/save1")
	want=$(wc -l <"$TMP/added")
	[ "$n" -eq "$want" ] || bad "$save: $n lua rules, want $want"
	ipt "$tool" -F
	ipt "$restore" <"$TMP/save1"
	if [ $RC -ne 0 ]; then
		bad "$restore < saved rules (exit $RC)"
		return
	fi
	ipt "$save" -t filter
	cp "$TMP/out" "$TMP/save2"
	saved "$TMP/save1" >"$TMP/s1"
	saved "$TMP/save2" >"$TMP/s2"
	if cmp -s "$TMP/s1" "$TMP/s2"; then
		ok "$save | $tool -F | $restore | $save: identical ($n lua rules)"
	else
		diff "$TMP/s1" "$TMP/s2" >"$TMP/err" 2>&1
		bad "$save | $tool -F | $restore | $save: differs"
	fi
	ndel=0
	while IFS= read -r line; do
		eval "set -- $line"
		chain=$1
		shift
		ipt "$tool" -D "$chain" "$@"
		if [ $RC -ne 0 ]; then
			bad "$tool -D $chain $* after restore (exit $RC)"
		else
			ndel=$((ndel + 1))
		fi
	done <"$TMP/added"
	left=$(rules "$tool" | wc -l)
	if [ "$left" -eq 0 ]; then
		ok "$tool -D of all $ndel rules after restore leaves no rule"
	else
		: >"$TMP/err"
		bad "$tool: $left rules left after -D of all $ndel"
	fi
}

# run_t TOOL FILE
run_t() {
	tool=$1
	chains=INPUT
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		''|'#'*) continue ;;
		:*) chains=$(echo "${line#:}" | tr ',' ' '); continue ;;
		'*'*) echo "test.sh: $2: tables other than filter are not supported" >&2; exit 2 ;;
		esac
		rule=${line%%;*}
		rest=${line#*;}
		exp=${rest%%;*}
		res=${rest#*;}
		[ "$exp" = "=" ] && exp=$rule
		RULE=$rule
		eval "set -- $rule"
		for chain in $chains; do
			case $res in
			OK) [ $PARSE_ONLY -eq 1 ] || check_ok "$tool" "$chain" "$exp" "$@" ;;
			FAIL)
				# the parser does not care about the chain: its errors in the first only
				if [ -n "$exp" ]; then
					[ "$chain" != "${chains%% *}" ] ||
						check_fail "$tool" "$chain" "$exp" "$@"
				elif [ $PARSE_ONLY -eq 0 ]; then
					check_fail "$tool" "$chain" "$exp" "$@"
				fi ;;
			*) echo "test.sh: $2: bad line: $line" >&2; exit 2 ;;
			esac
		done
	done <"$2"
}

for tool in $TOOLS; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		: >"$TMP/err"
		bad "$tool: not installed"
		continue
	fi
	[ $PARSE_ONLY -eq 1 ] || "$tool" -F 2>/dev/null
	: >"$TMP/added"
	check_help "$tool"
	for t in "$@"; do
		run_t "$tool" "$t"
	done
	if [ $PARSE_ONLY -eq 0 ]; then
		round_trip "$tool"
		"$tool" -F 2>/dev/null
	fi
done

echo "libxt_lua: $((NCHECK - NFAIL)) of $NCHECK checks passed"
[ $NFAIL -eq 0 ]
