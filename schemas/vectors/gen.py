#!/usr/bin/python3
"""Generates the libwire test vectors (schemas/vectors/README.md explains the layout).

Every vector is one encoded message in <kind>/{valid,invalid}/<name>.msgpack (frames: the payload
only, without the 4-byte length header). Each has a sidecar <name>.expect:
  - invalid: one line, a substring the decoder's error message must contain;
  - valid: lines that must each appear, exactly, in the canonical field dump of the decoded
    message (format in README.md), e.g. "timeout_ms=0".
Run it with Debian's python3-msgpack: /usr/bin/python3 schemas/vectors/gen.py
It rewrites every vector directory from scratch, so the output is deterministic.
"""
import os
import shutil
import sys

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ("job", "msg", "result", "frame", "template")


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
JOB_DEFAULTS = ["cwd=(null)", "template=default", "timeout_ms=0", "output_max=1048576",
                "max_attempts=3", "submitted_ms=0", "envc=0", "image=", "nfiles=0",
                "noutputs=0", "artefacts_max=4194304", "repo=(null)"]


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
    valid("job", "timeout_absent_is_template", job(timeout_ms=DROP), ["timeout_ms=0"])

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
    invalid("job", "too_many_objects", job(future=[None] * 17000), "more than 16384")
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
    gen_job_files()


def fentry(path="/home/corral/a.txt", **kw):
    o = {"path": path, "mode": 0o644, "data": b"hello\n"}
    if path is DROP:
        del o["path"]
    for k, v in kw.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return o


def repo(**kw):
    o = {"url": "https://example.org/x.git"}
    for k, v in kw.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return o


def raw_job(key, raw):
    """job() plus key whose value is the already-encoded raw bytes."""
    base = job()
    out = bytes([0x80 | (len(base) + 1)])
    for k, v in base.items():
        out += pack(k) + pack(v)
    return out + pack(key) + raw


