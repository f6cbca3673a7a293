#!/usr/bin/python3
"""Generates the libwire test vectors (schemas/vectors/README.md explains the layout).

Every vector is one encoded message in <kind>/{valid,invalid}/<name>.msgpack (frames: the payload
only, without the 4-byte length header). Each has a sidecar <name>.expect:
  - invalid: one line, a substring the decoder's error message must contain;
  - valid: lines that must each appear, exactly, in the canonical field dump of the decoded
    message (format in README.md), e.g. "timeout_ms=60000".
Run it with Debian's python3-msgpack: /usr/bin/python3 schemas/vectors/gen.py
It rewrites every vector directory from scratch, so the output is deterministic.
"""
import os
import shutil
import sys

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ("job", "msg", "result", "frame")


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def pack_pairs(pairs):
    """A map with keys in the given order, duplicates allowed."""
    p = msgpack.Packer(use_bin_type=True)
    return p.pack_map_pairs(pairs)


def write(kind, validity, name, data, expect):
    d = os.path.join(HERE, kind, validity)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".msgpack"), "wb") as f:
        f.write(data)
    if isinstance(expect, str):
        expect = [expect]
    with open(os.path.join(d, name + ".expect"), "w") as f:
        f.write("\n".join(expect) + "\n")


def valid(kind, name, obj, expect):
    write(kind, "valid", name, obj if isinstance(obj, bytes) else pack(obj), expect)


def invalid(kind, name, obj, expect):
    write(kind, "invalid", name, obj if isinstance(obj, bytes) else pack(obj), expect)


def nested(depth):
    o = []
    for _ in range(depth):
        o = [o]
    return o


# ---------------------------------------------------------------- job
def job(**kw):
    o = {"v": 1, "id": "job-1", "argv": ["echo", "hi"]}
    for k, v in kw.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return o


DROP = object()
JOB_DEFAULTS = ["cwd=(null)", "template=default", "timeout_ms=60000", "output_max=1048576",
                "max_attempts=3", "submitted_ms=0", "envc=0"]


