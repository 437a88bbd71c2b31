"""swref.py: independent numpy readers for the test suite.

Written from the format descriptions (safetensors' spec, src/chunk.h,
src/quant.h), sharing no code with the C implementation, so the tests compare
two implementations of each format. Run with /usr/bin/python3 (Debian's numpy).
"""
import hashlib
import json
import os
import struct

import numpy as np

CHUNK_DTYPES = {0: "f32", 1: "f16", 2: "q8", 3: "q4"}
QK = 32


def read_safetensors(folder):
    """Returns {hf_name: float32 array} from model.safetensors or its shards."""
    index = os.path.join(folder, "model.safetensors.index.json")
    single = os.path.join(folder, "model.safetensors")
    files = [single] if os.path.exists(single) else sorted(
        {os.path.join(folder, f) for f in json.load(open(index))["weight_map"].values()})
    out = {}
    for path in files:
        raw = open(path, "rb").read()
        (n,) = struct.unpack_from("<Q", raw, 0)
        header = json.loads(raw[8:8 + n])
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            buf = raw[base + b:base + e]
            shape = info["shape"]
            if info["dtype"] == "F32":
                a = np.frombuffer(buf, dtype="<f4")
            elif info["dtype"] == "F16":
                a = np.frombuffer(buf, dtype="<f2").astype(np.float32)
            elif info["dtype"] == "BF16":
                a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                raise ValueError("dtype " + info["dtype"])
            out[name] = a.reshape(shape).astype(np.float32)
    return out


def dequantize(dtype, raw, rows, cols):
    """Decodes a chunk tensor's bytes to a float32 [rows, cols] array."""
    if dtype == "f32":
        return np.frombuffer(raw, dtype="<f4").reshape(rows, cols).copy()
    if dtype == "f16":
        return np.frombuffer(raw, dtype="<f2").astype(np.float32).reshape(rows, cols)
    nb = rows * cols // QK
    bsize = 32 if dtype == "q8" else 16
    blocks = np.frombuffer(raw, dtype=np.uint8, count=nb * bsize).reshape(nb, bsize)
    scales = np.frombuffer(raw, dtype="<f2", count=nb, offset=nb * bsize).astype(np.float32)
    if dtype == "q8":
        q = blocks.view(np.int8).astype(np.float32)
    else:
        lo = (blocks & 0x0F).astype(np.float32) - 8.0  # weights 0..15 of the block
        hi = (blocks >> 4).astype(np.float32) - 8.0    # weights 16..31
        q = np.concatenate([lo, hi], axis=1)
    return (q * scales[:, None]).reshape(rows, cols)


def read_chunk(path):
    """Parses a .swc file; returns (header dict, {name: (dtype, float32 array)})."""
    raw = open(path, "rb").read()
    magic, version, role, layer, n, hsize, fsize = struct.unpack_from("<4sIIiIIQ", raw, 0)
    assert magic == b"SWCK", path
    assert fsize == len(raw), path
    tensors = {}
    for i in range(n):
        e = 32 + 64 * i
        name = raw[e:e + 32].split(b"\0")[0].decode()
        dt, rows, cols, _res, off, nbytes = struct.unpack_from("<IIIIQQ", raw, e + 32)
        assert off % 64 == 0 and off + nbytes <= len(raw)
        dtype = CHUNK_DTYPES[dt]
        tensors[name] = (dtype, dequantize(dtype, raw[off:off + nbytes], rows, cols))
    return {"version": version, "role": role, "layer": layer, "header_size": hsize}, tensors


LAYER_HF = {
    "attn_norm": "model.layers.{}.input_layernorm.weight",
    "q": "model.layers.{}.self_attn.q_proj.weight",
    "k": "model.layers.{}.self_attn.k_proj.weight",
    "v": "model.layers.{}.self_attn.v_proj.weight",
    "o": "model.layers.{}.self_attn.o_proj.weight",
    "ffn_norm": "model.layers.{}.post_attention_layernorm.weight",
    "gate": "model.layers.{}.mlp.gate_proj.weight",
    "up": "model.layers.{}.mlp.up_proj.weight",
    "down": "model.layers.{}.mlp.down_proj.weight",
}
EMBED_HF = {"embed": "model.embed_tokens.weight", "norm": "model.norm.weight", "head": "lm_head.weight"}


def read_model_dir(folder, verify_hashes=True):
    """Reads a chunker output folder; returns (manifest, {hf_name: (dtype, array)}).
    Checks every file's size and SHA-256 (hashlib) against the manifest."""
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    weights = {}
    for f in manifest["files"]:
        path = os.path.join(folder, f["path"])
        data = open(path, "rb").read()
        assert len(data) == f["bytes"], (path, len(data), f["bytes"])
        if verify_hashes:
            assert hashlib.sha256(data).hexdigest() == f["sha256"], path
        if f["role"] == "tokenizer":
            continue
        _hdr, tensors = read_chunk(path)
        for name, (dtype, a) in tensors.items():
            hf = LAYER_HF[name].format(f["layer"]) if f["role"] == "layer" else EMBED_HF[name]
            weights[hf] = (dtype, a.reshape(-1) if a.shape[0] == 1 and "norm" in name else a)
    return manifest, weights
