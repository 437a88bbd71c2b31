"""An independent reference for ggml's block formats and the GGUF container,
written from the format descriptions with numpy (vectorised over blocks, not
a transcription of the C reader).

    /usr/bin/python3 tests/ref_ggml.py OUT_DIR [SEED]

writes OUT_DIR/dequant_v3.gguf (alignment 64) and OUT_DIR/dequant_v2.gguf
(default alignment 32), each holding one tensor of random blocks per
supported type, and OUT_DIR/<tensor name>.f32: the expected f32 values
(little-endian), dequantized here. tests/test_gguf_dequant.c compares the C
reader against them.
"""
import os
import struct
import sys

import numpy as np

F32 = np.float32

# ggml type id -> (name, elements per block, bytes per block)
TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 30: ("BF16", 1, 2),
    2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210),
}


def f16(b, lo):
    """Little-endian f16 at byte lo of every block row -> f32 column."""
    return b[:, lo:lo + 2].copy().view("<f2").astype(F32)[:, 0]


def nibbles32(qs):
    """16 bytes per block -> 32 values: weights 0..15 low nibbles, 16..31 high."""
    return np.concatenate([qs & 15, qs >> 4], axis=1).astype(F32)


def fifth_bits(qh_bytes):
    """4 bytes (a little-endian u32) per block -> 32 bits, bit i for weight i."""
    qh = qh_bytes.copy().view("<u4")[:, 0]
    return ((qh[:, None] >> np.arange(32, dtype=np.uint32)) & 1).astype(F32)


def k_scales(s):
    """12 packed bytes per K-quant block -> (8 scales, 8 mins), 6 bits each."""
    s = s.astype(np.uint8)
    sc = np.empty((s.shape[0], 8), np.uint8)
    mn = np.empty((s.shape[0], 8), np.uint8)
    sc[:, :4] = s[:, 0:4] & 63
    mn[:, :4] = s[:, 4:8] & 63
    sc[:, 4:] = (s[:, 8:12] & 15) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc.astype(F32), mn.astype(F32)


