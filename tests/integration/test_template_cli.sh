# `corral template` against a real redis-server (no corrald, no QEMU: this test starts only Redis,
# on a unix socket in its own temp dir, and kills it on exit). Covers create/list/show/delete,
# the built-in `default` and a record overriding it, versions and --replace (a replace redefines
# the whole record), invalid values (exit 125, the message names field and flag, nothing is
# written), a stored record that does not decode, --prefix, an unreachable Redis, and concurrent
# writers: racing `create --replace` runs all succeed with distinct versions and none is lost;
# racing plain creates of a new name: exactly one wins.
set -euo pipefail

: "${BUILD_DIR:?BUILD_DIR must point at a build directory}"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
NAME=test_template_cli
CORRAL_BIN=$BUILD_DIR/bin/corral
RACERS=${RACERS:-8}

skip() { echo "SKIP $NAME: $*" >&2; exit 77; }
fail() { echo "FAIL $NAME: $*" >&2; exit 1; }
[ -x "$CORRAL_BIN" ] || skip "missing $CORRAL_BIN (build first)"
for c in redis-server redis-cli python3; do
	command -v "$c" >/dev/null || skip "missing $c"
done

T=$(mktemp -d /tmp/ctt.XXXXXX)
SOCK=$T/redis.sock
REDIS_PID=
cleanup() {
	local rc=$?
	set +e
	if [ -n "$REDIS_PID" ]; then
		kill -TERM "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
	fi
	[ "$rc" -ne 0 ] && [ -s "$T/redis.log" ] && tail -n 20 "$T/redis.log" >&2
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --save '' --appendonly no \
	--dir "$T" --daemonize no >"$T/redis.log" 2>&1 &
REDIS_PID=$!
rcli() { redis-cli -s "$SOCK" "$@"; }
for _ in $(seq 100); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
rcli ping >/dev/null || fail "redis-server did not start"
export CORRAL_REDIS=unix://$SOCK
KEY=corral:templates

corral() { "$CORRAL_BIN" "$@"; }
assert_eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; }
assert_contains() {
	case "$2" in *"$3"*) ;; *) fail "$1: '$3' not in: $(printf '%s' "$2" | head -c 1500)" ;; esac
}
# run_rc VAR CMD...: runs CMD with stdout+stderr into $OUT, its status into VAR
run_rc() {
	local var=$1
	shift
	set +e
	OUT=$("$@" 2>&1)
	printf -v "$var" '%s' "$?"
	set -e
}
# json FIELD: one field of `corral template show --json` on stdin
json() {
	python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]
print(json.dumps(v) if isinstance(v,(list,bool,dict)) else v)' "$1"
}

# ---- empty: only the built-in default
run_rc rc corral template list
assert_eq "list on empty" 0 "$rc"
assert_contains "built-in default listed" "$OUT" "default                  built-in base"
assert_eq "show default (built-in)" true "$(corral template show default --json | json builtin)"
assert_eq "built-in timeout" 60000 "$(corral template show default --json | json timeout_ms)"
assert_eq "nothing written by reads" 0 "$(rcli EXISTS $KEY)"

# ---- create and show
run_rc rc corral template create py --image python-data --vcpus 2 --memory 1G --disk 512 \
	--pids 1024 --timeout 90.5 --env A=1 --env 'B=x y' --warmup 'python3 -c "import json"' \
	--allow pypi.org --allow '*.pythonhosted.org' --allow 'example.com:8443'
assert_eq "create py: $OUT" 0 "$rc"
assert_eq "create output" "created template py version 1" "$OUT"
assert_eq "one field in the hash" 1 "$(rcli HLEN $KEY)"
j=$(corral template show py --json)
for kv in name=py version=1 builtin=false image=python-data vcpus=2 memory_mib=1024 disk_mib=512 \
	pids_max=1024 timeout_ms=90500 network=allow; do
	assert_eq "show --json ${kv%%=*}" "${kv#*=}" "$(json "${kv%%=*}" <<<"$j")"
done
assert_eq "env" '["A=1", "B=x y"]' "$(json env <<<"$j")"
assert_eq "allow" '["pypi.org", "*.pythonhosted.org", "example.com:8443"]' "$(json allow <<<"$j")"
assert_eq "warmup" 'python3 -c "import json"' "$(json warmup <<<"$j")"
now_ms=$(($(date +%s) * 1000))
created=$(json created_ms <<<"$j")
[ "$created" -gt $((now_ms - 60000)) ] && [ "$created" -le $((now_ms + 2000)) ] ||
	fail "created_ms $created is not about now ($now_ms)"
txt=$(corral template show py)
assert_contains "show text memory" "$txt" "memory      1024 MiB"
assert_contains "show text allow" "$txt" "allow       pypi.org
            *.pythonhosted.org"
assert_contains "show text timeout" "$txt" "timeout     90500 ms"

# ---- an existing name needs --replace; the record stays as it was
run_rc rc corral template create py --vcpus 4
assert_eq "create existing: $OUT" 1 "$rc"
assert_contains "exists message" "$OUT" \
	"template 'py' already exists (version 1); use --replace to overwrite it"
