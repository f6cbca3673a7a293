# images/rootfs.sh: the root filesystem artefacts, one per image (sourced by images/build).
# Each image is a debootstrap minbase of $DEBIAN_SUITE with its package list (below); user corral
# (1000:1000, /home/corral, /bin/sh); docs, man pages, locales and apt lists removed; every mtime
# set to $SOURCE_DATE_EPOCH (Python's byte-code is compiled hash-checked because debootstrap runs
# the maintainer scripts with SOURCE_DATE_EPOCH set, so it stays valid); then `mkfs.ext4 -d` with
# fixed UUID, hash seed and time into <image>.ext4, sized to the content plus a margin, no journal
# (it is mounted read-only under an overlay); then every inode's ctime/atime is set to
# $SOURCE_DATE_EPOCH (lib/ext4_ctime.py), so two builds on one machine give the same bytes.
# Each image is keyed by this script, its package list and the suite's versions of its key
# packages, so updating pandas rebuilds python-data only. Needs root.

ROOTFS_IMAGES="base python-data build"
ROOTFS_BASE_PACKAGES="python3,git,ca-certificates,procps"
ROOTFS_BASE_KEYS="python3 python3.11 git ca-certificates coreutils libc6 procps"
# The union of every image's key packages: resolved once (apt look-ups are slow).
ROOTFS_KEY_PACKAGES="$ROOTFS_BASE_KEYS python3-numpy python3-pandas python3-pandas-lib
build-essential gcc-12 libc6-dev make python3-pytest"

# Sets RF_PACKAGES (debootstrap --include) and RF_KEYS for image $1; 1 if there is no such image.
rootfs_image() {
	case $1 in
	base)
		RF_PACKAGES=$ROOTFS_BASE_PACKAGES
		RF_KEYS=$ROOTFS_BASE_KEYS ;;
	python-data)
		RF_PACKAGES=$ROOTFS_BASE_PACKAGES,python3-numpy,python3-pandas
		RF_KEYS="$ROOTFS_BASE_KEYS python3-numpy python3-pandas python3-pandas-lib" ;;
	build)
		RF_PACKAGES=$ROOTFS_BASE_PACKAGES,build-essential,python3-pytest,make
		RF_KEYS="$ROOTFS_BASE_KEYS build-essential gcc-12 libc6-dev make python3-pytest" ;;
	*) return 1 ;;
	esac
}

# Sets ROOTFS_VERSIONS ("pkg=ver ...", every key package) from apt (slow: cached by images/build).
rootfs_resolve_apt() {
	local p v vers=
	for p in $ROOTFS_KEY_PACKAGES; do
		v=$(deb_version "$p")
		[ -n "$v" ] || die "rootfs: $p has no version in $DEBIAN_SUITE/main (apt lists?)"
		vers="$vers $p=$v"
	done
	ROOTFS_VERSIONS=${vers# }
}

# Sets ROOTFS_HASH and ROOTFS_IMAGE for image $1.
rootfs_resolve() {
	local p pv vers=
	rootfs_image "$1" || die "unknown image '$1' (images: $ROOTFS_IMAGES)"
	ROOTFS_IMAGE=$1
	for p in $RF_KEYS; do
		for pv in $ROOTFS_VERSIONS; do
			[ "${pv%%=*}" = "$p" ] && vers="$vers $pv"
		done
	done
	ROOTFS_HASH=$(recipe_hash "$IMAGES_SRC/rootfs.sh" "$IMAGES_SRC/lib/common.sh" \
		"$IMAGES_SRC/lib/ext4_ctime.py" "image=$1" \
		"suite=$DEBIAN_SUITE" "mirror=$DEBIAN_MIRROR" "packages=$RF_PACKAGES" \
		"${vers# }" "epoch=$SOURCE_DATE_EPOCH")
}

# Adds user and group corral without useradd (whose shadow entry would carry today's date).
rootfs_user() {
	local root=$1 days=$((SOURCE_DATE_EPOCH / 86400))
	echo "corral:x:1000:1000:Corral:/home/corral:/bin/sh" >>"$root/etc/passwd"
	echo "corral:x:1000:" >>"$root/etc/group"
	echo "corral:!:$days:0:99999:7:::" >>"$root/etc/shadow"
	echo "corral:!::" >>"$root/etc/gshadow"
	mkdir -p "$root/home/corral"
	cp -a "$root/etc/skel/." "$root/home/corral/" 2>/dev/null || true
	chown -R 1000:1000 "$root/home/corral"
	chmod 0750 "$root/home/corral"
}

rootfs_strip() {
	local root=$1
	rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
		"$root"/usr/share/lintian "$root"/usr/share/linda "$root"/var/cache/debconf/*-old \
		"$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/* \
		"$root"/var/lib/dpkg/*-old "$root"/var/cache/ldconfig/aux-cache "$root"/tmp/* \
		"$root"/run/* "$root"/etc/resolv.conf "$root"/etc/hostname
	find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias \
		-exec rm -rf {} + 2>/dev/null
	: >"$root/etc/machine-id"
	echo corral >"$root/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 corral\n::1 localhost\n' >"$root/etc/hosts"
}

rootfs_build() {
	local out=$1 root kib inodes uuid img
	img=$out/$ROOTFS_IMAGE.ext4
	root=$out/.root
	rootfs_image "$ROOTFS_IMAGE" || return 1
	mkdir -p "$CACHE_ROOT/debootstrap-debs"
	if ! debootstrap --variant=minbase --include="$RF_PACKAGES" \
		--cache-dir="$CACHE_ROOT/debootstrap-debs" "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" \
		>"$out/debootstrap.log" 2>&1; then
		tail -n 20 "$out/debootstrap.log" >&2
		return 1
	fi
	# mounts debootstrap may leave behind
	umount -R "$root/proc" "$root/sys" "$root/dev/pts" 2>/dev/null || true
	chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$out/packages.txt" || return 1
	rootfs_user "$root"
	rootfs_strip "$root"
	find "$root" -xdev -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	kib=$(du -sk --apparent-size "$root" | cut -f1)
	inodes=$(find "$root" -xdev | wc -l)
	kib=$((kib + kib / 5 + inodes / 4 * 1 + 16384))	# 20 % + ~1 KiB per 4 inodes + 16 MiB
	inodes=$((inodes + inodes / 5 + 1024))
	uuid=$(printf '%s' "$ROOTFS_HASH" | sha256sum |
		sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')
	if ! E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -t ext4 -L corral-root -U "$uuid" \
		-b 4096 -N "$inodes" -m 0 -O ^has_journal,^resize_inode \
		-E root_owner=0:0,hash_seed="$uuid",lazy_itable_init=0 -d "$root" \
		"$img" "${kib}k" >"$out/mkfs.log" 2>&1; then
		cat "$out/mkfs.log" >&2
		return 1
	fi
	E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH "$PY" "$IMAGES_SRC/lib/ext4_ctime.py" \
		"$img" "$SOURCE_DATE_EPOCH" || return 1
	rm -rf "$root" "$out/mkfs.log"
}
