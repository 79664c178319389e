# nflua: Lua packet filtering in the Linux kernel for OpenWrt routers.
#   make            build nflua.ko for the default test kernel (Debian 6.1 cloud) and the
#                   iptables extensions libxt_lua.so, libxt_LUA.so (build/xt/)
#   make test       every test: nfluactl's (TypeScript), the kernel suite in QEMU on 6.1, 5.10
#                   and 6.12, the harness self-test; the last line sums them up
#   make cli        build nfluactl (TypeScript) into build/cli; then `npx nfluactl --help`
#   make sea        single-executable nfluactl for linux-x64 and linux-arm64 in dist/
#   make feed-test  the OpenWrt feed (openwrt/) on OpenWrt's own buildroot, main and 24.10, from
#                   the pinned sources in NFLUA_OPENWRT_SRC (docs/openwrt.md)
#   make openwrt-service-test   /etc/init.d/nflua on OpenWrt's procd/ubus/uci in the QEMU router
#   make demo       boot a QEMU router with routers behind it; this host's nfluactl applies the
#                   User-Agent policy to them over SSH (progress, recap); a browser's request is
#                   served, curl's is blocked; a change shown with --check --diff, then applied
#   make bench      packet rates through xt_string and Lua rules, as ratios to no rule, in
#                   the QEMU router, and control-plane times (bench/results.md, results.png);
#                   then nfluactl apply to 10 and 100 routers at several fork counts vs a bare
#                   SSH fan-out (build/bench/fleet.txt)
#   make test-arch ARCH=arm64|armhf|mipsel   cross-build nflua.ko and the extensions for a router
#                   arch and run the VM suite on Debian's kernel of that arch (QEMU, TCG)
#   make test-debug the whole VM suite on the debug kernel (KEY 6.1-debug: Debian's
#                   linux-source-6.1 with KASAN, lockdep, kmemleak, lockup/stall/hung-task
#                   detectors, DEBUG_LIST, UBSAN; scripts/debug-kernel.config), built once per
#                   machine and cached in /var/cache/nflua; plus the self-test scenarios that prove
#                   a KASAN report, a leak and a soft lockup fail the run. `make test` runs a
#                   subset of it as a turn of the router-arch rotation when NFLUA_CI_ARCH=debug
#                   or NFLUA_CI_ROTATION names it (README.md, Testing)
# Everything the targets need (apt packages, kernels, Lua's source) is installed by the scripts
# they call, idempotently; see README.md.

KERNEL ?= 6.1
KERNELS ?= 6.1 5.10 6.12

.PHONY: all deps kmod kmod-all xt cli sea test test-suites test-lint test-cli feed-test openwrt-service-test demo stack-usage clean
all: kmod xt cli

deps:
	scripts/host-deps.sh

kmod: deps
	scripts/build-kmod.sh $(KERNEL)

xt: deps
	$(MAKE) -C libxt_lua BUILD=$(CURDIR)/build/xt

cli:
	scripts/node-deps.sh

sea:
	scripts/build-sea.sh

kmod-all: deps
	for k in $(KERNELS); do scripts/build-kmod.sh $$k || exit 1; done

# Frame sizes of every function of the module (docs/kernel-lua.md), for $(KERNEL).
stack-usage: deps
	scripts/build-kmod.sh $(KERNEL) stack-usage BUILD=$(CURDIR)/build/stack-usage/$(KERNEL)

test: deps test-lint test-suites

test-lint:
	scripts/lint.sh

# The CLI's tests, one VM run per kernel, the harness self-test: all run even if one fails,
# and the last line counts them all.
test-suites:
	scripts/test-all.sh $(KERNELS)

test-cli:
	scripts/test-cli.sh

feed-test: deps
	scripts/feed-test.sh

# /etc/init.d/nflua on OpenWrt's procd, ubus, uci (built from the pinned sources) in the QEMU
# router with the real module (docs/openwrt.md); KERNEL=arm64-6.1 (armhf-6.1, mipsel-6.1) on a
# router arch, all cross-built
openwrt-service-test: deps
	scripts/test-openwrt-service.sh $(KERNEL)

# Router arches (docs/platforms.md): one per run, e.g. make test-arch ARCH=armhf
ARCH ?= arm64
.PHONY: test-arch
# (ARCH is the Debian arch here: the kernel builds below must not inherit it as theirs)
test-arch: deps
	env -u ARCH -u MAKEFLAGS -u MFLAGS scripts/test-arch.sh $(ARCH)

# The VM suite on the debug kernel (built from source once per machine), and its self-test.
.PHONY: test-debug
test-debug: deps
	scripts/test-debug.sh

demo: deps
	scripts/demo.sh

.PHONY: bench
bench: deps
	scripts/bench.sh $(KERNEL)
	scripts/node-deps.sh && node scripts/bench-fleet.mjs

clean:
	rm -rf build dist
