#!/usr/bin/env python3
"""Writes fuzz/seeds/board_ops/: real board images (4 KiB arena, depth 4, as
fuzz_targets/board_ops.rs creates) in that target's input format, each with
an operation sequence. Run from the repository root after
`cargo build -p shm-clip-cli`; see fuzz/README.md."""
import os
import struct
import subprocess

B = os.environ.get("SHM_CLIP", "target/debug/shm-clip")
OUT = "fuzz/seeds/board_ops"
BOARD = "fuzzseed-ops"
UID = os.geteuid()
PATH = f"/dev/shm/shm-clip.{UID}.{BOARD}"

# Operation bytes, as `run` in fuzz_targets/board_ops.rs decodes them.
COPY, PASTE, GET, GET_TYPE, TYPES, HISTORY, STATUS, SELECT, PIN, DELETE, \
    CLEAR, SUBSCRIBE, TRY_RECV, DIE, REAP, POKE = 0, 2, 3, 4, 5, 6, 7, 8, 9, \
    10, 11, 12, 13, 14, 15, 16
CURRENT, INDEX1, LISTED0 = 0, 1 + 4 * 1, 3


def cli(*args, data=None):
    subprocess.run([B, *args], input=data, check=True, stdout=subprocess.DEVNULL)


def image():
    b = open(PATH, "rb").read()
    # Offsets and sizes as LAYOUT.md (version 4) gives them.
    index, = struct.unpack_from("<Q", b, 96)
    slots, slot_size = struct.unpack_from("<II", b, 104)
    arena, size = struct.unpack_from("<QQ", b, 112)
    buckets, = struct.unpack_from("<I", b, 140)
    buckets_at, = struct.unpack_from("<Q", b, 144)
    # Index, arena, the header from seq (256) on, the dedup buckets; the
    # subscriber table is left out (zero: no subscribers).
    return (b[index:index + slots * slot_size] + b[arena:arena + size]
            + b[256:384] + b[buckets_at:buckets_at + buckets * 4])


def seed(name, img, ops, mask=0):
    data = bytes([mask]) + struct.pack("<H", len(img)) + img + bytes(ops)
    open(os.path.join(OUT, name), "wb").write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    cli("--board", BOARD, "destroy", "--force") if os.path.exists(PATH) else None
    create = ["--board", BOARD, "copy", "--capacity", "4096", "--depth", "4"]
    cli(*create, "hello")
    cli("--board", BOARD, "copy", "-t", "text/html", data=b"<b>hello</b>" * 20)
    cli("--board", BOARD, "copy", "x" * 900)
    cli("--board", BOARD, "pin", "2")
    full = image()
    cli("--board", BOARD, "rm", "1")
    holed = image()
    cli("--board", BOARD, "destroy", "--force")

    every = [COPY, 1, 20, 0, PASTE, GET, INDEX1, GET_TYPE, CURRENT, 1,
             TYPES, LISTED0, HISTORY, STATUS, SELECT, LISTED0, PIN, LISTED0, 1,
             SUBSCRIBE, COPY, 2, 30, 4, TRY_RECV, SUBSCRIBE, DELETE, INDEX1,
             CLEAR, 0, REAP, HISTORY]
    seed("every-op", full, every)
    # A clip that fits in total (2880 of 3040 free bytes) but in no hole
    # (304 and 2736): compaction moves.
    seed("compaction", holed, [COPY, 3, 192 + 39, 0, HISTORY, PASTE])
    # Large clips until the oldest go: eviction; then one too large.
    seed("eviction", full, [COPY, 4, 192 + 30, 0, COPY, 5, 192 + 30, 0,
                            COPY, 6, 255, 0, HISTORY])
    # The same clip twice: the second is moved to the front.
    seed("dedup", full, [COPY, 7, 40, 0, COPY, 1, 50, 0, COPY, 7, 40, 0,
                         HISTORY, GET, LISTED0])
    # A holder dies with the lock: the next operation repairs.
    seed("repair", full, [DIE, HISTORY, COPY, 1, 10, 0, DIE, DIE, PASTE])
    # A forged length in slot 0 with its checksum recomputed.
    seed("forged-len", full, [POKE, 48, 0, 8, 1] + [0xff] * 8 + [HISTORY,
                              PASTE, COPY, 2, 200, 0, STATUS])
    seed("forged-checksummed", holed, [HISTORY, PASTE, GET, INDEX1], mask=0x0f)
    seed("empty", b"", [COPY, 0, 5, 0, PASTE, HISTORY])


main()
