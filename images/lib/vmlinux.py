#!/usr/bin/python3
"""vmlinux.py BZIMAGE OUT: extracts the uncompressed ELF kernel from an x86 bzImage.

The boot protocol header (Documentation/x86/boot.rst) gives the exact place of the compressed
payload: the protected-mode part starts after (setup_sects + 1) * 512 bytes, and payload_offset /
payload_length (at 0x248 / 0x24c) locate the compressed vmlinux inside it. The format is told by
its magic; the kernel appends the uncompressed size as a little-endian u32 at the payload's end,
which we check the result against. QEMU boots the resulting ELF through PVH (-kernel vmlinux).
It does not guess: an unknown format or a size mismatch is an error.
"""
import gzip
import lzma
import struct
import subprocess
import sys

MAGICS = [
    (b"\x02\x21\x4c\x18", "lz4"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\x5d\x00\x00", "lzma"),
]


def decompress(fmt, data, want):
    if fmt == "gzip":
        return gzip.decompress(data)
    if fmt in ("xz", "lzma"):
        d = lzma.LZMADecompressor(lzma.FORMAT_XZ if fmt == "xz" else lzma.FORMAT_ALONE)
        return d.decompress(data, max_length=want + 1)
    tool = {"lz4": ["lz4", "-dc"], "zstd": ["zstd", "-dcq"], "bzip2": ["bzip2", "-dc"]}[fmt]
    # The lz4 tool reads the kernel's trailing size word as one more legacy block and complains;
    # the size check below is what decides.
    p = subprocess.run(tool, input=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.stdout


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: vmlinux.py BZIMAGE OUT")
    img = open(sys.argv[1], "rb").read()
    if img[0x202:0x206] != b"HdrS":
        sys.exit("vmlinux.py: %s is not a bzImage (no HdrS)" % sys.argv[1])
    setup_sects = img[0x1F1] or 4
    off, length = struct.unpack_from("<II", img, 0x248)
    start = (setup_sects + 1) * 512 + off
    payload = img[start:start + length]
    if len(payload) != length or length < 8:
        sys.exit("vmlinux.py: payload out of bounds")
    (want,) = struct.unpack_from("<I", payload, length - 4)
    fmt = next((name for magic, name in MAGICS if payload.startswith(magic)), None)
    if not fmt:
        sys.exit("vmlinux.py: unknown payload magic %s" % payload[:6].hex())
    out = decompress(fmt, payload, want)
    if len(out) < want or out[:4] != b"\x7fELF":
        sys.exit("vmlinux.py: %s payload gave %d bytes, want %d (ELF)" % (fmt, len(out), want))
    out = out[:want]
    with open(sys.argv[2], "wb") as f:
        f.write(out)
    print(fmt)


main()