def gen_job():
    valid("job", "minimal", {"v": 1, "id": "j1", "argv": ["true"]},
          ["id=j1", "argc=1", "argv[0]=true"] + JOB_DEFAULTS)
    valid("job", "full", job(id="Build_42.a-b", argv=["sh", "-c", "echo $X"],
                             env={"X": "1", "PATH": "/usr/bin:/bin"}, cwd="/home/corral/src",
                             template="py3.11", timeout_ms=120000, output_max=4096,
                             max_attempts=5, submitted_ms=1767225600123),
          ["id=Build_42.a-b", "argc=3", "argv[2]=echo $X", "envc=2", "env[0]=X=1",
           "env[1]=PATH=/usr/bin:/bin", "cwd=/home/corral/src", "template=py3.11",
           "timeout_ms=120000", "output_max=4096", "max_attempts=5",
           "submitted_ms=1767225600123"])
    valid("job", "unknown_fields_ignored",
          job(future={"nested": [1, 2, {"x": None}]}, priority=7, extra_bin=b"\x00\xff"),
          ["id=job-1", "argc=2"] + JOB_DEFAULTS)
    valid("job", "strings_as_bin", {"v": 1, "id": b"j-bin", "argv": [b"ls", b"-l"],
                                    "env": {b"K": b"V"}, "template": b"default"},
          ["id=j-bin", "argv[0]=ls", "argv[1]=-l", "env[0]=K=V"])
    valid("job", "nil_optionals_default", job(env=None, cwd=None, template=None,
                                              timeout_ms=None, output_max=None,
                                              max_attempts=None, submitted_ms=None),
          JOB_DEFAULTS)
    valid("job", "key_order_free",
          pack_pairs([("argv", ["x"]), ("id", "k"), ("v", 1)]), ["id=k", "argv[0]=x"])
    valid("job", "limits_at_max", job(id="a" * 64, argv=["p"] + ["x"] * 255,
                                      timeout_ms=86400000, max_attempts=20,
                                      output_max=64 * 1024 * 1024, template="t" * 64,
                                      env={("K%03d" % i): "v" for i in range(256)},
                                      cwd="/" + "d" * 4095),
          ["id=" + "a" * 64, "argc=256", "timeout_ms=86400000", "max_attempts=20",
           "output_max=67108864", "envc=256", "template=" + "t" * 64])
    valid("job", "arg_at_max_len", job(argv=["echo", "y" * 65536]),
          ["argc=2", "argv[0]=echo"])
    valid("job", "env_values_edge", job(env={"A": "b=c", "E": "", "U": "é"}),
          ["envc=3", "env[0]=A=b=c", "env[1]=E=", "env[2]=U=\\xc3\\xa9"])
    valid("job", "empty_args_after_first", job(argv=["printf", "", "x"]),
          ["argc=3", "argv[1]=", "argv[2]=x"])
    valid("job", "empty_env_map", job(env={}), ["envc=0"])
    valid("job", "zero_output_max", job(output_max=0, timeout_ms=1, max_attempts=1),
          ["output_max=0", "timeout_ms=1", "max_attempts=1"])

    invalid("job", "v2", job(v=2), "v: unknown version 2")
    invalid("job", "v_missing", job(v=DROP), "v: missing")
    invalid("job", "v_string", job(v="1"), "v: expected unsigned integer, got string")
    invalid("job", "v_negative", job(v=-1), "v: negative")
    invalid("job", "empty", b"", "empty")
    invalid("job", "not_msgpack_reserved_byte", b"\xc1", "not msgpack")
    invalid("job", "not_msgpack_text", b"hello, world", "trailing bytes")
    ok = pack(job())
    invalid("job", "truncated", ok[:-1], "truncated")
    invalid("job", "truncated_header", b"\x83\xa1v", "truncated")
    invalid("job", "trailing_byte", ok + b"\x00", "1 trailing bytes")
    invalid("job", "two_messages", ok + ok, "trailing bytes")
    invalid("job", "not_a_map_array", [1, "job-1", ["ls"]], "not a msgpack map")
    invalid("job", "not_a_map_int", 42, "not a msgpack map")
    invalid("job", "huge_array_header",
            b"\x83\xa1v\x01\xa2id\xa1j\xa4argv\xdd\xff\xff\xff\xff", "truncated")
    invalid("job", "huge_map_header", b"\xdf\xff\xff\xff\xff\xa1v\x01", "truncated")
    invalid("job", "huge_str_header", b"\x82\xa1v\x01\xa2id\xdb\xff\xff\xff\xff", "truncated")
    invalid("job", "reserved_byte_inside", b"\x83\xa1v\x01\xa2id\xc1\xa4argv\x91\xa1x",
            "reserved byte 0xc1")
    invalid("job", "too_deep", job(future=nested(20)), "nested deeper than 16")
    invalid("job", "too_many_objects", job(future=[None] * 9000), "more than 8192")
    invalid("job", "map_key_int", pack_pairs([("v", 1), (1, "x"), ("id", "j"),
                                              ("argv", ["x"])]), "map key 1: expected string")
    invalid("job", "duplicate_key", pack_pairs([("v", 1), ("id", "a"), ("argv", ["x"]),
                                                ("id", "b")]), "id: duplicate key")
    invalid("job", "argv_missing", job(argv=DROP), "argv: missing")
    invalid("job", "argv_nil", job(argv=None), "argv: expected array, got nil")
    invalid("job", "argv_empty", job(argv=[]), "argv: empty")
    invalid("job", "argv_not_array", job(argv="ls -l"), "argv: expected array, got string")
    invalid("job", "argv_map", job(argv={"0": "ls"}), "argv: expected array, got map")
    invalid("job", "argv_item_int", job(argv=["ls", "-l", 3]),
            "argv[2]: expected string, got int")
    invalid("job", "argv_item_array", job(argv=["ls", ["x"]]),
            "argv[1]: expected string, got array")
    invalid("job", "argv_too_many", job(argv=["x"] * 257), "argv: 257 items, more than 256")
    invalid("job", "argv_item_too_long", job(argv=["echo", "y" * 65537]),
            "argv[1]: 65537 bytes, longer than 65536")
    invalid("job", "argv0_empty", job(argv=["", "x"]), "argv[0]: empty program name")
    invalid("job", "argv_nul", job(argv=["ls", "a\x00b"]), "argv[1]: contains a NUL byte")
    invalid("job", "env_not_map", job(env=["A=1"]), "env: expected map, got array")
    invalid("job", "env_value_int", job(env={"A": 1}), "env[0] value: expected string, got int")
    invalid("job", "env_key_int", job(env={1: "a"}), "env[0] key: expected string, got int")
    invalid("job", "env_key_equals", job(env={"A": "1", "B=C": "d"}),
            "env[1]: key contains '='")
    invalid("job", "env_key_empty", job(env={"": "x"}), "env[0]: empty key")
    invalid("job", "env_key_nul", job(env={"A\x00B": "x"}), "env[0] key: contains a NUL byte")
    invalid("job", "env_value_nul", job(env={"A": "x\x00"}),
            "env[0] value: contains a NUL byte")
    invalid("job", "env_too_many", job(env={("K%d" % i): "v" for i in range(257)}),
            "env: 257 items, more than 256")
    invalid("job", "env_item_too_long", job(env={"K": "v" * 32767}),
            "env[0]: 32769 bytes, longer than 32768")
    invalid("job", "env_duplicate_key",
            b"\x84\xa1v\x01\xa2id\xa1j\xa4argv\x91\xa1x\xa3env\x82\xa1A\xa11\xa1A\xa12",
            "env[1]: duplicate key")
    invalid("job", "timeout_too_big", job(timeout_ms=90000000),
            "timeout_ms: 90000000 exceeds 86400000")
    invalid("job", "timeout_negative", job(timeout_ms=-5), "timeout_ms: negative value -5")
    invalid("job", "timeout_string", job(timeout_ms="60000"),
            "timeout_ms: expected unsigned integer, got string")
    invalid("job", "timeout_float", job(timeout_ms=1.5),
            "timeout_ms: expected unsigned integer, got float")
    invalid("job", "timeout_zero", job(timeout_ms=0), "timeout_ms: 0 is below 1")
    invalid("job", "timeout_u64_max", job(timeout_ms=2**64 - 1), "timeout_ms: 18446744073709551615 exceeds")
    invalid("job", "timeout_bool", job(timeout_ms=True), "timeout_ms: expected unsigned integer, got bool")
    invalid("job", "output_max_too_big", job(output_max=64 * 1024 * 1024 + 1),
            "output_max: 67108865 exceeds 67108864")
    invalid("job", "max_attempts_too_big", job(max_attempts=21), "max_attempts: 21 exceeds 20")
    invalid("job", "max_attempts_zero", job(max_attempts=0), "max_attempts: 0 is below 1")
    invalid("job", "submitted_negative", job(submitted_ms=-1), "submitted_ms: negative")
    invalid("job", "oversized", job(argv=["echo"] + ["z" * 60000] * 18),
            "over 1048576")
    invalid("job", "id_invalid_chars", job(id="a/b"), "id: 'a/b' has a character outside")
    invalid("job", "id_space", job(id="a b"), "id:")
    invalid("job", "id_empty", job(id=""), "id: empty")
    invalid("job", "id_too_long", job(id="a" * 65), "id: 65 bytes, longer than 64")
    invalid("job", "id_missing", job(id=DROP), "id: missing")
    invalid("job", "id_int", job(id=12), "id: expected string, got int")
    invalid("job", "id_nul", job(id="a\x00b"), "id: contains a NUL byte")
    invalid("job", "template_invalid", job(template="../etc"), "template: '../etc' has a character")
    invalid("job", "template_empty", job(template=""), "template: empty")
    invalid("job", "template_too_long", job(template="t" * 65), "template: 65 bytes")
    invalid("job", "cwd_relative", job(cwd="src"), "cwd: not an absolute path")
    invalid("job", "cwd_too_long", job(cwd="/" + "d" * 4096), "cwd: 4097 bytes, longer than 4096")
    invalid("job", "cwd_nul", job(cwd="/tmp\x00/x"), "cwd: contains a NUL byte")
    invalid("job", "cwd_int", job(cwd=1), "cwd: expected string, got int")