def gen_job_files():
    """Issue 5: image, files, outputs, artefacts_max, repo."""
    valid("job", "files_full",
          job(image="python-data", artefacts_max=1000,
              files=[fentry(), fentry("/home/corral/bin/run.sh", mode=0o755, data=b"#!/bin/sh\n"),
                     fentry("/tmp/bin.dat", data=bytes(range(256)), mode=DROP),
                     fentry("/home/corral/empty", data=b"")],
              outputs=["/home/corral/out/*.txt", "/tmp/result.json"]),
          ["image=python-data", "artefacts_max=1000", "nfiles=4",
           "files[0].path=/home/corral/a.txt", "files[0].mode=0644", "files[0].len=6",
           "files[0].data_hex=68656c6c6f0a", "files[1].mode=0755",
           "files[2].mode=0644", "files[2].len=256", "files[3].len=0",
           "noutputs=2", "outputs[0]=/home/corral/out/*.txt", "outputs[1]=/tmp/result.json",
           "repo=(null)"])
    valid("job", "repo_defaults", job(repo=repo()),
          ["repo.url=https://example.org/x.git", "repo.ref=HEAD", "repo.depth=0",
           "repo.subdir=repo"])
    valid("job", "repo_full", job(repo=repo(url="git@github.com:o/r.git", ref="refs/tags/v1.2",
                                            depth=1, subdir="src/r", future=1)),
          ["repo.url=git@github.com:o/r.git", "repo.ref=refs/tags/v1.2", "repo.depth=1",
           "repo.subdir=src/r"])
    valid("job", "repo_commit_ref", job(repo=repo(ref="0123456789abcdef0123456789ABCDEF01234567",
                                                  depth=2**31)),
          ["repo.ref=0123456789abcdef0123456789ABCDEF01234567", "repo.depth=2147483648"])
    valid("job", "repo_branch_slash", job(repo=repo(ref="feature/x-1_2.3")),
          ["repo.ref=feature/x-1_2.3"])
    valid("job", "files_limits", job(files=[fentry("/f%04d" % i, data=b"") for i in range(1023)] +
                                     [fentry("/big", data=b"\x5a" * (768 * 1024), mode=0o7777)],
                                     outputs=["/o%d" % i for i in range(64)],
                                     artefacts_max=32 * 1024 * 1024),
          ["nfiles=1024", "files[1023].len=786432", "files[1023].mode=07777",
           "noutputs=64", "artefacts_max=33554432"])
    valid("job", "files_path_max", job(files=[fentry("/" + "p" * 4095)]), ["nfiles=1"])
    valid("job", "files_path_dots_ok", job(files=[fentry("/home/corral/.bashrc"),
                                                  fentry("/a/...x/..b/c.")]),
          ["files[0].path=/home/corral/.bashrc", "files[1].path=/a/...x/..b/c."])
    valid("job", "image_empty_is_default", job(image="", files=[], outputs=[], repo=None,
                                               artefacts_max=None),
          ["image=", "nfiles=0", "noutputs=0", "repo=(null)", "artefacts_max=4194304"])
    valid("job", "artefacts_max_zero", job(artefacts_max=0), ["artefacts_max=0"])

    invalid("job", "image_upper", job(image="Base"), "image: 'Base' has a character outside [a-z0-9_-]")
    invalid("job", "image_dot", job(image="../base"), "image: '../base' has a character")
    invalid("job", "image_too_long", job(image="i" * 33), "image: 33 bytes, longer than 32")
    invalid("job", "image_int", job(image=1), "image: expected string, got int")
    invalid("job", "files_not_array", job(files={"/a": b"x"}), "files: expected array, got map")
    invalid("job", "files_item_not_map", job(files=["/a"]), "files[0]: expected map, got string")
    invalid("job", "files_too_many", job(files=[fentry("/f%d" % i, data=b"") for i in range(1025)]),
            "files: 1025 items, more than 1024")
    invalid("job", "files_total_too_big",
            job(files=[fentry("/a", data=b"a" * (512 * 1024)), fentry("/b", data=b"b" * (256 * 1024 + 1))]),
            "files: more than 786432 bytes of data in total (at files[1])")
    invalid("job", "files_one_too_big", job(files=[fentry("/a", data=b"a" * (768 * 1024 + 1))]),
            "files[0].data: 786433 bytes, longer than 786432")
    invalid("job", "files_path_missing", job(files=[fentry(path=DROP)]), "files[0].path: missing")
    invalid("job", "files_path_relative", job(files=[fentry("home/corral/a")]),
            "files[0].path: not an absolute path")
    invalid("job", "files_path_empty", job(files=[fentry("")]), "files[0].path: not an absolute path")
    invalid("job", "files_path_root", job(files=[fentry("/")]), "files[0].path: is the root directory")
    invalid("job", "files_path_slashes", job(files=[fentry("//")]), "files[0].path: is the root directory")
    invalid("job", "files_path_dotdot", job(files=[fentry("/home/corral/../../etc/passwd")]),
            "files[0].path: '..' path component not allowed")
    invalid("job", "files_path_dotdot_end", job(files=[fentry(), fentry("/tmp/..")]),
            "files[1].path: '..' path component not allowed")
    invalid("job", "files_path_dot", job(files=[fentry("/tmp/./x")]),
            "files[0].path: '.' path component not allowed")
    invalid("job", "files_path_nul", job(files=[fentry("/tmp/a\x00b")]),
            "files[0].path: contains a NUL byte")
    invalid("job", "files_path_too_long", job(files=[fentry("/" + "p" * 4096)]),
            "files[0].path: 4097 bytes, longer than 4096")
    invalid("job", "files_mode_too_big", job(files=[fentry(mode=0o10000)]),
            "files[0].mode: 4096 exceeds 4095")
    invalid("job", "files_mode_string", job(files=[fentry(mode="0644")]),
            "files[0].mode: expected unsigned integer, got string")
    invalid("job", "files_data_missing", job(files=[fentry(data=DROP)]), "files[0].data: missing")
    invalid("job", "files_data_int", job(files=[fentry(data=5)]),
            "files[0].data: expected string, got int")
    invalid("job", "files_duplicate_path", job(files=[fentry("/a"), fentry("/b"), fentry("/a")]),
            "files[2].path: duplicate of files[0]")
    invalid("job", "files_duplicate_key",
            raw_job("files", b"\x91" + pack_pairs([("path", "/a"), ("path", "/b")])),
            "files[0].path: duplicate key")
    invalid("job", "outputs_not_array", job(outputs="/a"), "outputs: expected array, got string")
    invalid("job", "outputs_too_many", job(outputs=["/o"] * 65), "outputs: 65 items, more than 64")
    invalid("job", "outputs_relative", job(outputs=["/ok", "out/*.txt"]),
            "outputs[1]: not an absolute path")
    invalid("job", "outputs_empty_item", job(outputs=[""]), "outputs[0]: not an absolute path")
    invalid("job", "outputs_too_long", job(outputs=["/" + "o" * 4096]),
            "outputs[0]: 4097 bytes, longer than 4096")
    invalid("job", "outputs_item_int", job(outputs=[1]), "outputs[0]: expected string, got int")
    invalid("job", "outputs_nul", job(outputs=["/a\x00"]), "outputs[0]: contains a NUL byte")
    invalid("job", "artefacts_max_too_big", job(artefacts_max=32 * 1024 * 1024 + 1),
            "artefacts_max: 33554433 exceeds 33554432")
    invalid("job", "artefacts_max_negative", job(artefacts_max=-1), "artefacts_max: negative")
    invalid("job", "repo_not_map", job(repo="https://x"), "repo: expected map, got string")
    invalid("job", "repo_url_missing", job(repo=repo(url=DROP)), "repo.url: missing")
    invalid("job", "repo_url_empty", job(repo=repo(url="")), "repo.url: empty")
    invalid("job", "repo_url_too_long", job(repo=repo(url="https://" + "u" * 2041)),
            "repo.url: 2049 bytes, longer than 2048")
    invalid("job", "repo_url_space", job(repo=repo(url="https://x y")),
            "repo.url: contains a space or control character at byte 9")
    invalid("job", "repo_url_newline", job(repo=repo(url="https://x\n")), "repo.url: contains a space")
    invalid("job", "repo_ref_dotdot", job(repo=repo(ref="a..b")), "repo.ref: 'a..b' is not a valid ref name")
    invalid("job", "repo_ref_dash", job(repo=repo(ref="--upload-pack=x")),
            "repo.ref: '--upload-pack=x' is not a valid ref name")
    invalid("job", "repo_ref_space", job(repo=repo(ref="a b")), "repo.ref: 'a b' is not a valid ref name (bad character)")
    invalid("job", "repo_ref_colon", job(repo=repo(ref="a:b")), "(bad character)")
    invalid("job", "repo_ref_lock", job(repo=repo(ref="main.lock")), "repo.ref: 'main.lock' is not a valid")
    invalid("job", "repo_ref_empty", job(repo=repo(ref="")), "repo.ref: empty")
    invalid("job", "repo_ref_too_long", job(repo=repo(ref="r" * 257)), "repo.ref: 257 bytes, longer than 256")
    invalid("job", "repo_ref_trailing_slash", job(repo=repo(ref="refs/heads/")), "is not a valid ref name")
    invalid("job", "repo_depth_too_big", job(repo=repo(depth=2**31 + 1)),
            "repo.depth: 2147483649 exceeds 2147483648")
    invalid("job", "repo_depth_negative", job(repo=repo(depth=-1)), "repo.depth: negative")
    invalid("job", "repo_subdir_absolute", job(repo=repo(subdir="/etc")),
            "repo.subdir: must be relative (leading '/')")
    invalid("job", "repo_subdir_dotdot", job(repo=repo(subdir="a/../../x")),
            "repo.subdir: '..' path component not allowed")
    invalid("job", "repo_subdir_dot", job(repo=repo(subdir=".")), "repo.subdir: '.' path component")
    invalid("job", "repo_subdir_empty", job(repo=repo(subdir="")), "repo.subdir: empty")
    invalid("job", "repo_subdir_trailing", job(repo=repo(subdir="a/")), "repo.subdir: empty path component")
    invalid("job", "repo_subdir_too_long", job(repo=repo(subdir="s" * 256)),
            "repo.subdir: 256 bytes, longer than 255")
    invalid("job", "repo_duplicate_key",
            raw_job("repo", pack_pairs([("url", "https://a"), ("url", "https://b")])),
            "repo.url: duplicate key")


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
    gen_result_files()
    gen_result_limits()


