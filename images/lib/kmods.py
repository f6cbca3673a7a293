#!/usr/bin/python3
"""kmods.py MODDIR OUTDIR NAME...: picks the kernel modules the guest agent loads.

MODDIR is lib/modules/<version> of the extracted kernel package. For each wanted NAME it skips
what modules.builtin says is built in, follows the "depends=" of each module's .modinfo section
(what depmod writes into modules.dep) and copies the .ko files, decompressed if the package ships
them compressed, into OUTDIR, with OUTDIR/corral.list naming them in load order (dependencies
first). The agent loads exactly that list; nothing is resolved in the guest.
Module signatures are stripped: the kernel does not enforce them (MODULE_SIG_FORCE is off), the
host builds and controls the whole initramfs anyway, and checking six RSA signatures under TCG
cost ~140 ms of a ~330 ms module load (measured, images/README.md).
"""
import lzma
import os
import struct
import sys
import zlib


def norm(name):
    return name.replace("-", "_")


def index(moddir):
    found = {}
    for root, _, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            base = f
            for ext in (".xz", ".zst", ".gz"):
                if base.endswith(ext):
                    base = base[: -len(ext)]
            if base.endswith(".ko"):
                found[norm(base[:-3])] = os.path.join(root, f)
    builtin = set()
    path = os.path.join(moddir, "modules.builtin")
    if os.path.exists(path):
        for line in open(path):
            builtin.add(norm(os.path.basename(line.strip())[: -len(".ko")]))
    return found, builtin


def read_ko(path):
    data = open(path, "rb").read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return zlib.decompress(data, 16 + zlib.MAX_WBITS)
    if path.endswith(".zst"):
        import subprocess
        return subprocess.run(["zstd", "-dcq"], input=data, stdout=subprocess.PIPE,
                              check=True).stdout
    return data


SIG_MAGIC = b"~Module signature appended~\n"


def strip_signature(ko):
    """Drops an appended module signature: [sig][struct module_signature, 12 bytes][magic]."""
    if not ko.endswith(SIG_MAGIC):
        return ko
    end = len(ko) - len(SIG_MAGIC)
    (sig_len,) = struct.unpack_from(">I", ko, end - 4)
    if sig_len + 12 > end:
        raise ValueError("bad module signature length %d" % sig_len)
    return ko[:end - 12 - sig_len]


def modinfo_depends(ko):
    if ko[:4] != b"\x7fELF" or ko[4] != 2:
        raise ValueError("not an ELF64 module")
    shoff, = struct.unpack_from("<Q", ko, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", ko, 0x3A)

    def sec(i):
        name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", ko, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = sec(shstrndx)
    for i in range(shnum):
        name, off, size = sec(i)
        end = ko.index(b"\0", stroff + name)
        if ko[stroff + name:end] == b".modinfo":
            for item in ko[off:off + size].split(b"\0"):
                if item.startswith(b"depends="):
                    return [norm(d) for d in item[8:].decode().split(",") if d]
            return []
    raise ValueError("no .modinfo section")


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: kmods.py MODDIR OUTDIR NAME...")
    moddir, outdir, wanted = sys.argv[1], sys.argv[2], [norm(n) for n in sys.argv[3:]]
    found, builtin = index(moddir)
    order, state = [], {}

    def visit(name, chain):
        if name in builtin or state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            sys.exit("kmods.py: dependency cycle: %s" % " -> ".join(chain + [name]))
        if name not in found:
            sys.exit("kmods.py: module %s is neither built in nor in %s" % (name, moddir))
        state[name] = "visiting"
        ko = strip_signature(read_ko(found[name]))
        for dep in modinfo_depends(ko):
            visit(dep, chain + [name])
        state[name] = "done"
        order.append((name, ko))

    for name in wanted:
        if name in builtin:
            print("builtin %s" % name)
        visit(name, [])
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "corral.list"), "w") as lst:
        for name, ko in order:
            with open(os.path.join(outdir, name + ".ko"), "wb") as f:
                f.write(ko)
            lst.write(name + ".ko\n")
            print("module %s" % name)


main()