# ---------------------------------------------------------------- msg
def out(**kw):
    o = {"v": 1, "t": "out", "attempt": 1, "seq": 0, "ts_ms": 1767225600000, "fd": 1,
         "data": b"hello\n"}
    for k, v in kw.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return o


def event(**kw):
    o = {"v": 1, "t": "event", "attempt": 1, "seq": 3, "ts_ms": 1767225600000,
         "state": "running", "worker": "host-a.4121"}
    for k, v in kw.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return o


def gen_msg():
    valid("msg", "out_stdout", out(), ["kind=out", "attempt=1", "seq=0", "ts_ms=1767225600000",
                                       "fd=1", "len=6", "data_hex=68656c6c6f0a"])
    valid("msg", "out_stderr_binary", out(fd=2, seq=9, data=b"\x00\xff\x1b[0m"),
          ["fd=2", "seq=9", "len=6", "data_hex=00ff1b5b306d"])
    valid("msg", "out_data_as_str", out(data="text"), ["len=4", "data_hex=74657874"])
    valid("msg", "out_empty_data", out(data=b""), ["len=0"])
    valid("msg", "out_max_chunk", out(data=b"\x01" * 65536), ["len=65536"])
    valid("msg", "out_no_ts", out(ts_ms=DROP), ["ts_ms=0", "kind=out"])
    valid("msg", "event_running", event(), ["kind=event", "state=running", "seq=3",
                                            "worker=host-a.4121", "reason="])
    valid("msg", "event_final_reason", event(state="failed", reason="exit code 2",
                                             attempt=3, seq=120),
          ["state=failed", "reason=exit code 2", "attempt=3", "seq=120"])
    valid("msg", "event_queued_attempt0", event(state="queued", attempt=0, seq=0,
                                                worker=DROP),
          ["state=queued", "attempt=0", "worker="])
    for s in ("claimed", "starting", "succeeded", "timed_out", "cancelled", "dead"):
        valid("msg", "event_" + s, event(state=s), ["state=" + s])
    valid("msg", "unknown_fields_ignored", out(future=[1, {"a": "b"}], stream="x"),
          ["kind=out", "len=6"])
    valid("msg", "event_ignores_out_fields", event(fd=7, data=1), ["kind=event"])

    invalid("msg", "v2", out(v=2), "v: unknown version 2")
    invalid("msg", "v_missing", out(v=DROP), "v: missing")
    invalid("msg", "not_a_map", ["out", 1], "not a msgpack map")
    invalid("msg", "truncated", pack(out())[:-2], "truncated")
    invalid("msg", "t_missing", out(t=DROP), "t: missing")
    invalid("msg", "t_unknown", out(t="stdin"), "t: unknown message type 'stdin'")
    invalid("msg", "t_int", out(t=1), "t: expected string, got int")
    invalid("msg", "attempt_missing", out(attempt=DROP), "attempt: missing")
    invalid("msg", "out_attempt_zero", out(attempt=0), "attempt: 0 is below 1")
    invalid("msg", "attempt_string", out(attempt="1"), "attempt: expected unsigned integer")
    invalid("msg", "seq_missing", out(seq=DROP), "seq: missing")
    invalid("msg", "seq_negative", out(seq=-1), "seq: negative value -1")
    invalid("msg", "ts_float", out(ts_ms=1.0), "ts_ms: expected unsigned integer, got float")
    invalid("msg", "fd_zero", out(fd=0), "fd: 0 is below 1")
    invalid("msg", "fd_three", out(fd=3), "fd: 3 exceeds 2")
    invalid("msg", "fd_missing", out(fd=DROP), "fd: missing")
    invalid("msg", "data_missing", out(data=DROP), "data: missing")
    invalid("msg", "data_int", out(data=5), "data: expected string, got int")
    invalid("msg", "data_too_big", out(data=b"\x02" * 65537), "data: 65537 bytes, longer than 65536")
    invalid("msg", "oversized", out(data=b"", pad="p" * 70000), "over")
    invalid("msg", "state_missing", event(state=DROP), "state: missing")
    invalid("msg", "state_unknown", event(state="exploded"), "state: unknown state 'exploded'")
    invalid("msg", "state_int", event(state=3), "state: expected string, got int")
    invalid("msg", "state_nul", event(state="running\x00"), "state: contains a NUL byte")
    invalid("msg", "reason_too_long", event(reason="r" * 256), "reason: 256 bytes, longer than 255")
    invalid("msg", "worker_too_long", event(worker="w" * 65), "worker: 65 bytes, longer than 64")
    invalid("msg", "reason_nul", event(reason="a\x00"), "reason: contains a NUL byte")
    invalid("msg", "worker_map", event(worker={}), "worker: expected string, got map")