def gen_result_limits():
    """Issue 6: the limit a job hit."""
    valid("result", "limit_absent_is_none", result(), ["limit="])
    valid("result", "limit_memory", result(state="failed", exit_code=None, signal=9, limit="memory",
                                           reason="memory limit 200 MiB hit (OOM kill)"),
          ["limit=memory", "reason=memory limit 200 MiB hit (OOM kill)", "signal=9"])
    valid("result", "limit_pids", result(state="timed_out", exit_code=None, signal=9,
                                         limit="pids", reason="pids limit 512 hit"),
          ["limit=pids", "state=timed_out"])
    valid("result", "limit_disk", result(state="failed", exit_code=1, limit="disk",
                                         reason="disk limit 256 MiB full"),
          ["limit=disk", "exit_code=1"])
    valid("result", "limit_time", result(state="timed_out", exit_code=None, signal=9, limit="time",
                                         reason="wall-clock timeout 1000 ms"),
          ["limit=time"])
    valid("result", "limit_output", result(state="failed", truncated=True, limit="output"),
          ["limit=output", "truncated=true"])
    valid("result", "limit_empty", result(limit=""), ["limit="])
    valid("result", "limit_nil", result(limit=None), ["limit="])

    invalid("result", "limit_unknown", result(limit="cpu"),
            "limit: unknown limit 'cpu' (expected time, memory, pids, disk or output)")
    invalid("result", "limit_upper", result(limit="Memory"), "limit: unknown limit 'Memory'")
    invalid("result", "limit_int", result(limit=1), "limit: expected string, got int")
    invalid("result", "limit_too_long", result(limit="m" * 256), "limit: 256 bytes, longer than 255")
    invalid("result", "limit_nul", result(limit="disk\x00"), "limit: contains a NUL byte")


def art(path="/home/corral/out.txt", **kw):
    o = {"path": path, "size": 3, "mode": 0o644, "data": b"abc", "truncated": False}
    if path is DROP:
        del o["path"]
    for k, v in kw.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return o


