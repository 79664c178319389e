#!/bin/bash
# run.sh KEY [options]: boot Debian kernel KEY (scripts/kernels.conf) in QEMU with a busybox
# initramfs, run the test cases inside, and judge the results and the kernel log.
#
#   --cases a,b          run only these cases (names of files in the case dir, .sh optional)
#   --case-dir DIR       where the case scripts are (default test/vm/cases)
#   --ko FILE            kernel module to put under /lib/modules/KVER/extra (repeatable)
#   --file SRC:DEST      extra file/dir for the guest (repeatable)
#   --mod NAME           extra stock kernel module for the guest (repeatable)
#   --timeout SECS       overall limit for the VM (default 900); a hung VM is killed = failure
#   --case-timeout SECS  default per-case timeout in the guest (default 120; `# timeout: N`
#                        in a case file wins)
#   --append ARGS        extra kernel command line
#   --hostfwd SPEC       give the guest a NIC (virtio-net, QEMU user network: eth0 10.0.2.15/24,
#                        gw 10.0.2.2) with this forward, e.g. tcp:127.0.0.1:2222-:22 (repeatable;
#                        the guest loads virtio_pci and virtio_net itself). Default: no NIC.
#   --out DIR            logs and initramfs (default build/vm/KEY)
# Environment: NFLUA_VM_ACCEL=tcg|kvm forces the accelerator, NFLUA_VM_CPU the -cpu model;
# NFLUA_VM_MEM (MiB, default 1024),
# NFLUA_VM_SMP (default 2); NFLUA_CACHE (see scripts/fetch-kernel.sh).
# Exit status 0 only if every case passed exactly once, the guest said NFLUA-DONE and the kernel
# log is clean. Last line: "N passed, M failed".
set -eu
export LC_ALL=C

die() { echo "run.sh: ERROR: $*" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

[ $# -ge 1 ] || die "usage: $0 KEY [--cases a,b] [--case-dir DIR] [--ko FILE]... [--file SRC:DEST]... [--mod NAME]... [--timeout SECS] [--case-timeout SECS] [--append ARGS] [--hostfwd SPEC]... [--out DIR]"
KEY=$1; shift
CASES='' CASEDIR=$HERE/cases TIMEOUT=900 CASE_TIMEOUT='' APPEND='' OUTDIR=$ROOT/build/vm/$KEY
MKARGS=() NET_ARGS=()
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "option $1 needs a value"
    case $1 in
        --cases) CASES=$2 ;;
        --case-dir) CASEDIR=$2 ;;
        --ko|--file|--mod) MKARGS+=("$1" "$2") ;;
        --timeout) TIMEOUT=$2 ;;
        --case-timeout) CASE_TIMEOUT=$2 ;;
        --append) APPEND=$2 ;;
        --hostfwd)
            if [ ${#NET_ARGS[@]} = 0 ]; then NET_ARGS=(-netdev "user,id=n0,hostfwd=$2" -device "virtio-net-pci,netdev=n0")
            else NET_ARGS[1]="${NET_ARGS[1]},hostfwd=$2"; fi ;;
        --out) OUTDIR=$2 ;;
        *) die "unknown option '$1'" ;;
    esac
    shift 2
done
case $TIMEOUT in ''|*[!0-9]*) die "--timeout wants seconds" ;; esac
[ -d "$CASEDIR" ] || die "case dir $CASEDIR does not exist"
CASEDIR=$(cd "$CASEDIR" && pwd)

[ "${NFLUA_NO_HOST_DEPS:-}" = 1 ] || "$ROOT/scripts/host-deps.sh" >/dev/null

# Cases to expect.
EXPECT=()
if [ -n "$CASES" ]; then
    IFS=, read -r -a sel <<<"$CASES"
    for c in "${sel[@]}"; do [ -z "$c" ] || EXPECT+=("${c%.sh}"); done
