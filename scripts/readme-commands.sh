#!/bin/sh
# readme-commands.sh [--list]: run, in order, every command of the fenced block(s) under
# README.md's "## The two commands" (comments stripped), from the repository's top; stops at
# the first that fails, with its status. --list only prints them. .ci/run calls this, so the
# README's commands are what CI proves on a clean clone.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmds=$(awk '
	/^## / { inside = ($0 == "## The two commands") }
	inside && /^```/ { fence = !fence; next }
	inside && fence { sub(/[ \t]+#.*$/, ""); if ($0 !~ /^[ \t]*(#|$)/) print }
' README.md)
[ -n "$cmds" ] || { echo "readme-commands: no commands under '## The two commands' in README.md" >&2; exit 1; }
if [ "${1:-}" = --list ]; then
	printf '%s\n' "$cmds"
	exit 0
fi
printf '%s\n' "$cmds" | while IFS= read -r cmd; do
	echo "=== README: $cmd"
	start=$(date +%s)
	status=0
	sh -c "$cmd" </dev/null || status=$?
	echo "=== README: $cmd: exit $status, $(($(date +%s) - start)) s"
	[ "$status" = 0 ] || { echo "readme-commands: '$cmd' failed (exit $status)" >&2; exit "$status"; }
done
