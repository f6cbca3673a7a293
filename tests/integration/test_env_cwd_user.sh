# The job's env and cwd are honoured, the default cwd is the user's home, and the code runs as
# uid/gid 1000 in the guest, never root.
source "$SRC_DIR/tests/lib/harness.sh"
harness_start

out=$(corral run --env FOO=bar --env 'SPACED=a b' --cwd /tmp -- \
	sh -c 'echo "$FOO|$SPACED"; pwd; id -u; id -g')
assert_eq "env, cwd, uid, gid" "$(printf 'bar|a b\n/tmp\n1000\n1000')" "$out"
out=$(corral run -- sh -c 'pwd; whoami')
assert_eq "default cwd and user" "$(printf '/home/corral\ncorral')" "$out"
set +e
corral run --cwd /no/such/dir -- true >/dev/null 2>"$T/e"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a missing cwd must fail the job"
assert_corrald_alive
