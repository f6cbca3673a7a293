# images/kernel.sh: the kernel artefact (sourced by images/build). Downloads Debian's cloud kernel
# package (the one linux-image-cloud-amd64 depends on), extracts the uncompressed ELF vmlinux
# from its bzImage (lib/vmlinux.py) and the modules the agent needs with their dependencies
# (lib/kmods.py). Output dir: vmlinux, modules/{*.ko,corral.list}, config, info.txt.
# It must not install anything on the host.

# Sets KERNEL_PKG and KERNEL_VER from apt (slow: cached by images/build).
kernel_resolve_apt() {
	KERNEL_PKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$KERNEL_PKG" ]; then
		KERNEL_PKG=$(apt-cache pkgnames linux-image- 2>/dev/null |
			grep -E '^linux-image-[0-9][0-9.]*-[0-9]+-cloud-amd64$' | sort -V | tail -n 1)
	fi
	[ -n "$KERNEL_PKG" ] || die "kernel: no linux-image-*-cloud-amd64 package known to apt"
	KERNEL_VER=$(apt-cache policy "$KERNEL_PKG" | awk '/Candidate:/ { print $2 }')
	[ -n "$KERNEL_VER" ] && [ "$KERNEL_VER" != "(none)" ] || die "kernel: $KERNEL_PKG has no candidate"
}

kernel_resolve() {
	KERNEL_HASH=$(recipe_hash "$IMAGES_SRC/kernel.sh" "$IMAGES_SRC/lib/common.sh" \
		"$IMAGES_SRC/lib/vmlinux.py" "$IMAGES_SRC/lib/kmods.py" \
		"$KERNEL_PKG=$KERNEL_VER" "$KERNEL_MODULES_WANTED")
}

kernel_build() {
	local out=$1 work deb rel
	work=$out/.work
	mkdir -p "$work" "$CACHE_ROOT/debs"
	deb=$CACHE_ROOT/debs/${KERNEL_PKG}_${KERNEL_VER//:/%3a}_amd64.deb
	if [ ! -f "$deb" ]; then
		(cd "$work" && apt-get download -q "$KERNEL_PKG=$KERNEL_VER" >/dev/null 2>"$work/apt.log") ||
			{ cat "$work/apt.log" >&2; return 1; }
		mv "$work"/*.deb "$deb.tmp" && mv "$deb.tmp" "$deb"
	fi
	dpkg-deb -x "$deb" "$work/x" || return 1
	rel=$(ls "$work/x/lib/modules" | head -n 1)
	[ -n "$rel" ] || { say "kernel: no lib/modules in $deb"; return 1; }
	"$PY" "$IMAGES_SRC/lib/vmlinux.py" "$work/x/boot/vmlinuz-$rel" "$out/vmlinux" >"$work/fmt" ||
		return 1
	"$PY" "$IMAGES_SRC/lib/kmods.py" "$work/x/lib/modules/$rel" "$out/modules" \
		$KERNEL_MODULES_WANTED >"$work/mods" || return 1
	cp "$work/x/boot/config-$rel" "$out/config"
	{
		printf 'package %s=%s\n' "$KERNEL_PKG" "$KERNEL_VER"
		printf 'release %s\n' "$rel"
		printf 'bzimage_payload %s\n' "$(cat "$work/fmt")"
		cat "$work/mods"
	} >"$out/info.txt"
	touch -d "@$SOURCE_DATE_EPOCH" "$out/vmlinux" "$out"/modules/*
	rm -rf "$work"
}
