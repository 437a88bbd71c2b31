"""Writes small valid GGUF files into OUT/fuzz_gguf/ as seeds for fuzz/fuzz_gguf.c:
a llama header with tokenizer metadata and one small tensor of every type the
reader dequantizes, and a file using every metadata value type (nested
arrays included) with alignment 64.

    /usr/bin/python3 tests/make_gguf_seeds.py OUT
"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_ggml import TYPES, gguf_bytes, gguf_string, kv_str, kv_u32, random_tensor  # noqa: E402


def kv_f32(key, v):
    return (key, 6, struct.pack("<f", v))


def kv_arr(key, elem_type, items):
    if elem_type == 8:
        payload = b"".join(gguf_string(s) for s in items)
    else:
        payload = b"".join(struct.pack("<i", v) for v in items)
    return (key, 9, struct.pack("<IQ", elem_type, len(items)) + payload)


def llama_seed(rng):
    kvs = [kv_str("general.architecture", "llama"), kv_str("general.name", "seed"),
           kv_u32("llama.context_length", 64), kv_u32("llama.embedding_length", 64),
           kv_u32("llama.block_count", 1), kv_u32("llama.feed_forward_length", 128),
           kv_u32("llama.attention.head_count", 4), kv_u32("llama.attention.head_count_kv", 2),
           kv_u32("llama.rope.dimension_count", 16), kv_f32("llama.rope.freq_base", 10000.0),
           kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5),
           kv_str("tokenizer.ggml.model", "gpt2"),
           kv_arr("tokenizer.ggml.tokens", 8, ["<s>", "a", "b", "ab"]),
           kv_arr("tokenizer.ggml.token_type", 5, [3, 1, 1, 1]),
           kv_arr("tokenizer.ggml.merges", 8, ["a b"]),
           kv_u32("tokenizer.ggml.bos_token_id", 0)]
    tensors = []
    for t, (name, blck, size) in TYPES.items():
        n = 256 if blck == 256 else 32
        tensors.append(("t." + name.lower(), [n], t, random_tensor(rng, t, n)))
    tensors.append(("blk.0.attn_q.weight", [32, 4], 0, random_tensor(rng, 0, 128)))
    return gguf_bytes(3, kvs, tensors)


def value_types_seed():
    kvs = [kv_u32("general.alignment", 64),
           ("u8", 0, b"\x07"), ("i8", 1, b"\xff"), ("u16", 2, b"\x01\x02"), ("i16", 3, b"\xfe\xff"),
           ("i32", 5, struct.pack("<i", -3)), ("f64", 12, struct.pack("<d", 2.5)), ("b", 7, b"\x01"),
           ("u64", 10, struct.pack("<Q", 1 << 40)), ("i64", 11, struct.pack("<q", -9)),
           ("nested", 9, struct.pack("<IQ", 9, 2) + struct.pack("<IQ", 7, 2) + b"\x01\x00"
            + struct.pack("<IQ", 8, 1) + gguf_string("x"))]
    return gguf_bytes(2, kvs, [("v", [2, 2], 1, bytes(8))], 64)


def main():
    out = os.path.join(sys.argv[1], "fuzz_gguf")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    for name, data in (("llama.gguf", llama_seed(rng)), ("values.gguf", value_types_seed())):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
