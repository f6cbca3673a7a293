#!/usr/bin/python3
"""mkcpio.py [--gzip] [--node PATH:MAJOR:MINOR]... STAGEDIR OUT: writes a deterministic initramfs.

newc ("070701") archive of STAGEDIR's tree: entries sorted by path, owner 0:0, every mtime
$SOURCE_DATE_EPOCH, inode numbers in entry order, no hard links; --node adds a character device
(e.g. dev/console:5:1, so PID 1 starts with its console open). With --gzip the stream is gzip'd
with a zero header mtime. Only regular files, directories, symlinks and the given nodes go in.
"""
import gzip
import os
import stat
import sys


def header(ino, mode, nlink, mtime, size, name, rmaj=0, rmin=0):
    fields = [ino, mode, 0, 0, nlink, mtime, size, 0, 0, rmaj, rmin, len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % v for v in fields)


def pad(n):
    return b"\0" * ((4 - n % 4) % 4)


def main():
    args, use_gzip, nodes = sys.argv[1:], False, []
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--gzip":
            use_gzip = True
        elif opt == "--node":
            path, maj, mnr = args.pop(0).rsplit(":", 2)
            nodes.append((path, int(maj), int(mnr)))
        else:
            sys.exit("mkcpio.py: unknown option %s" % opt)
    if len(args) != 2:
        sys.exit(__doc__)
    stage, out = args
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    entries = []
    for root, dirs, files in os.walk(stage):
        for name in dirs + files:
            full = os.path.join(root, name)
            entries.append((os.path.relpath(full, stage), full))
    entries.sort()
    blob = bytearray()
    ino = 1
    allnames = sorted([(rel, full, None) for rel, full in entries] +
                      [(p, None, (mj, mn)) for p, mj, mn in nodes])
    for rel, full, node in allnames:
        name = rel.encode()
        if node:
            hdr = header(ino, stat.S_IFCHR | 0o600, 1, mtime, 0, name, node[0], node[1])
            data = b""
        else:
            st = os.lstat(full)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                hdr, data = header(ino, stat.S_IFDIR | perm, 2, mtime, 0, name), b""
            elif stat.S_ISLNK(st.st_mode):
                data = os.readlink(full).encode()
                hdr = header(ino, stat.S_IFLNK | 0o777, 1, mtime, len(data), name)
            elif stat.S_ISREG(st.st_mode):
                data = open(full, "rb").read()
                hdr = header(ino, stat.S_IFREG | perm, 1, mtime, len(data), name)
            else:
                sys.exit("mkcpio.py: %s: unsupported file type" % rel)
        blob += hdr + name + b"\0"
        blob += pad(len(hdr) + len(name) + 1)
        blob += data + pad(len(data))
        ino += 1
    tname = b"TRAILER!!!"
    hdr = header(0, 0, 1, 0, 0, tname)
    blob += hdr + tname + b"\0" + pad(len(hdr) + len(tname) + 1)
    blob += b"\0" * (-len(blob) % 512)
    with open(out, "wb") as f:
        if use_gzip:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=6) as g:
                g.write(blob)
        else:
            f.write(blob)


main()