assert_eq "untouched vcpus" 2 "$(corral template show py --json | json vcpus)"
assert_eq "untouched version" 1 "$(corral template show py --json | json version)"

# ---- --replace: version + 1, the whole record redefined (no merge with the old one)
run_rc rc corral template create py --replace --vcpus 4
assert_eq "replace: $OUT" 0 "$rc"
assert_eq "replace output" "replaced template py version 2 (was 1)" "$OUT"
j=$(corral template show py --json)
assert_eq "replaced version" 2 "$(json version <<<"$j")"
assert_eq "replaced vcpus" 4 "$(json vcpus <<<"$j")"
assert_eq "replaced image back to default" base "$(json image <<<"$j")"
assert_eq "replaced network back to none" none "$(json network <<<"$j")"
assert_eq "replaced allow" "[]" "$(json allow <<<"$j")"
run_rc rc corral template create py --replace --warmup ''
assert_eq "replace again" "replaced template py version 3 (was 2)" "$OUT"
assert_eq "empty warmup" "" "$(corral template show py --json | json warmup)"

# ---- invalid input: exit 125, field and flag named, nothing written
before=$(rcli HGET $KEY py | od -An -tx1 | tr -d ' \n')
bad() {	# bad EXPECTED-MESSAGE ARGS...
	local want=$1 rc
	shift
	run_rc rc corral template "$@"
	assert_eq "exit of: template $* ($OUT)" 125 "$rc"
	assert_contains "message of: template $*" "$OUT" "$want"
}
bad "invalid template: vcpus: 9 exceeds 8 (--vcpus)" create py --replace --vcpus 9
bad "invalid template: memory_mib: 64 is below 128 (--memory)" create py --replace --memory 64
bad "invalid template: memory_mib: 17408 exceeds 16384 (--memory)" create py --replace --memory 17G
bad "invalid template: disk_mib: 65537 exceeds 65536 (--disk)" create py --replace --disk 65537
bad "invalid template: pids_max: 8 is below 16 (--pids)" create py --replace --pids 8
bad "--timeout: '86401' is not a number of seconds in (0, 86400]" create py --replace --timeout 86401
bad "--timeout: 'soon' is not a number of seconds" create py --replace --timeout soon
bad "--vcpus: 'two' is not a whole number" create py --replace --vcpus two
bad "--memory: '1T' is not a size in MiB" create py --replace --memory 1T
bad "invalid template: image: 'Py' has a character outside [a-z0-9_-] (--image)" \
	create py --replace --image Py
bad "--env: expected KEY=VALUE, got 'NOVALUE'" create py --replace --env NOVALUE
bad "invalid template: env[1]: duplicate key (--env)" create py --replace --env A=1 --env A=2
bad "invalid template: allow[0]: 'Pypi.org': upper-case letter (patterns are lower-case) (--allow)" \
	create py --replace --allow Pypi.org
bad "invalid template: allow[1]: 'a.*.org': '*' only as a whole first label" \
	create py --replace --allow ok.org --allow 'a.*.org'
bad "invalid template: allow[0]: 'x.org:0': port must be 1..65535 (--allow)" \
	create py --replace --allow x.org:0
bad "invalid template: allow[0]: 'https://x.org': port must be 1..65535 (--allow)" \
	create py --replace --allow https://x.org
bad "invalid template: warmup: 4097 bytes, longer than 4096 (--warmup)" \
	create py --replace --warmup "$(head -c 4097 /dev/zero | tr '\0' w)"
bad "invalid template: name: 'a/b' has a character outside [A-Za-z0-9._-] (NAME)" create a/b
bad "no NAME given" create --vcpus 2
bad "unknown option '--network'" create py --replace --network allow
bad "invalid template name 'x y'" show 'x y'
bad "invalid template name '../etc'" delete ../etc
bad "no NAME given" delete
bad "unknown command 'update'" update py
after=$(rcli HGET $KEY py | od -An -tx1 | tr -d ' \n')
assert_eq "invalid input wrote nothing" "$before" "$after"
assert_eq "still one record" 1 "$(rcli HLEN $KEY)"

# ---- a record named default overrides the built-in one; deleting it brings that back
run_rc rc corral template create default --memory 512
assert_eq "create default: $OUT" 0 "$rc"
l=$(corral template list)
assert_contains "default is a record" "$l" "default                         1 base                 1    512M none"
case $l in *built-in*) fail "built-in default still listed: $l" ;; esac
assert_contains "py listed" "$l" "py                              3 base                 1    256M none"
lj=$(corral template list --json)
assert_eq "list --json names" "default py" \
	"$(python3 -c 'import json,sys; print(" ".join(t["name"] for t in json.load(sys.stdin)))' <<<"$lj")"
run_rc rc corral template delete default
assert_eq "delete default: $OUT" 0 "$rc"
assert_contains "delete default message" "$OUT" "deleted template default (jobs now get the built-in default)"
assert_eq "built-in again" true "$(corral template show default --json | json builtin)"

