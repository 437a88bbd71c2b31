"""Independent check of a safetensors folder written by sw_safetensors_write.

    ref_safetensors.py MODEL_DIR TRUTH_DIR DTYPE

MODEL_DIR holds model.safetensors, or model-0000i-of-0000N.safetensors plus
model.safetensors.index.json. TRUTH_DIR holds <tensor name>.f32: the exact f32
values the writer was given. DTYPE (F32, F16, BF16) is what every tensor must
be stored as. Parses the files with its own reader (json + numpy), checks the
layout rules of the format (8-byte header padding, "format": "pt" metadata,
contiguous data exactly filling the file, the index's weight_map and
total_size) and that every stored value is the truth rounded to nearest even,
computed here independently of the C code (numpy's float16 cast; bfloat16 by
choosing the nearer of the two neighbouring bf16 values in float64).
Exits non-zero with a message on the first problem."""
import json
import os
import struct
import sys

import numpy as np


def fail(msg):
    print("ref_safetensors: " + msg, file=sys.stderr)
    sys.exit(1)


def read_file(path):
    raw = open(path, "rb").read()
    if len(raw) < 8:
        fail(f"{path}: shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if n % 8 or 8 + n > len(raw):
        fail(f"{path}: header length {n} not a multiple of 8 or beyond the file")
    text = raw[8:8 + n].decode("utf-8")
    if not text.rstrip(" ").endswith("}"):
        fail(f"{path}: header padding is not spaces")
    header = json.loads(text)
    if header.pop("__metadata__", None) != {"format": "pt"}:
        fail(f"{path}: __metadata__ is not {{'format': 'pt'}}")
    data = raw[8 + n:]
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    pos = 0
    for b, e, k in spans:
        if b != pos:
            fail(f"{path}: tensor {k} starts at {b}, expected {pos} (data must be contiguous)")
        pos = e
    if pos != len(data):
        fail(f"{path}: tensors cover {pos} bytes but the data section is {len(data)}")
    return header, data


def bf16_round(x):
    """Nearest bfloat16 (ties to even) of float32 array x, as uint16 bit patterns."""
    u = x.view(np.uint32)
    lo = (u >> 16).astype(np.uint32)  # truncated toward zero in magnitude
    hi = lo + 1                        # next larger magnitude, same sign
    vlo = (lo << 16).view(np.float32).astype(np.float64)
    vhi = (hi << 16).view(np.float32).astype(np.float64)
    xd = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        dlo, dhi = np.abs(xd - vlo), np.abs(vhi - xd)
    pick_hi = (dhi < dlo) | ((dhi == dlo) & (lo % 2 == 1))
    return np.where(pick_hi, hi, lo).astype(np.uint16)


def main():
    model, truth_dir, dtype = sys.argv[1], sys.argv[2], sys.argv[3]
    esize = {"F32": 4, "F16": 2, "BF16": 2}[dtype]
    single = os.path.join(model, "model.safetensors")
    files = {}
    if os.path.exists(single):
        files["model.safetensors"] = read_file(single)
        where = {k: "model.safetensors" for k in files["model.safetensors"][0]}
    else:
        index = json.load(open(os.path.join(model, "model.safetensors.index.json")))
        where = index["weight_map"]
        for name in sorted(set(where.values())):
            files[name] = read_file(os.path.join(model, name))
        shards = sorted(files)
        n = len(shards)
        if shards != [f"model-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1)]:
            fail(f"shard names {shards}")
        total = sum(e - b for h, _ in files.values() for b, e in (v["data_offsets"] for v in h.values()))
        if index["metadata"]["total_size"] != total:
            fail(f"total_size {index['metadata']['total_size']} != {total}")
        listed = sorted(k for h, _ in files.values() for k in h)
        if listed != sorted(where):
            fail("the shards' tensors differ from the weight_map")
    truth_names = sorted(f[:-4] for f in os.listdir(truth_dir) if f.endswith(".f32"))
    if sorted(where) != truth_names:
        fail(f"tensors {sorted(where)} differ from the truth {truth_names}")
    checksum = 0.0
    for name in truth_names:
        header, data = files[where[name]]
        t = header[name]
        if t["dtype"] != dtype:
            fail(f"{name}: dtype {t['dtype']}, expected {dtype}")
        truth = np.fromfile(os.path.join(truth_dir, name + ".f32"), dtype="<f4")
        if int(np.prod(t["shape"])) != truth.size:
            fail(f"{name}: shape {t['shape']} holds {np.prod(t['shape'])} values, truth has {truth.size}")
        b, e = t["data_offsets"]
        if e - b != truth.size * esize:
            fail(f"{name}: {e - b} bytes for {truth.size} values")
        raw = data[b:e]
        if dtype == "F32":
            got, want = np.frombuffer(raw, "<u4"), truth.view(np.uint32)
            values = np.frombuffer(raw, "<f4")
        elif dtype == "F16":
            with np.errstate(over="ignore"):  # 65520 and up round to inf, as they should
                want = truth.astype(np.float16).view(np.uint16)
            got = np.frombuffer(raw, "<u2")
            values = np.frombuffer(raw, "<f2").astype(np.float32)
        else:
            got, want = np.frombuffer(raw, "<u2"), bf16_round(truth)
            values = (got.astype(np.uint32) << 16).view(np.float32)
        bad = np.nonzero(got != want)[0]
        if bad.size:
            i = bad[0]
            fail(f"{name}: {bad.size} values differ; first at {i}: stored 0x{got[i]:x}, "
                 f"expected 0x{want[i]:x} for {truth[i]!r}")
        finite = values[np.isfinite(values)]
        checksum += float(np.sum(finite.astype(np.float64)))
    print(f"ref_safetensors: {os.path.basename(model)}: {len(truth_names)} tensors in {len(files)} file(s) "
          f"match ({dtype}, checksum {checksum:.6f})")


if __name__ == "__main__":
    main()
