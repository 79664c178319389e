#!/bin/bash
# test-all.sh KEY...: every test suite: the CLI's (mocha, real dropbear, SEA binaries), the VM
# suite on each test kernel KEY, then the harness's own self-test. Runs everything even after a
# failure; the last line sums them all up.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/build"
passed=0 failed=0 bad=()
tally() {	# $1 - label, $2 - a run's log; a log without a summary line counts as a failure
	local line p f
	line=$(grep -sE '^[0-9]+ passed, [0-9]+ failed$' "$2" | tail -n 1)
	if [ -z "$line" ]; then
		p=0 f=1
	else
		p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	fi
	passed=$((passed + p)) failed=$((failed + f))
	[ "$f" = 0 ] || bad+=("$1")
}
echo "=== nfluactl (TypeScript)"
rm -f "$root/build/test-cli.log"
"$root/scripts/test-cli.sh" 2>&1 | tee "$root/build/test-cli.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "nfluactl" "$root/build/test-cli.log"
for key in "$@"; do
	echo "=== kernel $key"
	start=$(date +%s)
	rm -f "$root/build/test-$key.log"
	"$root/scripts/test-kernel.sh" "$key" 2>&1 | tee "$root/build/test-$key.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
	tally "kernel $key" "$root/build/test-$key.log"
	echo "=== kernel $key: $(($(date +%s) - start)) s"
done
echo "=== harness self-test"
rm -f "$root/build/test-selftest.log"
"$root/test/vm/selftest.sh" 2>&1 | tee "$root/build/test-selftest.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "harness self-test" "$root/build/test-selftest.log"
[ ${#bad[@]} -eq 0 ] || echo "failed: ${bad[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
