# tests/security/lib.sh: helpers shared by the security tests (sourced after the harness).

# Prints the pids of this test's QEMU processes that run as a VM uid (jailed), one a line.
jailed_qemu_pids() {
	local p
	for p in $(harness_qemu_pids); do
		[ "$(stat -c %u "/proc/$p" 2>/dev/null || echo 0)" -ge 200000 ] && echo "$p"
	done
	return 0
}

have_jailed_qemu() {
	[ -n "$(jailed_qemu_pids)" ]
}

# True when corrald runs QEMU under corral-jail (--jail auto: root and corral-jail beside it).
jail_expected() {
	[ "$(id -u)" = 0 ] && [ -x "$BUILD_DIR/bin/corral-jail" ]
}
