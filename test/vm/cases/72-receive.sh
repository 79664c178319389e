#!/bin/sh
# 'receive' with several waiters: racing receivers each get whole messages (never an empty
# reply); readers and epoll entries that wait on a state outlive it safely.
# timeout: 120
. /test/lib.sh
W=$(mktemp -d /tmp/72.XXXXXX) || fail "mktemp"
trap 'rm -rf "$W"' EXIT

# blocked PID: PID sleeps waiting for the reply (busybox's read builtin polls, then reads)
blocked() {
    case $(cat "/proc/$1/wchan" 2>/dev/null) in *nflua* | *poll*) return 0 ;; esac
    return 1
}

N=6
step "$N receivers wait on one state; $N messages sent one by one"
run nfluactl create q
i=1
while [ $i -le $N ]; do
    # shellcheck disable=SC2016 # expanded by the inner sh
    sh -c 'nfluactl receive q >"$1.out" 2>"$1.err" & echo $! >"$1.pid"; wait $!; echo $? >"$1.rc"' \
        sh "$W/r$i" &
    i=$((i + 1))
done
# does this kernel report where a task sleeps? (5.10's unwinder does not: wchan is 0)
sleep 10 &
sp=$!
sleep 0.5
wchan=$(cat "/proc/$sp/wchan")
kill "$sp"
t=0
while :; do
    if [ "$wchan" = 0 ]; then
        sleep 3	# give the receivers time to block
        break
    fi
    n=0
    for p in $(cat "$W"/r*.pid 2>/dev/null); do blocked "$p" && n=$((n + 1)); done
    [ $n -lt $N ] || break
    t=$((t + 1))
    if [ $t -ge 200 ]; then
        for p in $(cat "$W"/r*.pid); do echo "$p: $(cat "/proc/$p/wchan")"; done
        fail "only $n of $N receivers are waiting"
    fi
    sleep 0.1
done
i=1
while [ $i -le $N ]; do
    run nfluactl execute q -e "nflua.send('m$i')"
    i=$((i + 1))
done
# every message is delivered to some receiver; those left waiting are then ended
# receiver_errors: fails on a receiver that saw a reply the protocol does not allow
receiver_errors() {
    for e in "$W"/r*.err; do
        case $(cat "$e") in *protocol*) fail "$(cat "$e")" ;; esac
    done
}
t=0
while [ "$(cat "$W"/r*.out 2>/dev/null | wc -l)" -lt $N ]; do
    receiver_errors
    t=$((t + 1))
    if [ $t -ge 100 ]; then
        cat "$W"/r*.err >&2
        fail "messages lost: got '$(cat "$W"/r*.out | tr '\n' ' ')'"
    fi
    sleep 0.1
done
# those still waiting are ended; wait for every wrapper to write its exit status
for p in $(cat "$W"/r*.pid); do kill "$p" 2>/dev/null; done
wait
i=1
while [ $i -le $N ]; do
    if [ -s "$W/r$i.err" ]; then
        case $(cat "$W/r$i.err") in
        *protocol*) fail "receiver $i: $(cat "$W/r$i.err") (exit $(cat "$W/r$i.rc"))" ;;
        esac
    fi
    if [ -s "$W/r$i.out" ]; then
        assert_eq "$(cat "$W/r$i.rc")" 0 "receiver $i got $(cat "$W/r$i.out")"
    fi
    i=$((i + 1))
done
assert_eq "$(cat "$W"/r*.out | sort | tr '\n' ' ')" "m1 m2 m3 m4 m5 m6 " "each message once"
run nfluactl stats q
assert_contains "$OUT" "queued=0" "nothing left queued"
run nfluactl destroy q

step "4 receivers on their own descriptors race for 300 messages sent one at a time"
run /test/tools/nflua-io race rq 4 300
printf '%s\n' "$OUT"
assert_contains "$OUT" "race: 300 rounds, 300 messages received" "every message once, no empty reply"

step "an epoll set that holds a waiting descriptor outlives the state"
run /test/tools/nflua-io epoll-destroy e
printf '%s\n' "$OUT"
assert_contains "$OUT" "receive e: 2 " "the waiting receive ends with ENOENT"
assert_contains "$OUT" "epoll set closed" "epoll set closed"

step "four processes reading one descriptor while its state is destroyed"
run /test/tools/nflua-io readers r 4
printf '%s\n' "$OUT"
assert_contains "$OUT" "readers: 1 ENOENT, 3 end of file, 0 other" "one reply, three ends of file"

run nfluactl list
assert_eq "$OUT" "" "no state left"
