"""Regenerates lib/inspect/testdata (committed; the tests only read it).

    python3 lib/inspect/testdata/make-testdata.py && npx biome format --write lib/inspect/testdata

Everything here is byte manipulation and stdlib compressors (bz2, lzma). Nothing is ever
unpickled: pickletools.genops only *parses* opcodes to find where nested pickles end.
"""
import bz2
import hashlib
import io
import json
import lzma
import os
import pickletools
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "../../../fixtures/registry-basic/artifacts/models"))
PROTO2 = os.path.join(FIXTURES, "candidate_logreg_20250818T074500Z.joblib")  # uncompressed, protocol 2
PROTO5 = os.path.join(FIXTURES, "candidate_logreg_20251007T110000Z.joblib")  # uncompressed, protocol 5

# Stack-neutral payload: push os.system, call it, pop the result.
PAYLOAD = b"cos\nsystem\n(S'echo pwned'\ntR0"


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def corpus():
    """Mixed data: text-like runs, long repeats and incompressible noise (forces LZMA2 stored chunks)."""
    rng = random.Random(20250101)
    words = [b"model", b"pipeline", b"numpy", b"joblib", b"sklearn", b"\x00\x00\x00\x00", b"\xff" * 9]
    parts = []
    for _ in range(9000):
        parts.append(rng.choice(words))
        parts.append(bytes([rng.randrange(256)]))
    parts.append(b"\x00" * 20000)
    parts.append(bytes(rng.randrange(256) for _ in range(20000)))
    parts.append(b"abc" * 9000)
    return b"".join(parts)


def nested_ranges(data):
    """(start, stop_offset) of each nested object-array pickle in a protocol-5 joblib stream."""
    marker = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\n"
    ranges = []
    start = data.find(marker)
    while start >= 0:
        stop = None
        for op, _arg, pos in pickletools.genops(io.BytesIO(data[start:])):
            if op.name == "STOP":
                stop = start + pos
                break
        ranges.append((start, stop))
        start = data.find(marker, stop)
    return ranges


def main():
    data = corpus()
    write("corpus.bin", data)
    write("corpus-9.bz2", bz2.compress(data, 9))
    write("corpus-1.bz2", bz2.compress(data, 1))  # 100 kB blocks: several blocks
    write("corpus-concat.bz2", bz2.compress(data[:50000], 5) + bz2.compress(data[50000:], 5))
    write("corpus.lzma", lzma.compress(data, format=lzma.FORMAT_ALONE))
    write("corpus-crc64.xz", lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64))
    write("corpus-crc32.xz", lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32, preset=9 | lzma.PRESET_EXTREME))
    write("corpus-sha256.xz", lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_SHA256, preset=1))
    write("corpus-none.xz", lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE))
    write(
        "corpus-concat.xz",
        lzma.compress(data[:40000], format=lzma.FORMAT_XZ) + b"\x00" * 8 + lzma.compress(data[40000:], format=lzma.FORMAT_XZ),
    )
    # lc=0 lp=2 pb=0 exercises the position-dependent literal contexts.
    filters = [{"id": lzma.FILTER_LZMA1, "dict_size": 1 << 16, "lc": 0, "lp": 2, "pb": 0}]
    write("corpus-lp2.lzma", lzma.compress(data, format=lzma.FORMAT_ALONE, filters=filters))

    # Decompression bombs: tiny inputs that expand to hundreds of MiB of zeros.
    write("bomb-1gib.bz2", bz2.compress(b"\x00" * (1 << 30), 9))
    zeros = b"\x00" * (256 << 20)
    write("bomb-256mib.xz", lzma.compress(zeros, format=lzma.FORMAT_XZ))
    write("bomb-256mib.lzma", lzma.compress(zeros, format=lzma.FORMAT_ALONE))

    # Real fixtures with an os.system call spliced in where a scanner that stops early would miss it.
    proto2 = open(PROTO2, "rb").read()
    assert proto2.endswith(b".")
    hostile = proto2[:-1] + PAYLOAD + b"."
    write("hostile-proto2.pkl", hostile)
    write("hostile-proto2.pkl.bz2", bz2.compress(hostile))
    write("hostile-proto2.pkl.lzma", lzma.compress(hostile, format=lzma.FORMAT_ALONE))
    write("hostile-proto2.pkl.xz", lzma.compress(hostile, format=lzma.FORMAT_XZ))

    proto5 = open(PROTO5, "rb").read()
    ranges = nested_ranges(proto5)
    first_start, first_stop = ranges[0]
    last_start, last_stop = ranges[-1]
    write("hostile-in-nested.joblib", proto5[:first_stop] + PAYLOAD + proto5[first_stop:])
    write("hostile-after-arrays.joblib", proto5[: last_stop + 1] + PAYLOAD + proto5[last_stop + 1 :])

    manifest = {
        "corpus_sha256": hashlib.sha256(data).hexdigest(),
        "corpus_size": len(data),
        "nested_pickles_in_proto5_fixture": [list(r) for r in ranges],
        "payload": PAYLOAD.decode("ascii"),
    }
    with open(os.path.join(HERE, "testdata.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