def dequant(type_id, raw):
    name, blck, size = TYPES[type_id]
    b = np.frombuffer(raw, np.uint8).reshape(-1, size)
    if name == "F32":
        return b.copy().view("<f4").reshape(-1)
    if name == "F16":
        return b.copy().view("<f2").astype(F32).reshape(-1)
    if name == "BF16":
        return (b.copy().view("<u2").astype(np.uint32) << 16).view("<f4").reshape(-1)
    if name == "Q4_0":
        return ((nibbles32(b[:, 2:18]) - F32(8)) * f16(b, 0)[:, None]).reshape(-1)
    if name == "Q4_1":
        return (nibbles32(b[:, 4:20]) * f16(b, 0)[:, None] + f16(b, 2)[:, None]).reshape(-1)
    if name == "Q5_0":
        q = nibbles32(b[:, 6:22]) + F32(16) * fifth_bits(b[:, 2:6])
        return ((q - F32(16)) * f16(b, 0)[:, None]).reshape(-1)
    if name == "Q5_1":
        q = nibbles32(b[:, 8:24]) + F32(16) * fifth_bits(b[:, 4:8])
        return (q * f16(b, 0)[:, None] + f16(b, 2)[:, None]).reshape(-1)
    if name == "Q8_0":
        return (b[:, 2:34].copy().view(np.int8).astype(F32) * f16(b, 0)[:, None]).reshape(-1)
    if name in ("Q4_K", "Q5_K"):
        d, dmin = f16(b, 0), f16(b, 2)
        sc, mn = k_scales(b[:, 4:16])
        qs = b[:, 16:144] if name == "Q4_K" else b[:, 48:176]
        qs = qs.reshape(-1, 4, 32)
        # sub-block 2g: low nibbles of qs group g; sub-block 2g+1: high nibbles
        q = np.stack([qs & 15, qs >> 4], axis=2).reshape(-1, 8, 32).astype(F32)
        if name == "Q5_K":
            qh = b[:, 16:48]
            hb = (qh[:, None, :] >> np.arange(8, dtype=np.uint8)[None, :, None]) & 1  # [block, sub-block, l]
            q = q + F32(16) * hb.astype(F32)
        scale = (d[:, None] * sc)[:, :, None]
        offset = (dmin[:, None] * mn)[:, :, None]
        return (scale * q - offset).reshape(-1)
    if name == "Q6_K":
        ql, qh = b[:, 0:128], b[:, 128:192]
        sc = b[:, 192:208].copy().view(np.int8).astype(F32)
        d = f16(b, 208)
        out = np.empty((b.shape[0], 256), F32)
        for h in range(2):
            lq, hq = ql[:, 64 * h:64 * h + 64], qh[:, 32 * h:32 * h + 32]
            for k in range(4):
                src = lq[:, 32 * (k & 1):32 * (k & 1) + 32]
                low = src & 15 if k < 2 else src >> 4
                high = (hq >> (2 * k)) & 3
                q = (low | (high << 4)).astype(F32) - F32(32)
                n = 128 * h + 32 * k + np.arange(32)
                out[:, n] = (d[:, None] * sc[:, n // 16]) * q
        return out.reshape(-1)
    raise ValueError(name)


# ---- random blocks ----

def random_f16(rng, n, lo=-12, hi=0):
    """Finite f16 values with random sign and magnitudes 2^lo..2^hi, some subnormal."""
    v = (rng.choice([-1.0, 1.0], n) * np.exp2(rng.uniform(lo, hi, n))).astype(np.float16)
    v[rng.random(n) < 0.05] = np.float16(rng.integers(1, 1024) * 2.0 ** -24)  # subnormals
    return v.view(np.uint8).reshape(n, 2)


def random_tensor(rng, type_id, count):
    name, blck, size = TYPES[type_id]
    nb = count // blck
    if name == "F32":
        return rng.standard_normal(count).astype("<f4").tobytes()
    if name == "F16":
        u = rng.integers(0, 65536, count, dtype=np.uint32).astype(np.uint16)
        u[(u & 0x7C00) == 0x7C00] &= 0xBFFF  # no inf/NaN
        return u.astype("<u2").tobytes()
    if name == "BF16":
        u = rng.integers(0, 65536, count, dtype=np.uint32).astype(np.uint16)
        u[(u & 0x7F80) == 0x7F80] &= 0xBFFF
        return u.astype("<u2").tobytes()
    b = rng.integers(0, 256, (nb, size), dtype=np.uint16).astype(np.uint8)
    # the f16 scale fields: finite values
    fields = {"Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
              "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}[name]
    for off in fields:
        b[:, off:off + 2] = random_f16(rng, nb)
    return b.tobytes()


# ---- a minimal GGUF writer ----

def gguf_string(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(s)) + s


def gguf_bytes(version, kvs, tensors, alignment=32):
    """kvs: [(key, type_id, payload bytes)]; tensors: [(name, [ne...], type_id, raw bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, t, payload in kvs:
        out += gguf_string(key) + struct.pack("<I", t) + payload
    offset, offsets = 0, []
    for name, ne, t, raw in tensors:
        offsets.append(offset)
        out += gguf_string(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne)
        out += struct.pack("<IQ", t, offset)
        offset = (offset + len(raw) + alignment - 1) // alignment * alignment
    out += b"\0" * (-len(out) % alignment)
    start = len(out)
    for (name, ne, t, raw), off in zip(tensors, offsets):
        out += b"\0" * (start + off - len(out)) + raw
    return out + b"\0" * (-len(out) % alignment)


def kv_str(key, s):
    return (key, 8, gguf_string(s))


def kv_u32(key, v):
    return (key, 4, struct.pack("<I", v))


def main():
    out = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1234
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    ne = [512, 3]  # two K-quant super-blocks per row
    tensors = []
    for t, (name, blck, size) in TYPES.items():
        raw = random_tensor(rng, t, ne[0] * ne[1])
        want = dequant(t, raw)
        assert want.size == ne[0] * ne[1] and want.dtype == F32
        tname = "t_" + name.lower()
        tensors.append((tname, ne, t, raw))
        want.astype("<f4").tofile(os.path.join(out, tname + ".f32"))
    kvs = [kv_str("general.architecture", "refcheck")]
    with open(os.path.join(out, "dequant_v3.gguf"), "wb") as f:
        f.write(gguf_bytes(3, kvs + [kv_u32("general.alignment", 64)], tensors, 64))
    with open(os.path.join(out, "dequant_v2.gguf"), "wb") as f:
        f.write(gguf_bytes(2, kvs, list(reversed(tensors))))


if __name__ == "__main__":
    main()
