# nflua: Lua packet filtering in the Linux kernel for OpenWrt routers.
#   make            build nflua.ko for the default test kernel (Debian 6.1 cloud) and the
#                   iptables extensions libxt_lua.so, libxt_LUA.so (build/xt/)
#   make test       every test: the kernel suite in QEMU on 6.1, 5.10 and 6.12
#   make demo       boot a QEMU "router" and show a Lua state being created and used
# Everything the targets need (apt packages, kernels, Lua's source) is installed by the scripts
# they call, idempotently; see README.md.

KERNEL ?= 6.1
KERNELS ?= 6.1 5.10 6.12

.PHONY: all deps kmod kmod-all xt test test-vm test-lint demo stack-usage clean
all: kmod xt

deps:
	scripts/host-deps.sh

kmod: deps
	scripts/build-kmod.sh $(KERNEL)

xt: deps
	$(MAKE) -C libxt_lua BUILD=$(CURDIR)/build/xt

kmod-all: deps
	for k in $(KERNELS); do scripts/build-kmod.sh $$k || exit 1; done

# Frame sizes of every function of the module (docs/kernel-lua.md), for $(KERNEL).
stack-usage: deps
	scripts/build-kmod.sh $(KERNEL) stack-usage BUILD=$(CURDIR)/build/stack-usage/$(KERNEL)

test: deps test-lint test-vm

test-lint:
	scripts/lint.sh

# One VM run per kernel; all run even if one fails, and the summary counts them all.
test-vm:
	scripts/test-all-kernels.sh $(KERNELS)

demo: deps
	scripts/demo.sh

clean:
	rm -rf build dist