# ---- a stored record that does not decode
rcli HSET $KEY broken 'not msgpack' >/dev/null
printf '\x83\xa1v\x01\xa4name\xa3bad\xa7version\x00' | rcli -x HSET $KEY bad >/dev/null
run_rc rc corral template list
assert_eq "list with invalid records: $OUT" 0 "$rc"
assert_contains "invalid listed" "$OUT" "invalid record: version: 0 is below 1"
assert_contains "garbage listed" "$OUT" "broken"
run_rc rc corral template show bad
assert_eq "show invalid: $OUT" 1 "$rc"
assert_contains "show invalid message" "$OUT" "template 'bad': invalid record: version: 0 is below 1"
run_rc rc corral template create bad
assert_eq "create over an invalid record: $OUT" 1 "$rc"
assert_contains "create over invalid" "$OUT" "already exists (as an invalid record)"
run_rc rc corral template create bad --replace
assert_eq "replace an invalid record: $OUT" 0 "$rc"
assert_contains "replace invalid" "$OUT" "replaced template bad version 1 (was an invalid record)"
corral template delete broken >/dev/null
corral template delete bad >/dev/null

# ---- delete, show and delete of a missing name
run_rc rc corral template delete py
assert_eq "delete: $OUT" 0 "$rc"
assert_eq "delete output" "deleted template py" "$OUT"
run_rc rc corral template delete py
assert_eq "delete again: $OUT" 1 "$rc"
assert_contains "delete again message" "$OUT" "template 'py' not found"
run_rc rc corral template show py
assert_eq "show deleted: $OUT" 1 "$rc"
assert_contains "show deleted message" "$OUT" "template 'py' not found"
assert_eq "hash gone" 0 "$(rcli EXISTS $KEY)"

# ---- --prefix names the hash
corral template create --prefix 'other:' p2 >/dev/null
assert_eq "prefixed key" 1 "$(rcli HEXISTS other:templates p2)"
assert_eq "default key untouched" 0 "$(rcli EXISTS $KEY)"
run_rc rc corral template show p2
assert_eq "other prefix not visible: $OUT" 1 "$rc"

# ---- concurrency: racing replaces all land, each with its own version
corral template create race >/dev/null
for round in 1 2 3; do
	pids=()
	for i in $(seq "$RACERS"); do
		corral template create race --replace --env "R=$round.$i" >"$T/race.$i.out" 2>&1 &
		pids+=($!)
	done
	for i in $(seq "$RACERS"); do
		wait "${pids[$((i - 1))]}" || fail "racer $i of round $round: $(cat "$T/race.$i.out")"
	done
	base=$((1 + (round - 1) * RACERS))
	versions=$(sed -n 's/^replaced template race version \([0-9]*\) (was \([0-9]*\))$/\1:\2/p' \
		"$T"/race.*.out | sort -n)
	assert_eq "round $round: every racer reported" "$RACERS" "$(wc -l <<<"$versions")"
	want=$(for i in $(seq "$RACERS"); do echo "$((base + i)):$((base + i - 1))"; done)
	assert_eq "round $round: versions distinct, each over the one before" "$want" "$versions"
	j=$(corral template show race --json)
	assert_eq "round $round: final version" $((base + RACERS)) "$(json version <<<"$j")"
	# the final record is the racer that reported the last version
	last=$(grep -l "version $((base + RACERS)) " "$T"/race.*.out)
	i=${last%.out}
	i=${i##*.}
	assert_eq "round $round: last writer's record" "[\"R=$round.$i\"]" "$(json env <<<"$j")"
done

execs=$(rcli INFO commandstats | sed -n 's/^cmdstat_exec:calls=\([0-9]*\),.*/\1/p')
echo "# $NAME: $((3 * RACERS)) racing replaces took ${execs:-?} EXECs in all (the excess lost a WATCH race and retried)" >&2

# racing creates of a new name without --replace: exactly one wins
for round in 1 2 3; do
	pids=()
	for i in $(seq "$RACERS"); do
		corral template create "fresh$round" --vcpus 2 >"$T/fresh.$i.out" 2>&1 &
		pids+=($!)
	done
	ok=0 exists=0
	for i in $(seq "$RACERS"); do
		if wait "${pids[$((i - 1))]}"; then
			ok=$((ok + 1))
			assert_eq "winner output" "created template fresh$round version 1" "$(cat "$T/fresh.$i.out")"
		else
			assert_contains "loser output" "$(cat "$T/fresh.$i.out")" \
				"template 'fresh$round' already exists (version 1)"
			exists=$((exists + 1))
		fi
	done
	assert_eq "round $round: one create wins" 1 "$ok"
	assert_eq "round $round: the others are told it exists" $((RACERS - 1)) "$exists"
done

# ---- Redis unreachable: exit 1 with the address in the message
run_rc rc corral template list --redis "unix://$T/nope.sock"
assert_eq "unreachable: $OUT" 1 "$rc"
assert_contains "unreachable message" "$OUT" "cannot connect to Redis at unix://$T/nope.sock"

echo "PASS $NAME"