def gen_result_files():
    """Issue 5: commit, artefacts, artefacts_truncated, timings additions."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    valid("result", "artefacts",
          result(commit=commit, artefacts_truncated=True,
                 artefacts=[art(), art("/tmp/bin", size=300, mode=0o755, data=bytes(range(256)),
                                       truncated=True),
                            art("/tmp/dropped", size=10, data=b"", truncated=True),
                            art("/tmp/empty", size=0, data=DROP, mode=DROP, truncated=DROP)],
                 timings=dict(TIMINGS, fetch_ms=12, files_ms=34, collect_ms=56, mirror_hit=True)),
          ["commit=" + commit, "artefacts_truncated=true", "nartefacts=4",
           "artefacts[0].path=/home/corral/out.txt", "artefacts[0].size=3",
           "artefacts[0].mode=0644", "artefacts[0].len=3", "artefacts[0].data_hex=616263",
           "artefacts[0].truncated=false", "artefacts[1].size=300", "artefacts[1].len=256",
           "artefacts[1].mode=0755", "artefacts[1].truncated=true", "artefacts[2].len=0",
           "artefacts[3].mode=00", "artefacts[3].truncated=false",
           "timings.fetch_ms=12", "timings.files_ms=34", "timings.collect_ms=56",
           "timings.mirror_hit=true"])
    valid("result", "no_artefacts_defaults", result(),
          ["commit=", "artefacts_truncated=false", "nartefacts=0", "timings.fetch_ms=0",
           "timings.mirror_hit=false"])
    valid("result", "artefacts_empty", result(artefacts=[], commit=""), ["nartefacts=0", "commit="])
    valid("result", "artefacts_one_chunk_big", result(artefacts=[art(size=70000, data=b"\x01" * 70000)]),
          ["artefacts[0].len=70000", "artefacts[0].size=70000"])

    invalid("result", "commit_short", result(commit="abc"), "commit: expected 40 lowercase hex digits")
    invalid("result", "commit_upper", result(commit=commit.upper()), "commit: expected 40 lowercase hex")
    invalid("result", "commit_too_long", result(commit=commit + "0"), "commit: 41 bytes, longer than 40")
    invalid("result", "artefacts_not_array", result(artefacts={}), "artefacts: expected array, got map")
    invalid("result", "artefacts_item_str", result(artefacts=["/x"]),
            "artefacts[0]: expected map, got string")
    invalid("result", "artefacts_too_many", result(artefacts=[art(data=b"", size=0)] * 1025),
            "artefacts: 1025 items, more than 1024")
    invalid("result", "artefacts_path_missing", result(artefacts=[art(path=DROP)]),
            "artefacts[0].path: missing")
    invalid("result", "artefacts_path_relative", result(artefacts=[art("x")]),
            "artefacts[0].path: not an absolute path")
    invalid("result", "artefacts_size_missing", result(artefacts=[art(size=DROP)]),
            "artefacts[0].size: missing")
    invalid("result", "artefacts_data_over_size", result(artefacts=[art(size=2)]),
            "artefacts[0].data: 3 bytes of data, more than its size 2")
    invalid("result", "artefacts_short_not_truncated", result(artefacts=[art(size=4)]),
            "artefacts[0]: 3 of 4 bytes but not marked truncated")
    invalid("result", "artefacts_mode_too_big", result(artefacts=[art(mode=0o10000)]),
            "artefacts[0].mode: 4096 exceeds 4095")
    invalid("result", "artefacts_truncated_int", result(artefacts=[art(truncated=1)]),
            "artefacts[0].truncated: expected bool, got int")
    invalid("result", "artefacts_truncated_flag_int", result(artefacts_truncated=0),
            "artefacts_truncated: expected bool, got int")
    invalid("result", "timings_mirror_int", result(timings={"mirror_hit": 1}),
            "timings.mirror_hit: expected bool, got int")
    invalid("result", "timings_fetch_negative", result(timings={"fetch_ms": -1}),
            "timings.fetch_ms: negative")


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
    gen_frame_files()
    gen_frame_net()
    gen_frame_limits()


def gen_frame_limits():
    """Issue 6: exec mem_max/pids_max/disk_max, exit limit."""
    valid("frame", "exec_limits", exec_frame(mem_max=200 * 2**20, pids_max=512,
                                             disk_max=256 * 2**20),
          ["type=exec", "mem_max=209715200", "pids_max=512", "disk_max=268435456"])
    valid("frame", "exec_no_limits", exec_frame(), ["mem_max=0", "pids_max=0", "disk_max=0"])
    valid("frame", "exec_limits_zero_nil", exec_frame(mem_max=0, pids_max=None, disk_max=0),
          ["mem_max=0", "pids_max=0", "disk_max=0"])
    valid("frame", "exec_limits_max", exec_frame(mem_max=2**63 - 1, pids_max=2**32 - 1,
                                                 disk_max=2**63 - 1),
          ["mem_max=9223372036854775807", "pids_max=4294967295",
           "disk_max=9223372036854775807"])
    valid("frame", "exit_limit_memory", frame("exit", id=7, signal=9, limit="memory"),
          ["type=exit", "signal=9", "limit=memory"])
    valid("frame", "exit_limit_pids", frame("exit", id=7, exit_code=2, limit="pids"),
          ["exit_code=2", "limit=pids"])
    valid("frame", "exit_limit_disk", frame("exit", id=7, exit_code=1, limit="disk"),
          ["limit=disk"])
    valid("frame", "exit_limit_none", frame("exit", id=7, exit_code=0, limit=""), ["limit="])
    valid("frame", "exit_no_limit", frame("exit", id=7, exit_code=0), ["limit="])
    valid("frame", "limit_ignored_on_started", frame("started", id=7, pid=3, limit="cpu"),
          ["type=started", "limit="])

    invalid("frame", "exec_mem_max_negative", exec_frame(mem_max=-1), "mem_max: negative value -1")
    invalid("frame", "exec_mem_max_too_big", exec_frame(mem_max=2**63),
            "mem_max: 9223372036854775808 exceeds")
    invalid("frame", "exec_mem_max_string", exec_frame(mem_max="200M"),
            "mem_max: expected unsigned integer, got string")
    invalid("frame", "exec_pids_max_too_big", exec_frame(pids_max=2**32),
            "pids_max: 4294967296 exceeds 4294967295")
    invalid("frame", "exec_pids_max_float", exec_frame(pids_max=1.5),
            "pids_max: expected unsigned integer, got float")
    invalid("frame", "exec_disk_max_negative", exec_frame(disk_max=-5),
            "disk_max: negative value -5")
    invalid("frame", "exit_limit_time", frame("exit", id=7, signal=9, limit="time"),
            "limit: unknown limit 'time' (expected memory, pids or disk)")
    invalid("frame", "exit_limit_unknown", frame("exit", id=7, exit_code=0, limit="cpu"),
            "limit: unknown limit 'cpu'")
    invalid("frame", "exit_limit_int", frame("exit", id=7, exit_code=0, limit=3),
            "limit: expected string, got int")
    invalid("frame", "exit_limit_long", frame("exit", id=7, exit_code=0, limit="x" * 300),
            "limit: 300 bytes, longer than 255")


def put_frame(**kw):
    base = dict(id=3, path="/home/corral/a.txt", kind="file", mode=0o644, data=b"hi\n",
                append=False, uid=1000, gid=1000)
    base.update(kw)
    return frame("put", **base)


def file_frame(**kw):
    base = dict(id=9, path="/home/corral/out.txt", size=5, mode=0o600, offset=0, data=b"hello",
                last=True, truncated=False)
    base.update(kw)
    return frame("file", **base)


def get_frame(**kw):
    base = dict(id=9, patterns=["/home/corral/out/*", "/tmp/x"], max=4194304, uid=1000, gid=1000)
    base.update(kw)
    return frame("get", **base)


def gen_frame_files():
    """Issue 5: put/putend/putok/get/file/getend."""
    valid("frame", "put_file", put_frame(),
          ["type=put", "id=3", "path=/home/corral/a.txt", "kind=file", "mode=0644", "len=3",
           "data_hex=68690a", "append=false", "uid=1000", "gid=1000", "target=(null)"])
    valid("frame", "put_append_chunk", put_frame(append=True, data=b"\x00" * 65536, mode=0o755),
          ["append=true", "len=65536", "mode=0755"])
    valid("frame", "put_id0_defaults", put_frame(id=0, kind=DROP, mode=DROP, data=DROP,
                                                 append=DROP),
          ["id=0", "kind=file", "mode=0644", "len=0", "append=false"])
    valid("frame", "put_no_id", put_frame(id=DROP), ["type=put", "id=0"])
    valid("frame", "put_dir", put_frame(kind="dir", mode=DROP, data=DROP, append=DROP,
                                        path="/home/corral/repo/src"),
          ["kind=dir", "mode=0755", "path=/home/corral/repo/src"])
    valid("frame", "put_symlink", put_frame(kind="symlink", target="../lib/x.so", data=DROP,
                                            append=DROP, mode=DROP),
          ["kind=symlink", "target=../lib/x.so", "mode=0777"])
    valid("frame", "put_uid0_decodes", put_frame(uid=0, gid=0), ["uid=0", "gid=0"])
    valid("frame", "putend", frame("putend", id=3), ["type=putend", "id=3"])
    valid("frame", "putok", frame("putok", id=3, count=12, bytes=70000),
          ["type=putok", "id=3", "count=12", "bytes=70000"])
    valid("frame", "get", get_frame(),
          ["type=get", "id=9", "npatterns=2", "patterns[0]=/home/corral/out/*",
           "patterns[1]=/tmp/x", "max=4194304", "uid=1000", "gid=1000"])
    valid("frame", "get_max_zero", get_frame(max=0, patterns=["/" + "g" * 4095]), ["max=0"])
    valid("frame", "file", file_frame(),
          ["type=file", "id=9", "path=/home/corral/out.txt", "size=5", "mode=0600",
           "offset=0", "len=5", "data_hex=68656c6c6f", "last=true", "truncated=false"])
    valid("frame", "file_truncated_nodata", file_frame(size=10**9, data=DROP, offset=0,
                                                       truncated=True),
          ["size=1000000000", "len=0", "truncated=true", "last=true"])
    valid("frame", "file_middle_chunk", file_frame(size=200000, offset=65536, data=b"\x07" * 65536,
                                                   last=False),
          ["offset=65536", "len=65536", "last=false"])
    valid("frame", "getend", frame("getend", id=9, count=3, truncated=True),
          ["type=getend", "count=3", "truncated=true"])
    valid("frame", "getend_no_trunc", frame("getend", id=9, count=0), ["count=0", "truncated=false"])

    invalid("frame", "put_no_path", put_frame(path=DROP), "path: missing")
    invalid("frame", "put_path_relative", put_frame(path="a.txt"), "path: not an absolute path")
    invalid("frame", "put_path_dotdot", put_frame(path="/home/corral/../../etc/shadow"),
            "path: '..' path component not allowed")
    invalid("frame", "put_path_root", put_frame(path="/"), "path: is the root directory")
    invalid("frame", "put_path_nul", put_frame(path="/a\x00b"), "path: contains a NUL byte")
    invalid("frame", "put_path_too_long", put_frame(path="/" + "p" * 4096), "path: 4097 bytes")
    invalid("frame", "put_kind_unknown", put_frame(kind="fifo"),
            "kind: unknown kind 'fifo' (expected file, dir or symlink)")
    invalid("frame", "put_kind_int", put_frame(kind=1), "kind: expected string, got int")
    invalid("frame", "put_mode_too_big", put_frame(mode=0o10000), "mode: 4096 exceeds 4095")
    invalid("frame", "put_data_too_big", put_frame(data=b"\x00" * 65537),
            "data: 65537 bytes, longer than 65536")
    invalid("frame", "put_append_int", put_frame(append=1), "append: expected bool, got int")
    invalid("frame", "put_dir_data", put_frame(kind="dir"), "data: only for kind file")
    invalid("frame", "put_dir_target", put_frame(kind="dir", data=DROP, append=DROP, target="/x"),
            "target: only for kind symlink")
    invalid("frame", "put_symlink_no_target", put_frame(kind="symlink", data=DROP, append=DROP),
            "target: missing")
    invalid("frame", "put_symlink_empty_target", put_frame(kind="symlink", data=DROP,
                                                           append=DROP, target=""),
            "target: empty")
    invalid("frame", "put_file_target", put_frame(target="/etc"), "target: only for kind symlink")
    invalid("frame", "put_no_uid", put_frame(uid=DROP), "uid: missing")
    invalid("frame", "put_gid_negative", put_frame(gid=-1), "gid: negative value -1")
    invalid("frame", "putend_no_id", frame("putend"), "id: missing")
    invalid("frame", "putend_id_zero", frame("putend", id=0), "id: 0 is below 1")
    invalid("frame", "putok_no_count", frame("putok", id=1, bytes=0), "count: missing")
    invalid("frame", "putok_no_bytes", frame("putok", id=1, count=0), "bytes: missing")
    invalid("frame", "get_no_patterns", get_frame(patterns=DROP), "patterns: missing")
    invalid("frame", "get_patterns_empty", get_frame(patterns=[]), "patterns: empty")
    invalid("frame", "get_patterns_too_many", get_frame(patterns=["/x"] * 65),
            "patterns: 65 items, more than 64")
    invalid("frame", "get_pattern_relative", get_frame(patterns=["*.txt"]),
            "patterns[0]: not an absolute path")
    invalid("frame", "get_pattern_int", get_frame(patterns=["/a", 2]),
            "patterns[1]: expected string, got int")
    invalid("frame", "get_no_max", get_frame(max=DROP), "max: missing")
    invalid("frame", "get_max_too_big", get_frame(max=32 * 1024 * 1024 + 1),
            "max: 33554433 exceeds 33554432")
    invalid("frame", "get_no_uid", get_frame(uid=DROP), "uid: missing")
    invalid("frame", "file_no_path", file_frame(path=DROP), "path: missing")
    invalid("frame", "file_path_relative", file_frame(path="x"), "path: not an absolute path")
    invalid("frame", "file_no_size", file_frame(size=DROP), "size: missing")
    invalid("frame", "file_no_offset", file_frame(offset=DROP), "offset: missing")
    invalid("frame", "file_beyond_size", file_frame(size=4), "offset: 0 + 5 bytes beyond size 4")
    invalid("frame", "file_offset_beyond", file_frame(offset=6, data=b""),
            "offset: 6 + 0 bytes beyond size 5")
    invalid("frame", "file_data_too_big", file_frame(size=70000, data=b"\x00" * 65537),
            "data: 65537 bytes, longer than 65536")
    invalid("frame", "file_last_int", file_frame(last=1), "last: expected bool, got int")
    invalid("frame", "getend_no_count", frame("getend", id=1), "count: missing")
    invalid("frame", "getend_trunc_str", frame("getend", id=1, count=1, truncated="yes"),
            "truncated: expected bool, got string")


def net_open(**kw):
    base = dict(id=5, host="pypi.org", port=443, kind="connect")
    base.update(kw)
    return frame("net_open", **base)


def gen_frame_net():
    """Issue 6: egress streams net_open/net_ok/net_data/net_ack/net_close."""
    valid("frame", "net_open_connect", net_open(),
          ["type=net_open", "id=5", "host=pypi.org", "port=443", "net_kind=connect"])
    valid("frame", "net_open_http", net_open(host="files.example-1.org", port=80, kind="http"),
          ["host=files.example-1.org", "port=80", "net_kind=http"])
    valid("frame", "net_open_host_max", net_open(host="a" * 253), ["host=" + "a" * 253])
    valid("frame", "net_ok", frame("net_ok", id=5), ["type=net_ok", "id=5"])
    valid("frame", "net_data", frame("net_data", id=5, data=b"\x16\x03\x01"),
          ["type=net_data", "len=3", "data_hex=160301"])
    valid("frame", "net_data_max", frame("net_data", id=5, data=b"\x00" * 65536), ["len=65536"])
    valid("frame", "net_ack", frame("net_ack", id=5, bytes=262144), ["type=net_ack", "bytes=262144"])
    valid("frame", "net_close", frame("net_close", id=5), ["type=net_close", "err=0", "message="])
    valid("frame", "net_close_refused",
          frame("net_close", id=5, err=1,
                message="domain 'x.org' not allowed: network disabled for this job's template"),
          ["err=1", "message=domain 'x.org' not allowed: network disabled for this job's template"])

    invalid("frame", "net_open_no_id", net_open(id=DROP), "id: missing")
    invalid("frame", "net_open_id_zero", net_open(id=0), "id: 0 is below 1")
    invalid("frame", "net_open_no_host", net_open(host=DROP), "host: missing")
    invalid("frame", "net_open_host_empty", net_open(host=""), "host: empty")
    invalid("frame", "net_open_host_too_long", net_open(host="a" * 254),
            "host: 254 bytes, longer than 253")
    invalid("frame", "net_open_host_upper", net_open(host="PyPI.org"),
            "outside lower-case [a-z0-9._-]")
    invalid("frame", "net_open_host_colon", net_open(host="::1"), "outside lower-case")
    invalid("frame", "net_open_host_nul", net_open(host="a\x00b"), "host:")
    invalid("frame", "net_open_no_port", net_open(port=DROP), "port: missing")
    invalid("frame", "net_open_port_zero", net_open(port=0), "port: 0 is below 1")
    invalid("frame", "net_open_port_big", net_open(port=65536), "port: 65536 exceeds 65535")
    invalid("frame", "net_open_no_kind", net_open(kind=DROP), "kind: missing")
    invalid("frame", "net_open_kind_file", net_open(kind="file"),
            "kind: unknown kind 'file' (expected connect or http)")
    invalid("frame", "net_ok_no_id", frame("net_ok"), "id: missing")
    invalid("frame", "net_data_no_data", frame("net_data", id=1), "data: missing")
    invalid("frame", "net_data_too_big", frame("net_data", id=1, data=b"\x00" * 65537),
            "data: 65537 bytes, longer than 65536")
    invalid("frame", "net_ack_no_bytes", frame("net_ack", id=1), "bytes: missing")
    invalid("frame", "net_ack_zero", frame("net_ack", id=1, bytes=0), "bytes: 0 is below 1")
    invalid("frame", "net_ack_over_window", frame("net_ack", id=1, bytes=262145),
            "bytes: 262145 exceeds 262144")
    invalid("frame", "net_close_err_big", frame("net_close", id=1, err=4096),
            "err: 4096 exceeds 4095")
    invalid("frame", "net_close_message_too_long", frame("net_close", id=1, message="m" * 256),
            "message: 256 bytes, longer than 255")


# ---------------------------------------------------------------- template (issue 4)
def tmpl(**kw):
    o = {"v": 1, "name": "py", "version": 1}
    for k, v in kw.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return o


TEMPLATE_DEFAULTS = ["image=base", "vcpus=1", "memory_mib=256", "disk_mib=256", "pids_max=512",
                     "timeout_ms=60000", "envc=0", "warmup=python3 -c pass", "network=none",
                     "nallow=0", "created_ms=0"]


def gen_template():
    valid("template", "minimal", tmpl(), ["name=py", "version=1"] + TEMPLATE_DEFAULTS)
    valid("template", "full",
          tmpl(name="py3.11-data_x", version=7, image="python-data", vcpus=2, memory_mib=1024,
               disk_mib=2048, pids_max=1024, timeout_ms=300000, env=["PYTHONHASHSEED=0", "A=b=c"],
               warmup="python3 -c 'import pandas'", network="allow",
               allow=["pypi.org", "*.pythonhosted.org", "example.com:8443", "10.0.0.1:80"],
               created_ms=1767225600123),
          ["name=py3.11-data_x", "version=7", "image=python-data", "vcpus=2", "memory_mib=1024",
           "disk_mib=2048", "pids_max=1024", "timeout_ms=300000", "envc=2",
           "env[0]=PYTHONHASHSEED=0", "env[1]=A=b=c", "warmup=python3 -c 'import pandas'",
           "network=allow", "nallow=4", "allow[0]=pypi.org", "allow[1]=*.pythonhosted.org",
           "allow[2]=example.com:8443", "allow[3]=10.0.0.1:80", "created_ms=1767225600123"])
    valid("template", "limits_at_min", tmpl(vcpus=1, memory_mib=128, disk_mib=16, pids_max=16,
                                            timeout_ms=1, warmup="", version=1),
          ["memory_mib=128", "disk_mib=16", "pids_max=16", "timeout_ms=1", "warmup="])
    valid("template", "limits_at_max",
          tmpl(name="t" * 64, version=2**32 - 1, image="i" * 32, vcpus=8, memory_mib=16384,
               disk_mib=65536, pids_max=65536, timeout_ms=86400000,
               env=["K%02d=" % i + "v" * 4092 for i in range(64)], warmup="w" * 4096,
               network="allow", allow=["h%02d.example.com" % i for i in range(63)] +
               [".".join(["a" * 63] * 3) + "." + "b" * 61 + ":65535"],
               created_ms=2**63 - 1),
          ["name=" + "t" * 64, "version=4294967295", "image=" + "i" * 32, "vcpus=8",
           "memory_mib=16384", "disk_mib=65536", "pids_max=65536", "timeout_ms=86400000",
           "envc=64", "nallow=64", "created_ms=9223372036854775807"])
    valid("template", "unknown_fields_ignored", tmpl(future={"x": [1, None]}, gpu=1),
          ["name=py"] + TEMPLATE_DEFAULTS)
    valid("template", "nil_optionals_default",
          tmpl(image=None, vcpus=None, memory_mib=None, disk_mib=None, pids_max=None,
               timeout_ms=None, env=None, warmup=None, network=None, allow=None,
               created_ms=None), TEMPLATE_DEFAULTS)
    valid("template", "empty_arrays", tmpl(env=[], allow=[], network="none"),
          ["envc=0", "nallow=0", "network=none"])
    valid("template", "strings_as_bin", tmpl(name=b"bin", image=b"base", warmup=b"true",
                                             env=[b"K=V"], network=b"allow", allow=[b"x.org"]),
          ["name=bin", "warmup=true", "env[0]=K=V", "network=allow", "allow[0]=x.org"])
    valid("template", "key_order_free",
          pack_pairs([("version", 3), ("name", "k"), ("v", 1)]), ["name=k", "version=3"])

    invalid("template", "v2", tmpl(v=2), "v: unknown version 2")
    invalid("template", "v_missing", tmpl(v=DROP), "v: missing")
    invalid("template", "empty", b"", "empty")
    invalid("template", "not_a_map", ["py", 1], "not a msgpack map")
    invalid("template", "truncated", pack(tmpl())[:-1], "truncated")
    invalid("template", "trailing_byte", pack(tmpl()) + b"\x00", "1 trailing bytes")
    invalid("template", "duplicate_key", pack_pairs([("v", 1), ("name", "a"), ("version", 1),
                                                     ("name", "b")]), "name: duplicate key")
    invalid("template", "oversized", tmpl(pad="p" * (512 * 1024)), "over 524288")
    invalid("template", "too_deep", tmpl(future=nested(20)), "nested deeper than 16")
    invalid("template", "name_missing", tmpl(name=DROP), "name: missing")
    invalid("template", "name_empty", tmpl(name=""), "name: empty")
    invalid("template", "name_slash", tmpl(name="a/b"),
            "name: 'a/b' has a character outside [A-Za-z0-9._-]")
    invalid("template", "name_too_long", tmpl(name="n" * 65), "name: 65 bytes, longer than 64")
    invalid("template", "name_int", tmpl(name=5), "name: expected string, got int")
    invalid("template", "version_missing", tmpl(version=DROP), "version: missing")
    invalid("template", "version_zero", tmpl(version=0), "version: 0 is below 1")
    invalid("template", "version_too_big", tmpl(version=2**32), "version: 4294967296 exceeds 4294967295")
    invalid("template", "version_string", tmpl(version="1"),
            "version: expected unsigned integer, got string")
    invalid("template", "image_empty", tmpl(image=""), "image: empty")
    invalid("template", "image_upper", tmpl(image="Base"),
            "image: 'Base' has a character outside [a-z0-9_-]")
    invalid("template", "image_too_long", tmpl(image="i" * 33), "image: 33 bytes, longer than 32")
    invalid("template", "vcpus_zero", tmpl(vcpus=0), "vcpus: 0 is below 1")
    invalid("template", "vcpus_too_many", tmpl(vcpus=9), "vcpus: 9 exceeds 8")
    invalid("template", "vcpus_negative", tmpl(vcpus=-1), "vcpus: negative value -1 not allowed")
    invalid("template", "vcpus_float", tmpl(vcpus=1.5), "vcpus: expected unsigned integer, got float")
    invalid("template", "memory_too_small", tmpl(memory_mib=127), "memory_mib: 127 is below 128")
    invalid("template", "memory_too_big", tmpl(memory_mib=16385), "memory_mib: 16385 exceeds 16384")
    invalid("template", "disk_too_small", tmpl(disk_mib=15), "disk_mib: 15 is below 16")
    invalid("template", "disk_too_big", tmpl(disk_mib=65537), "disk_mib: 65537 exceeds 65536")
    invalid("template", "pids_too_small", tmpl(pids_max=15), "pids_max: 15 is below 16")
    invalid("template", "pids_too_big", tmpl(pids_max=65537), "pids_max: 65537 exceeds 65536")
    invalid("template", "timeout_zero", tmpl(timeout_ms=0), "timeout_ms: 0 is below 1")
    invalid("template", "timeout_too_big", tmpl(timeout_ms=86400001),
            "timeout_ms: 86400001 exceeds 86400000")
    invalid("template", "env_map", tmpl(env={"A": "1"}), "env: expected array, got map")
    invalid("template", "env_no_equals", tmpl(env=["A=1", "B"]),
            "env[1]: no '=' (expected KEY=VALUE)")
    invalid("template", "env_empty_key", tmpl(env=["=x"]), "env[0]: empty key")
    invalid("template", "env_item_int", tmpl(env=[1]), "env[0]: expected string, got int")
    invalid("template", "env_nul", tmpl(env=["A=\x00"]), "env[0]: contains a NUL byte")
    invalid("template", "env_too_many", tmpl(env=["K%d=v" % i for i in range(65)]),
            "env: 65 items, more than 64")
    invalid("template", "env_item_too_long", tmpl(env=["K=" + "v" * 4095]),
            "env[0]: 4097 bytes, longer than 4096")
    invalid("template", "env_duplicate_key", tmpl(env=["A=1", "B=2", "A=3"]),
            "env[2]: duplicate key")
    invalid("template", "warmup_too_long", tmpl(warmup="w" * 4097),
            "warmup: 4097 bytes, longer than 4096")
    invalid("template", "warmup_int", tmpl(warmup=1), "warmup: expected string, got int")
    invalid("template", "warmup_nul", tmpl(warmup="a\x00b"), "warmup: contains a NUL byte")
    invalid("template", "network_unknown", tmpl(network="open"),
            "network: unknown value 'open' (expected none or allow)")
    invalid("template", "network_bool", tmpl(network=True), "network: expected string, got bool")
    invalid("template", "network_long", tmpl(network="x" * 300),
            "network: unknown value 'xxxx")
    invalid("template", "allow_without_network", tmpl(allow=["pypi.org"]),
            "allow: 1 patterns, but network is 'none'")
    invalid("template", "network_allow_empty", tmpl(network="allow"),
            "allow: empty, but network is 'allow'")
    invalid("template", "network_allow_empty_array", tmpl(network="allow", allow=[]),
            "allow: empty, but network is 'allow'")

    def bad_allow(name, pattern, expect):
        invalid("template", "allow_" + name, tmpl(network="allow", allow=["ok.org", pattern]),
                expect)
    bad_allow("upper", "PyPI.org", "allow[1]: 'PyPI.org': upper-case letter")
    bad_allow("star_only", "*", "allow[1]: '*': '*' only as a whole first label")
    bad_allow("star_middle", "a.*.org", "allow[1]: 'a.*.org': '*' only as a whole first label")
    bad_allow("star_partial", "*x.org", "allow[1]: '*x.org': '*' only as a whole first label")
    bad_allow("star_suffix_empty", "*.", "allow[1]: '*.': empty")
    bad_allow("empty", "", "allow[1]: empty pattern")
    bad_allow("empty_label", "a..org", "allow[1]: 'a..org': empty label")
    bad_allow("trailing_dot", "pypi.org.", "allow[1]: 'pypi.org.': empty label")
    bad_allow("leading_dot", ".pypi.org", "allow[1]: '.pypi.org': empty label")
    bad_allow("label_dash", "-a.org", "allow[1]: '-a.org': label starts with '-'")
    bad_allow("label_dash_end", "a-.org", "allow[1]: 'a-.org': label ends with '-'")
    bad_allow("label_too_long", "a" * 64 + ".org", "label longer than 63 bytes")
    bad_allow("host_too_long", ".".join(["a" * 63] * 4) + ":80",
              "allow[1]: host part 255 bytes, longer than 253")
    bad_allow("too_long", "a" * 260, "allow[1]: 260 bytes, longer than 259")
    bad_allow("underscore", "a_b.org", "allow[1]: 'a_b.org': character outside [a-z0-9.-]")
    bad_allow("scheme", "https://pypi.org", "allow[1]: 'https://pypi.org': port must be 1..65535")
    bad_allow("path", "pypi.org/simple", "character outside [a-z0-9.-]")
    bad_allow("port_zero", "pypi.org:0", "allow[1]: 'pypi.org:0': port must be 1..65535")
    bad_allow("port_big", "pypi.org:65536", "port must be 1..65535")
    bad_allow("port_empty", "pypi.org:", "port must be 1..65535")
    bad_allow("port_leading_zero", "pypi.org:080", "port must be 1..65535")
    bad_allow("port_sign", "pypi.org:+80", "port must be 1..65535")
    bad_allow("two_ports", "pypi.org:80:443", "port must be 1..65535")
    bad_allow("ipv6", "[::1]:443", "port must be 1..65535")
    bad_allow("nul", "a\x00.org", "allow[1]: contains a NUL byte")
    bad_allow("int", 5, "allow[1]: expected string, got int")
    bad_allow("duplicate", "ok.org", "allow[1]: duplicate pattern")
    invalid("template", "allow_not_array", tmpl(network="allow", allow="pypi.org"),
            "allow: expected array, got string")
    invalid("template", "allow_too_many",
            tmpl(network="allow", allow=["h%d.org" % i for i in range(65)]),
            "allow: 65 items, more than 64")
    invalid("template", "created_negative", tmpl(created_ms=-1), "created_ms: negative")
    invalid("template", "created_too_big", tmpl(created_ms=2**63), "created_ms: 9223372036854775808 exceeds")


def main():
    for kind in KINDS:
        shutil.rmtree(os.path.join(HERE, kind), ignore_errors=True)
    gen_job()
    gen_msg()
    gen_result()
    gen_frame()
    gen_template()
    print("wrote vectors under", HERE, file=sys.stderr)


if __name__ == "__main__":
    main()
