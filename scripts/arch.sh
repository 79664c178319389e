# shellcheck shell=sh
# arch.sh: the one table of what differs per target architecture (Debian arch names), sourced by
# fetch-kernel.sh, build-kmod.sh, build-xt.sh, openwrt-runtime.sh, test/vm/mkinitramfs.sh and
# test/vm/run.sh.
#
#   nflua_arch DEBARCH     sets, for DEBARCH (amd64, arm64, armhf, mipsel):
#     KARCH          the kernel's ARCH= for a (cross) build
#     CROSS_COMPILE  the cross toolchain prefix (empty for amd64: the host's own gcc)
#     TRIPLET        the Debian multiarch triplet (/usr/lib/TRIPLET)
#     LDSO           the guest path of the dynamic loader
#     QEMU           qemu-system-* binary, QEMU_MACHINE (-M) and QEMU_CPU (-cpu; empty = none)
#     QEMU_USER      qemu-*-static (user mode) that runs the arch's binaries on this host
#     CONSOLE        the kernel console device of that machine (the first serial port)
#     RESULT_TTY     the guest device of the second port, where guest/init reports
#     RESULT_ARGS    how run.sh makes that port (a QEMU option list); see the notes below
#     CROSS_PKGS     the host packages (apt) for the cross build and the VM
#     GUEST_MODULES  stock modules the guest needs for that port (added to mkinitramfs' list)
#     QEMU_MEM, QEMU_SMP  defaults for the VM's memory (MiB) and CPUs
# Returns 1 for an unknown arch.
# shellcheck disable=SC2034 # the variables are this file's output
#
# The result port: x86 and malta have a second 16550 (ttyS1, -serial twice); arm virt has one
# PL011 only, so the second port is a virtio console (hvc0) on virtio-mmio; Debian builds both
# as modules (virtio_mmio, virtio_console), which guest/init loads before it opens the port.
nflua_arch() {
	CROSS_COMPILE='' QEMU_CPU='' GUEST_MODULES='' QEMU_MEM=1024 QEMU_SMP=2
	case $1 in
		amd64) KARCH=x86 TRIPLET=x86_64-linux-gnu LDSO=/lib64/ld-linux-x86-64.so.2
			QEMU=qemu-system-x86_64 QEMU_MACHINE=pc QEMU_USER=''
			CONSOLE=ttyS0 RESULT_TTY=ttyS1 RESULT_ARGS=serial
			CROSS_PKGS='' ;;
		arm64) KARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- TRIPLET=aarch64-linux-gnu
			LDSO=/lib/ld-linux-aarch64.so.1
			QEMU=qemu-system-aarch64 QEMU_MACHINE=virt QEMU_CPU=cortex-a57
			QEMU_USER=qemu-aarch64-static
			CONSOLE=ttyAMA0 RESULT_TTY=hvc0 RESULT_ARGS=virtio GUEST_MODULES="virtio_mmio virtio_console"
			CROSS_PKGS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm qemu-user-static" ;;
		armhf) KARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- TRIPLET=arm-linux-gnueabihf
			LDSO=/lib/ld-linux-armhf.so.3
			QEMU=qemu-system-arm QEMU_MACHINE=virt QEMU_CPU=cortex-a15
			QEMU_USER=qemu-arm-static
			CONSOLE=ttyAMA0 RESULT_TTY=hvc0 RESULT_ARGS=virtio GUEST_MODULES="virtio_mmio virtio_console"
			CROSS_PKGS="gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-system-arm qemu-user-static" ;;
		mipsel) KARCH=mips CROSS_COMPILE=mipsel-linux-gnu- TRIPLET=mipsel-linux-gnu
			LDSO=/lib/ld.so.1
			QEMU=qemu-system-mipsel QEMU_MACHINE=malta QEMU_MEM=256 QEMU_SMP=1
			QEMU_USER=qemu-mipsel-static
			CONSOLE=ttyS0 RESULT_TTY=ttyS1 RESULT_ARGS=serial
			CROSS_PKGS="gcc-mipsel-linux-gnu libc6-dev-mipsel-cross qemu-system-mips qemu-user-static" ;;
		*) return 1 ;;
	esac
}