else
    for f in "$CASEDIR"/*.sh; do [ -f "$f" ] && EXPECT+=("$(basename "$f" .sh)"); done
fi
[ ${#EXPECT[@]} -gt 0 ] || die "no cases to run in $CASEDIR"

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
INITRD=$OUTDIR/initramfs.cpio.gz KLOG=$OUTDIR/kernel.log RLOG=$OUTDIR/result.log QLOG=$OUTDIR/qemu.log
rm -f "$KLOG" "$RLOG" "$QLOG"

# The selected cases travel in the image (/test/cases.list), not on the kernel command line: a
# long list was cut there (mipsel's command line holds fewer bytes: "no such case p20-t")
if [ -n "$CASES" ]; then
    printf '%s\n' "${EXPECT[@]}" >"$OUTDIR/cases.list"
    MKARGS+=(--file "$OUTDIR/cases.list:/test/cases.list")
fi
t0=$(date +%s.%N)
"$HERE/mkinitramfs.sh" "$KEY" "$INITRD" --case-dir "$CASEDIR" ${MKARGS[@]+"${MKARGS[@]}"}
t1=$(date +%s.%N)
DEBARCH='' TIMESCALE=''
# shellcheck disable=SC1090
. "$ROOT/build/kernel/$KEY/env"
# Another arch (DEBARCH in the kernel's env): its QEMU machine, CPU, console and result port come
# from scripts/arch.sh; always TCG.
QEMU=qemu-system-x86_64 CONSOLE=ttyS0 RESULT_TTY=ttyS1 RESULT_ARGS=serial MACHINE_ARGS=()
if [ -n "$DEBARCH" ]; then
    # shellcheck source=scripts/arch.sh
    . "$ROOT/scripts/arch.sh"
    nflua_arch "$DEBARCH" || die "kernel $KEY: unknown arch $DEBARCH"
    MACHINE_ARGS=(-M "$QEMU_MACHINE")
    : "${NFLUA_VM_ACCEL:=tcg}" "${NFLUA_VM_MEM:=$QEMU_MEM}" "${NFLUA_VM_SMP:=$QEMU_SMP}"
fi

# Accelerator: KVM only where it runs stock kernels (not the nested kvm_pvm of these machines).
ACCEL=${NFLUA_VM_ACCEL:-}
if [ -z "$ACCEL" ]; then
    if [ ! -d /sys/module/kvm_pvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then ACCEL=kvm; else ACCEL=tcg; fi
fi
# QEMU before 8.1 (bookworm has 7.2) calls its cmpxchg16b helper under TCG without syncing the
# lazily computed flags, so EFLAGS after CMPXCHG16B is garbage (8.1 inlined the instruction and
# fixed it). 6.12's SLUB fast path (this_cpu_try_cmpxchg128 + jne) then double-faults within
# seconds of boot. Hiding CX16 makes the kernel use its cmpxchg16b emulation instead.
CPU=max
qv=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
if [ -n "$qv" ] && [ "$(echo "$qv" | awk '{ print ($1 * 100 + $2 < 801) }')" = 1 ]; then
    CPU=max,-cx16
fi
[ -z "$DEBARCH" ] || CPU=$QEMU_CPU   # empty: the machine's default CPU
case $ACCEL in
    kvm) ACCEL_ARGS=(-accel kvm -cpu "${NFLUA_VM_CPU:-host}") ;;
    tcg) c=${NFLUA_VM_CPU:-$CPU}; ACCEL_ARGS=(-accel tcg ${c:+-cpu "$c"}) ;;
    *) die "NFLUA_VM_ACCEL must be tcg or kvm" ;;
esac

CMDLINE="console=$CONSOLE loglevel=7 panic=-1 rdinit=/init"
[ "$RESULT_TTY" = ttyS1 ] || CMDLINE="$CMDLINE nflua.tty=$RESULT_TTY"
# x86: no IO-APIC timer check at boot. It counts timer ticks during a short delay loop, which
# a TCG guest on a loaded host can miss: "Kernel panic - not syncing: IO-APIC + timer doesn't
# work!" at 0.008 s (seen with the debug kernel under a load of 17 on 2 cores)
[ -n "$DEBARCH" ] || CMDLINE="$CMDLINE no_timer_check"
[ -z "$CASE_TIMEOUT" ] || CMDLINE="$CMDLINE nflua.timeout=$CASE_TIMEOUT"
# a kernel that runs slower (TIMESCALE in its env: the debug kernel) scales the per-case limits
# and the module's wall-clock limit of a Lua call (call_max_ms, default 5000: kmod's modprobe
# takes module options from the kernel command line; the module caps it at 15000)
[ -z "$TIMESCALE" ] || CMDLINE="$CMDLINE nflua.timescale=$TIMESCALE nflua.call_max_ms=$((5000 * TIMESCALE))"
[ -z "$APPEND" ] || CMDLINE="$CMDLINE $APPEND"

echo "run.sh: booting $KVER (${ACCEL_ARGS[*]}), ${#EXPECT[@]} case(s), limit ${TIMEOUT}s"
case $RESULT_ARGS in
    serial) RESULT_ARGS=(-serial "file:$RLOG") ;;
    virtio) RESULT_ARGS=(-device virtio-serial-device -chardev "file,id=result,path=$RLOG"
                         -device "virtconsole,chardev=result") ;;
esac
set +e
timeout -k 5 "$TIMEOUT" "$QEMU" ${MACHINE_ARGS[@]+"${MACHINE_ARGS[@]}"} "${ACCEL_ARGS[@]}" \
    -m "${NFLUA_VM_MEM:-1024}" -smp "${NFLUA_VM_SMP:-2}" \
    -nodefaults -no-user-config -display none -no-reboot \
    -serial "file:$KLOG" "${RESULT_ARGS[@]}" ${NET_ARGS[@]+"${NET_ARGS[@]}"} \
    -kernel "$VMLINUZ" -initrd "$INITRD" -append "$CMDLINE" \
    </dev/null >"$QLOG" 2>&1
qrc=$?
set -e
t2=$(date +%s.%N)
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ------------------------------------------------------------------ judge
touch "$KLOG" "$RLOG"
R=$(tr -d '\r' <"$RLOG")
K=$(tr -d '\r' <"$KLOG")
HUNG=
if [ $qrc = 124 ] || [ $qrc = 137 ]; then
    HUNG=1
elif [ $qrc != 0 ]; then
    echo "run.sh: qemu exited with status $qrc:"; sed 's/^/  qemu: /' "$QLOG"
fi
pass=0 failed=0
running=$(printf '%s\n' "$R" | awk '/^NFLUA-START / { c = $2 } /^NFLUA-RESULT / { if ($2 == c) c = "" } END { print c }')
for c in "${EXPECT[@]}"; do
    npass=$(printf '%s\n' "$R" | grep -cxF "NFLUA-RESULT $c PASS" || true)
    nres=$(printf '%s\n' "$R" | grep -c "^NFLUA-RESULT $c " || true)
    if [ "$npass" = 1 ] && [ "$nres" = 1 ]; then
        t=$(printf '%s\n' "$R" | sed -n "s/^NFLUA-TIME $c \([^ ]*\) .*/\1/p" | head -n1)
        printf 'ok   %s%s\n' "$c" "${t:+ ($t)}"
        pass=$((pass + 1))
        continue
    fi
    failed=$((failed + 1))
    if [ "$nres" -gt 1 ]; then
        why="$nres results for one case"
    elif [ "$nres" = 1 ]; then
        why=$(printf '%s\n' "$R" | sed -n "s/^NFLUA-RESULT $c FAIL *//p" | head -n1)
    elif [ "$c" = "$running" ]; then
        if [ -n "$HUNG" ]; then why="no result: the VM hung in this case and was killed after ${TIMEOUT}s"
        else why="no result: the VM died while this case was running (see kernel log)"; fi
    else
        why="no result: not run (the VM stopped earlier)"
    fi
    printf 'FAIL %s: %s\n' "$c" "$why"