# ---------------------------------------------------------------- result
def result(**kw):
    o = {"v": 1, "id": "job-1", "state": "succeeded", "attempt": 1, "exit_code": 0}
    for k, v in kw.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return o


TIMINGS = {"queued_ms": 1000, "claimed_ms": 1010, "vm_ms": 1050, "started_ms": 1077,
           "first_output_ms": 1100, "exited_ms": 2000, "written_ms": 2003}


def gen_result():
    valid("result", "minimal", {"v": 1, "id": "j1", "state": "succeeded", "attempt": 1},
          ["id=j1", "state=succeeded", "attempt=1", "exit_code=nil", "signal=0", "reason=",
           "worker=", "accel=", "stdout_bytes=0", "stderr_bytes=0", "truncated=false",
           "timings.queued_ms=0", "timings.written_ms=0"])
    valid("result", "full", result(exit_code=0, signal=0, reason="", worker="host-a.4121",
                                   accel="tcg", stdout_bytes=1234, stderr_bytes=5,
                                   truncated=False, timings=TIMINGS),
          ["exit_code=0", "worker=host-a.4121", "accel=tcg", "stdout_bytes=1234",
           "stderr_bytes=5", "timings.queued_ms=1000", "timings.claimed_ms=1010",
           "timings.vm_ms=1050", "timings.started_ms=1077", "timings.first_output_ms=1100",
           "timings.exited_ms=2000", "timings.written_ms=2003"])
    valid("result", "failed_exit_code", result(state="failed", exit_code=2, reason="exit code 2"),
          ["state=failed", "exit_code=2", "reason=exit code 2"])
    valid("result", "killed_by_signal", result(state="failed", exit_code=None, signal=9,
                                               reason="killed by signal 9"),
          ["exit_code=nil", "signal=9"])
    valid("result", "timed_out", result(state="timed_out", exit_code=None, signal=9,
                                        reason="wall-clock timeout 60000 ms"),
          ["state=timed_out", "reason=wall-clock timeout 60000 ms"])
    valid("result", "truncated_output", result(truncated=True, stdout_bytes=10**9),
          ["truncated=true", "stdout_bytes=1000000000"])
    valid("result", "dead_invalid_job", result(state="dead", attempt=1, exit_code=DROP,
                                               reason="argv: missing"),
          ["state=dead", "reason=argv: missing", "exit_code=nil"])
    valid("result", "cancelled", result(state="cancelled", exit_code=None), ["state=cancelled"])
    valid("result", "unknown_fields_ignored",
          result(cpu_ms=17, timings=dict(TIMINGS, boot_ms=3)),
          ["exit_code=0", "timings.vm_ms=1050"])
    valid("result", "reason_escapes", result(state="failed", reason="quote\" back\\ nl\n é"),
          ["reason=quote\" back\\\\ nl\\x0a \\xc3\\xa9"])
    valid("result", "exit_code_max", result(state="failed", exit_code=255), ["exit_code=255"])

    invalid("result", "v2", result(v=2), "v: unknown version 2")
    invalid("result", "not_a_map", "succeeded", "not a msgpack map")
    invalid("result", "truncated", pack(result())[:-1], "truncated")
    invalid("result", "state_missing", result(state=DROP), "state: missing")
    invalid("result", "state_not_final", result(state="running"),
            "state: 'running' is not a final state")
    invalid("result", "state_queued", result(state="queued"), "is not a final state")
    invalid("result", "state_unknown", result(state="ok"), "state: unknown state 'ok'")
    invalid("result", "id_missing", result(id=DROP), "id: missing")
    invalid("result", "id_invalid", result(id="job 1"), "id:")
    invalid("result", "attempt_missing", result(attempt=DROP), "attempt: missing")
    invalid("result", "exit_code_too_big", result(exit_code=256), "exit_code: 256 exceeds 255")
    invalid("result", "exit_code_negative", result(exit_code=-1), "exit_code: -1 is below 0")
    invalid("result", "exit_code_string", result(exit_code="0"),
            "exit_code: expected integer, got string")
    invalid("result", "signal_too_big", result(signal=65), "signal: 65 exceeds 64")
    invalid("result", "truncated_not_bool", result(truncated=1),
            "truncated: expected bool, got int")
    invalid("result", "timings_not_map", result(timings=[1, 2]),
            "timings: expected map, got array")
    invalid("result", "timings_negative", result(timings={"vm_ms": -3}),
            "timings.vm_ms: negative value -3")
    invalid("result", "timings_string", result(timings={"exited_ms": "now"}),
            "timings.exited_ms: expected unsigned integer, got string")
    invalid("result", "accel_invalid", result(accel="k v m"), "accel:")
    invalid("result", "accel_too_long", result(accel="a" * 16), "accel: 16 bytes, longer than 15")
    invalid("result", "reason_too_long", result(reason="r" * 256), "reason: 256 bytes")
    invalid("result", "worker_too_long", result(worker="w" * 65), "worker: 65 bytes")
    invalid("result", "stdout_bytes_negative", result(stdout_bytes=-1), "stdout_bytes: negative")
    invalid("result", "oversized", result(pad="p" * 5000), "over 4096")


