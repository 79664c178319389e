#!/bin/sh
# 10,000 generated requests on /dev/nflua (valid, truncated, oversized, bad numbers, unknown
# operations, wrong field counts, several per write, closed mid-request, with a receiver
# blocking on the same states), every reply checked against docs/protocol.md. The seed is
# printed, and a failure prints the command that replays it.
# timeout: 300
. /test/lib.sh

seed=$(( $(date +%s) % 1000000 ))
step "fuzz: seed $seed"
/test/tools/nflua-fuzz --seed "$seed" --count 10000 || fail "fuzzer failed (seed $seed)"
run nfluactl list
assert_eq "$OUT" "" "the fuzzer left no state"
run nfluactl stats
assert_contains "$OUT" "states_mem=0" "no memory left charged to states"
