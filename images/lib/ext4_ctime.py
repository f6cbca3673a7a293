#!/usr/bin/python3
"""ext4_ctime.py IMAGE EPOCH: sets ctime and atime of every in-use inode of an ext4 image to EPOCH.

`mkfs.ext4 -d DIR` copies each file's times from DIR. ctime is the time of the build, not
something touch(1) can set, and reading a directory after touching it moves its atime (relatime);
e2fsprogs 1.47.0 has no SOURCE_DATE_EPOCH clamp. So after mkfs we list the in-use inodes from
dumpe2fs's per-group free ranges and rewrite both times in one debugfs session. Nothing else in
the image changes; no mount is needed.
"""
import re
import subprocess
import sys


def used_inodes(image):
    out = subprocess.run(["dumpe2fs", image], check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    per_group = int(re.search(r"^Inodes per group:\s+(\d+)", out, re.M).group(1))
    total = int(re.search(r"^Inode count:\s+(\d+)", out, re.M).group(1))
    used = [True] * (total + 1)
    used[0] = False
    groups = 0
    for m in re.finditer(r"^\s+Free inodes: ?(.*)$", out, re.M):
        groups += 1
        for part in m.group(1).split(","):
            part = part.strip()
            if not part:
                continue
            a, _, b = part.partition("-")
            for i in range(int(a), int(b or a) + 1):
                used[i] = False
    if groups * per_group != total:
        sys.exit("ext4_ctime.py: dumpe2fs listed %d groups, expected %d" %
                 (groups, total // per_group))
    return [i for i in range(1, total + 1) if used[i] and (i == 2 or i >= 11)]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    image, epoch = sys.argv[1], int(sys.argv[2])
    script = "".join("sif <%d> ctime 0x%x\nsif <%d> atime 0x%x\n" % (i, epoch, i, epoch)
                     for i in used_inodes(image))
    subprocess.run(["debugfs", "-w", "-f", "-", image], input=script, text=True, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


main()
