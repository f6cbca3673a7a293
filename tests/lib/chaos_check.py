#!/usr/bin/env python3
"""Test helper for the chaos tests: checks every job c0..c{N-1} of a run against Redis.

  chaos_check.py SOCK N [JOB,...]
For each job: a result exists with state succeeded; its output stream has exactly one final
event; every attempt seen in the stream starts with its `claimed` event (a re-run is always
visible); once an attempt's `claimed` event is in the stream, no message of an older attempt
follows (fencing); the result's attempt is the newest attempt and its output holds `job-<i>`
(except for the listed jobs, whose output may have been produced while Redis was away: output
is best effort, results are not).
Prints a summary line (jobs, re-runs, max attempt) and one line per problem; exit 1 on any.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis_msgs as rm  # noqa: E402

FINAL = {"succeeded", "failed", "timed_out", "cancelled", "dead"}


def main():
    sock_path, n = sys.argv[1], int(sys.argv[2])
    optional = set(sys.argv[3].split(",")) if len(sys.argv) > 3 else set()
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    r = rm.Reader(s)
    problems, reruns, max_attempt = [], 0, 0
    for i in range(n):
        jid = "c%d" % i
        rm.resp_cmd(s, "GET", "corral:{q}:result:" + jid)
        raw = r.read()
        if raw is None:
            problems.append("%s: no result" % jid)
            continue
        res, _ = rm.mp_decode(raw)
        rm.resp_cmd(s, "XRANGE", "corral:{q}:out:" + jid, "-", "+")
        msgs = [rm.mp_decode(dict(zip(f[::2], f[1::2]))[b"m"])[0] for _, f in r.read() or []]
        if res.get("state") != "succeeded":
            problems.append("%s: state %s (%s)" % (jid, res.get("state"), res.get("reason")))
        finals = [m for m in msgs if m.get("t") == "event" and m.get("state") in FINAL]
        if len(finals) != 1:
            problems.append("%s: %d final events" % (jid, len(finals)))
        newest, claimed = 0, set()
        for m in msgs:
            a = m.get("attempt", 0)
            if m.get("t") == "event" and m.get("state") == "claimed":
                claimed.add(a)
                if a <= newest:
                    problems.append("%s: claimed attempt %d after attempt %d" % (jid, a, newest))
                newest = max(newest, a)
            elif a < newest:
                problems.append("%s: attempt %d wrote after attempt %d was claimed"
                                % (jid, a, newest))
            elif a not in claimed:
                problems.append("%s: attempt %d has no claimed event" % (jid, a))
        if res.get("attempt") != newest:
            problems.append("%s: result attempt %s, newest attempt %d"
                            % (jid, res.get("attempt"), newest))
        data = b"".join(m.get("data") or b"" for m in msgs
                        if m.get("t") == "out" and m.get("attempt") == newest)
        if ("job-%d" % i).encode() not in data and jid not in optional:
            problems.append("%s: output of the final attempt is %r" % (jid, data[:80]))
        reruns += len(claimed) - 1 if claimed else 0
        max_attempt = max(max_attempt, newest)
    print("jobs=%d reruns=%d max_attempt=%d problems=%d" % (n, reruns, max_attempt, len(problems)))
    for p in problems[:50]:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
