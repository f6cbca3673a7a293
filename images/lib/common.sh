# images/lib/common.sh: shared helpers of the images/ build steps (sourced, never run).
# Progress lines, recipe hashing, the cache layout and atomic publication of an artefact.
# It must not build anything itself.

IMAGES_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHECKOUT=$(cd "$IMAGES_SRC/.." && pwd)
CACHE_ROOT=${CORRAL_CACHE:-${HOME:-/root}/.cache/corral}/images
PY=/usr/bin/python3
# Fixed timestamps for every file we put into an artefact (reproducible builds).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
KERNEL_MODULES_WANTED="virtio_mmio virtio_blk virtio_console overlay"

say() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

# sha256 of the named files' contents and of extra strings, as 16 hex chars.
recipe_hash() {
	local f
	{
		for f in "$@"; do
			if [ -f "$f" ]; then
				printf 'file %s\n' "${f#"$IMAGES_SRC"/}"
				sha256sum <"$f"
			else
				printf 'value %s\n' "$f"
			fi
		done
	} | sha256sum | cut -c1-16
}

# Version of a Debian package in the plain suite debootstrap uses ("bookworm/main"), else apt's
# candidate (sources that name the suite differently).
deb_version() {
	local v
	v=$(apt-cache madison "$1" 2>/dev/null |
		awk -F'|' -v s=" $DEBIAN_SUITE/main " 'index($3, s) { gsub(/ /, "", $2); print $2; exit }')
	[ -n "$v" ] || v=$(apt-cache policy "$1" 2>/dev/null |
		awk '/Candidate:/ && $2 != "(none)" { print $2 }')
	printf '%s' "$v"
}

# Makes sure apt's package lists are there (a fresh CI machine may not have them yet).
apt_ready() {
	if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
		say "apt lists missing: apt-get update"
		apt-get update -qq || die "apt-get update failed"
	fi
}

# Identifies the state of apt's package lists (names, sizes, mtimes): apt look-ups cost seconds,
# so their answers are kept per state in $CACHE_ROOT/resolve-<stamp>.env.
apt_stamp() {
	{
		stat -c '%n %s %Y' /var/lib/apt/lists/*_Packages* 2>/dev/null
		printf '%s\n' "$@"
	} | sha256sum | cut -c1-16
}

# Removes a build tree, first unmounting whatever an interrupted debootstrap left mounted in it
# (deepest first); --one-file-system keeps rm out of anything still mounted.
rm_tree() {
	local m
	[ -e "$1" ] || return 0
	awk -v p="$1/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$1"
}

# run_step NAME HASH FUNC: runs FUNC TMPDIR unless CACHE_ROOT/NAME-HASH exists, then renames the
# temp dir into place atomically. Prints one progress line. Sets STEP_DIR.
run_step() {
	local name=$1 hash=$2 func=$3 dir tmp t0 t1
	dir=$CACHE_ROOT/$name-$hash
	STEP_DIR=$dir
	if [ -d "$dir" ]; then
		say "$name $hash cached"
		return 0
	fi
	mkdir -p "$CACHE_ROOT"
	tmp=$(mktemp -d "$CACHE_ROOT/.tmp-$name-XXXXXX")
	t0=$(date +%s.%N)
	if ! "$func" "$tmp"; then
		rm_tree "$tmp"
		die "$name: build failed"
	fi
	chmod 755 "$tmp"
	if ! mv -T "$tmp" "$dir" 2>/dev/null; then
		rm_tree "$tmp"	# another build published the same recipe first: same content
	fi
	t1=$(date +%s.%N)
	say "$name $hash built in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
}
