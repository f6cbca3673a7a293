# images/initramfs.sh: the initramfs artefact (sourced by images/build). A deterministic newc
# cpio (lib/mkcpio.py): /init = the static corral-agent (stripped), /lib/modules/{*.ko,
# corral.list} from the kernel artefact, /dev/console, empty mount points. Keyed by the agent
# binary's hash and the kernel artefact's hash. It must not contain anything else: the real root
# is base.ext4.

initramfs_resolve() {
	AGENT_SHA=$(sha256sum <"$AGENT" | cut -c1-64)
	INITRAMFS_HASH=$(recipe_hash "$IMAGES_SRC/initramfs.sh" "$IMAGES_SRC/lib/common.sh" \
		"$IMAGES_SRC/lib/mkcpio.py" "kernel=$KERNEL_HASH" "agent=$AGENT_SHA" \
		"compress=$INITRAMFS_COMPRESS")
}

initramfs_build() {
	local out=$1 stage opt=
	stage=$out/.stage
	mkdir -p "$stage/lib/modules" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/lower" \
		"$stage/rw" "$stage/newroot"
	# The agent without its debug info (the build dir keeps the unstripped binary).
	strip --strip-all -o "$stage/init" "$AGENT" || return 1
	chmod 0755 "$stage/init"
	install -m 0644 "$KERNEL_DIR"/modules/* "$stage/lib/modules/" || return 1
	[ "$INITRAMFS_COMPRESS" = gzip ] && opt=--gzip
	"$PY" "$IMAGES_SRC/lib/mkcpio.py" $opt --node dev/console:5:1 "$stage" \
		"$out/initramfs.cpio.gz" || return 1
	rm -rf "$stage"
}
