"""Writes small valid inputs for the fuzzers into OUT/<fuzz target>/.
Each seed is built here from the format descriptions, so the fuzzers start
from inputs that pass the parsers and mutate from there."""
import json
import os
import struct
import sys

out = sys.argv[1]


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def chunk(role, layer, tensors):
    """tensors: [(name, dtype, rows, cols, nbytes)] -> a valid .swc"""
    n = len(tensors)
    hsize = (32 + 64 * n + 63) // 64 * 64
    off, entries, body = hsize, b"", b""
    for name, dt, rows, cols, nbytes in tensors:
        off = (off + 63) // 64 * 64
        entries += name.encode().ljust(32, b"\0") + struct.pack("<IIIIQQ", dt, rows, cols, 0, off, nbytes)
        off += nbytes
    header = b"SWCK" + struct.pack("<IIiIIQ", 1, role, layer, n, hsize, off) + entries
    data = bytearray(header.ljust(hsize, b"\0"))
    pos = hsize
    for name, dt, rows, cols, nbytes in tensors:
        pad = (pos + 63) // 64 * 64
        data += b"\0" * (pad - pos) + bytes((i * 7) & 0xFF for i in range(nbytes))
        pos = pad + nbytes
    return bytes(data)


def q4(r, c):
    return r * c // 32 * 18


put("fuzz_chunk", "layer", chunk(2, 0, [
    ("attn_norm", 0, 1, 64, 256), ("q", 3, 64, 64, q4(64, 64)), ("k", 3, 32, 64, q4(32, 64)),
    ("v", 3, 32, 64, q4(32, 64)), ("o", 3, 64, 64, q4(64, 64)), ("ffn_norm", 0, 1, 64, 256),
    ("gate", 3, 128, 64, q4(128, 64)), ("up", 3, 128, 64, q4(128, 64)), ("down", 3, 64, 128, q4(64, 128))]))
put("fuzz_chunk", "embedding", chunk(1, -1, [("embed", 2, 256, 64, 256 * 2 * 34), ("norm", 0, 1, 64, 256)]))
put("fuzz_chunk", "f16", chunk(1, -1, [("embed", 1, 4, 8, 64), ("norm", 0, 1, 8, 32)]))

# safetensors: a small F32 / F16 / BF16 file
hdr = {"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
       "b": {"dtype": "F16", "shape": [4], "data_offsets": [24, 32]},
       "c": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [32, 40]},
       "__metadata__": {"format": "pt"}}
h = json.dumps(hdr).encode()
h += b" " * ((8 - len(h) % 8) % 8)
put("fuzz_safetensors", "small", struct.pack("<Q", len(h)) + h + bytes(range(40)))

src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
ex = os.path.join(src, "manifest", "examples")
if os.path.isdir(ex):
    for f in os.listdir(ex):
        if f.endswith(".json"):
            put("fuzz_manifest", f, open(os.path.join(ex, f), "rb").read())

shared = os.environ.get("SMOLWEB_SHARED", os.path.join(src, "..", "shared"))
cfg = os.path.join(shared, "models", "smollm2-135m-instruct", "config.json")
if os.path.exists(cfg):
    put("fuzz_hf_config", "config.json", open(cfg, "rb").read())