done

# The kernel log must be clean. Any of these, anywhere (including boot), is a failure.
# (BUG and WARNING as words, so "DEBUG" does not count; "Call trace" is arm64's spelling.)
# Most reports of the debug kernel (scripts/debug-kernel.config) start with "BUG:" (KASAN, sleeping
# in atomic context, lockdep's own limits) or "WARNING:" (lockdep: circular locking, inconsistent
# lock state, recursive locking, suspicious RCU usage; ODEBUG); their titles are listed too, so a
# report is caught even where the kernel words its first line differently. kmemleak: guest/init's
# scan after the last case prints each leak ("unreferenced object"); "detector disabled" means it
# stopped looking (its pool ran out), which must not pass silently.
BAD='\<BUG\>|\<WARNING\>|Oops|general protection|stack-protector|sleeping function called from invalid context|rcu_sched self-detected stall|rcu: INFO:|RCU stall|refcount_t|Kernel panic|kernel stack overflow|soft lockup|hung_task|blocked for more than|UBSAN|KASAN|list_add corruption|list_del corruption|list corruption|unreferenced object|new suspected memory leaks|leak detector disabled|possible circular locking|inconsistent lock state|possible recursive locking|suspicious RCU usage|ODEBUG|Call [Tt]race'
# (the kernel's echo of its command line is not a report: --append hung_task_panic=0 is not one)
bad_lines=$(printf '%s\n' "$K" | grep -nE "$BAD" | grep -vE '^[0-9]+:\[ *[0-9.]+\] (Kernel c|C)ommand line: ' || true)
if [ -n "$bad_lines" ]; then
    failed=$((failed + 1))
    echo "FAIL kernel-log: $(printf '%s\n' "$bad_lines" | wc -l) suspicious line(s):"
    printf '%s\n' "$bad_lines" | head -n 60 | sed 's/^/  kernel.log:/'
fi
if ! printf '%s\n' "$R" | grep -q '^NFLUA-DONE'; then
    # Only counted on its own when every case has its result (else that case already failed).
    if [ $failed = 0 ]; then failed=$((failed + 1)); echo "FAIL vm: the guest did not report NFLUA-DONE"; fi
    [ -z "$HUNG" ] || echo "run.sh: the VM was killed after ${TIMEOUT}s${running:+ while running case '$running'}"
fi

boot=$(printf '%s\n' "$R" | sed -n 's/^NFLUA-START [^ ]* uptime=//p' | head -n1)
echo "run.sh: initramfs $(secs "$t0" "$t1")s ($(du -k "$INITRD" | cut -f1) KiB), guest wall time $(secs "$t1" "$t2")s, first case at guest uptime ${boot:-?}s"
if [ $failed -gt 0 ]; then
    echo "run.sh: logs: $KLOG (kernel console)"
    echo "run.sh:       $RLOG (case results and output)"
    echo "run.sh:       $QLOG (qemu)"
    # output of the cases that did not pass
    printf '%s\n' "$R" | awk '
        /^NFLUA-START / { c = $2; buf = $0 "\n"; next }
        c != "" { buf = buf $0 "\n" }
        /^NFLUA-RESULT / && $2 == c { if ($3 != "PASS") printf "%s", buf; c = "" }
        END { if (c != "") printf "%s", buf }' | sed 's/^/  /'
fi
echo "$pass passed, $failed failed"
[ $failed = 0 ]