# ---------------------------------------------------------------- frame
def frame(t, **kw):
    o = {"v": 1, "t": t}
    for k, v in kw.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return o


def exec_frame(**kw):
    base = dict(id=7, argv=["python3", "-c", "print(1)"], uid=1000, gid=1000)
    base.update(kw)
    return frame("exec", **base)


def gen_frame():
    valid("frame", "ready", frame("ready", version="0.1.0"), ["type=ready", "version=0.1.0"])
    valid("frame", "init", frame("init", time_ns=1767225600123456789, seed=bytes(range(32))),
          ["type=init", "time_ns=1767225600123456789", "seed_hex=" + bytes(range(32)).hex()])
    valid("frame", "init_no_seed", frame("init", time_ns=0), ["type=init", "seed_hex="])
    valid("frame", "init_seed_max", frame("init", time_ns=1, seed=b"\xaa" * 64),
          ["seed_hex=" + "aa" * 64])
    valid("frame", "exec_minimal", exec_frame(),
          ["type=exec", "id=7", "argc=3", "argv[0]=python3", "argv[2]=print(1)", "envc=0",
           "cwd=(null)", "uid=1000", "gid=1000"])
    valid("frame", "exec_full", exec_frame(env=["PATH=/usr/bin", "X=a=b", "E="], cwd="/tmp",
                                           uid=1001, gid=1002),
          ["envc=3", "env[0]=PATH=/usr/bin", "env[1]=X=a=b", "env[2]=E=", "cwd=/tmp",
           "uid=1001", "gid=1002"])
    valid("frame", "exec_uid0_decodes", exec_frame(uid=0, gid=0), ["uid=0", "gid=0"])
    valid("frame", "started", frame("started", id=7, pid=42), ["type=started", "id=7", "pid=42"])
    valid("frame", "output", frame("output", id=7, fd=1, data=b"1\n"),
          ["type=output", "fd=1", "len=2", "data_hex=310a"])
    valid("frame", "output_stderr_empty", frame("output", id=7, fd=2, data=b""),
          ["fd=2", "len=0"])
    valid("frame", "output_max_chunk", frame("output", id=1, fd=1, data=b"\x00" * 65536),
          ["len=65536"])
    valid("frame", "exit_code", frame("exit", id=7, exit_code=3),
          ["type=exit", "exit_code=3", "signal=0"])
    valid("frame", "exit_signal", frame("exit", id=7, signal=9),
          ["type=exit", "exit_code=-1", "signal=9"])
    valid("frame", "exit_signal_nil_code", frame("exit", id=7, exit_code=None, signal=15),
          ["signal=15", "exit_code=-1"])
    valid("frame", "signal", frame("signal", id=7, signal=15), ["type=signal", "signal=15"])
    valid("frame", "error", frame("error", id=7, err=2, message="execvpe: No such file"),
          ["type=error", "id=7", "err=2", "message=execvpe: No such file"])
    valid("frame", "error_no_id", frame("error", err=5), ["type=error", "id=0", "message="])
    valid("frame", "unknown_type", frame("put_file", path="/x", data=b"abc"),
          ["type=unknown"])
    valid("frame", "unknown_type_garbage_fields", frame("hello", id="not-an-int", argv=7),
          ["type=unknown"])
    valid("frame", "unknown_fields_ignored", frame("started", id=1, pid=2, rusage={"x": 1}),
          ["type=started", "pid=2"])
    valid("frame", "bin_strings", frame("exec", id=1, argv=[b"ls"], env=[b"A=1"], cwd=b"/",
                                        uid=1, gid=1),
          ["argv[0]=ls", "env[0]=A=1", "cwd=/"])

    invalid("frame", "v_missing", {"t": "ready", "version": "1"}, "v: missing")
    invalid("frame", "v2", frame("ready", v=2, version="x"), "v: unknown version 2")
    invalid("frame", "not_a_map", ["ready"], "not a msgpack map")
    invalid("frame", "empty", b"", "empty")
    invalid("frame", "truncated", pack(exec_frame())[:-3], "truncated")
    invalid("frame", "trailing", pack(frame("ready", version="1")) + b"\xc0",
            "trailing bytes")
    invalid("frame", "t_missing", {"v": 1, "id": 1}, "t: missing")
    invalid("frame", "t_int", frame(3), "t: expected string, got int")
    invalid("frame", "ready_no_version", frame("ready"), "version: missing")
    invalid("frame", "ready_version_too_long", frame("ready", version="v" * 32),
            "version: 32 bytes, longer than 31")
    invalid("frame", "init_no_time", frame("init"), "time_ns: missing")
    invalid("frame", "init_seed_too_long", frame("init", time_ns=1, seed=b"s" * 65),
            "seed: 65 bytes, longer than 64")
    invalid("frame", "init_time_negative", frame("init", time_ns=-1), "time_ns: negative")
    invalid("frame", "exec_no_id", exec_frame(id=DROP), "id: missing")
    invalid("frame", "exec_id_zero", exec_frame(id=0), "id: 0 is below 1")
    invalid("frame", "exec_id_too_big", exec_frame(id=2**32), "id: 4294967296 exceeds 4294967295")
    invalid("frame", "exec_argv_missing", exec_frame(argv=DROP), "argv: missing")
    invalid("frame", "exec_argv_empty", exec_frame(argv=[]), "argv: empty")
    invalid("frame", "exec_argv_item_int", exec_frame(argv=["a", 1]),
            "argv[1]: expected string, got int")
    invalid("frame", "exec_argv_too_many", exec_frame(argv=["a"] * 257), "argv: 257 items")
    invalid("frame", "exec_uid_missing", exec_frame(uid=DROP), "uid: missing")
    invalid("frame", "exec_uid_negative", exec_frame(uid=-1), "uid: negative value -1")
    invalid("frame", "exec_gid_too_big", exec_frame(gid=2**32 - 1), "gid: 4294967295 exceeds")
    invalid("frame", "exec_env_map", exec_frame(env={"A": "1"}), "env: expected array, got map")
    invalid("frame", "exec_env_no_equals", exec_frame(env=["A=1", "B"]),
            "env[1]: no '='")
    invalid("frame", "exec_env_empty_key", exec_frame(env=["=x"]), "env[0]: empty key")
    invalid("frame", "exec_env_item_int", exec_frame(env=[5]), "env[0]: expected string, got int")
    invalid("frame", "exec_env_nul", exec_frame(env=["A=\x00"]), "env[0]: contains a NUL byte")
    invalid("frame", "exec_env_too_many", exec_frame(env=["K=v"] * 257), "env: 257 items")
    invalid("frame", "exec_cwd_relative", exec_frame(cwd="tmp"), "cwd: not an absolute path")
    invalid("frame", "started_no_pid", frame("started", id=1), "pid: missing")
    invalid("frame", "started_pid_zero", frame("started", id=1, pid=0), "pid: 0 is below 1")
    invalid("frame", "output_fd3", frame("output", id=1, fd=3, data=b""), "fd: 3 exceeds 2")
    invalid("frame", "output_no_data", frame("output", id=1, fd=1), "data: missing")
    invalid("frame", "output_data_too_big", frame("output", id=1, fd=1, data=b"\x00" * 65537),
            "data: 65537 bytes, longer than 65536")
    invalid("frame", "output_data_array", frame("output", id=1, fd=1, data=[1]),
            "data: expected string, got array")
    invalid("frame", "exit_both", frame("exit", id=1, exit_code=0, signal=9),
            "exit_code: given together with signal")
    invalid("frame", "exit_neither", frame("exit", id=1), "exit_code: missing")
    invalid("frame", "exit_code_too_big", frame("exit", id=1, exit_code=256),
            "exit_code: 256 exceeds 255")
    invalid("frame", "exit_signal_zero", frame("exit", id=1, signal=0), "signal: 0 is below 1")
    invalid("frame", "signal_missing", frame("signal", id=1), "signal: missing")
    invalid("frame", "signal_too_big", frame("signal", id=1, signal=65), "signal: 65 exceeds 64")
    invalid("frame", "signal_negative", frame("signal", id=1, signal=-9), "signal: -9 is below 1")
    invalid("frame", "error_no_err", frame("error", id=1), "err: missing")
    invalid("frame", "error_message_too_long", frame("error", err=1, message="m" * 256),
            "message: 256 bytes, longer than 255")
    invalid("frame", "oversized", frame("ready", version="1", pad="p" * (1024 * 1024 + 4096)),
            "over 1052672")


def main():
    for kind in KINDS:
        shutil.rmtree(os.path.join(HERE, kind), ignore_errors=True)
    gen_job()
    gen_msg()
    gen_result()
    gen_frame()
    print("wrote vectors under", HERE, file=sys.stderr)


if __name__ == "__main__":
    main()
