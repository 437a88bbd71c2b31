"""ref_forward.py: an independent float64 numpy forward pass of the Llama
architecture as Hugging Face's LlamaForCausalLM computes it (RMSNorm, RoPE in
the rotate-half form, grouped-query attention, SwiGLU, tied head).

  ref_forward.py MODEL --ids 1,2,3 [-n 32] [--stats]

MODEL is a Hugging Face folder (f32/f16/bf16 safetensors) or a smolweb model
folder (chunks, dequantized). Prints JSON: the greedy continuation ids, the
last position's logits summary (top-5 with values, top-2 gap) and, with
--stats, the RMS of the residual stream after each layer.
"""
import argparse
import json
import os

import numpy as np

import swref


def quantize_act(x):
    """Per block of 32: int8 with scale max|x| / 127 (the runtime's activation
    format for q4/q8 weights), returned dequantized."""
    b = x.reshape(-1, 32)
    amax = np.abs(b).max(axis=1, keepdims=True)
    d = amax / 127.0
    inv = np.divide(127.0, amax, out=np.zeros_like(amax), where=amax != 0)
    return (np.rint(b * inv) * d).reshape(x.shape)


class Model:
    def __init__(self, folder, act_quant=False):
        self.act_quant = act_quant
        self.dtypes = {}
        if os.path.exists(os.path.join(folder, "manifest.json")):
            manifest, w = swref.read_model_dir(folder, verify_hashes=False)
            c = manifest["config"]
            self.w = {k: v for k, (_dt, v) in w.items()}  # f32 storage; math in float64
            self.dtypes = {k: dt for k, (dt, _v) in w.items()}
            cfg = dict(hidden=c["hidden_size"], layers=c["num_hidden_layers"], heads=c["num_attention_heads"],
                       kv=c["num_key_value_heads"], head_dim=c["head_dim"], theta=c["rope_theta"],
                       eps=c["rms_norm_eps"], tied=c["tie_word_embeddings"])
        else:
            c = json.load(open(os.path.join(folder, "config.json")))
            self.w = swref.read_safetensors(folder)  # f32 storage; math in float64
            heads = c["num_attention_heads"]
            cfg = dict(hidden=c["hidden_size"], layers=c["num_hidden_layers"], heads=heads,
                       kv=c.get("num_key_value_heads", heads), head_dim=c.get("head_dim", c["hidden_size"] // heads),
                       theta=c.get("rope_theta", 10000.0), eps=c.get("rms_norm_eps", 1e-6),
                       tied=c.get("tie_word_embeddings", False))
        self.__dict__.update(cfg)
        self.embed = self.w["model.embed_tokens.weight"]
        self.head = self.embed if self.tied else self.w["lm_head.weight"]

    def mm(self, x, name):
        """x @ W.T, with x quantized per block first when W is q4/q8 and act_quant is on."""
        w = self.w[name]
        if self.act_quant and self.dtypes.get(name) in ("q4", "q8"):
            x = quantize_act(x)
        return x @ w.T

    def rmsnorm(self, x, weight):
        return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + self.eps) * weight

    def rope(self, x, positions):
        # x: [T, n_heads, head_dim]; HF rotate-half: pairs (i, i + d/2)
        d = self.head_dim
        inv = 1.0 / (self.theta ** (np.arange(0, d, 2, dtype=np.float64) / d))
        ang = positions[:, None].astype(np.float64) * inv[None, :]
        cos = np.concatenate([np.cos(ang)] * 2, axis=-1)[:, None, :]
        sin = np.concatenate([np.sin(ang)] * 2, axis=-1)[:, None, :]
        rot = np.concatenate([-x[..., d // 2:], x[..., :d // 2]], axis=-1)
        return x * cos + rot * sin

    def forward(self, ids, stats=None, last_only=False):
        """Full causal forward over ids; returns logits [T, vocab] ([1, vocab] with last_only)."""
        T = len(ids)
        x = self.embed[np.asarray(ids)].astype(np.float64)
        pos = np.arange(T)
        mask = np.triu(np.full((T, T), -np.inf), k=1)
        group = self.heads // self.kv
        for l in range(self.layers):
            p = f"model.layers.{l}."
            h = self.rmsnorm(x, self.w[p + "input_layernorm.weight"])
            q = self.mm(h, p + "self_attn.q_proj.weight").reshape(T, self.heads, self.head_dim)
            k = self.mm(h, p + "self_attn.k_proj.weight").reshape(T, self.kv, self.head_dim)
            v = self.mm(h, p + "self_attn.v_proj.weight").reshape(T, self.kv, self.head_dim)
            q, k = self.rope(q, pos), self.rope(k, pos)
            out = np.empty((T, self.heads, self.head_dim))
            for hd in range(self.heads):
                kh, vh = k[:, hd // group], v[:, hd // group]
                s = q[:, hd] @ kh.T / np.sqrt(self.head_dim) + mask
                s = np.exp(s - s.max(axis=-1, keepdims=True))
                s /= s.sum(axis=-1, keepdims=True)
                out[:, hd] = s @ vh
            x = x + self.mm(out.reshape(T, -1), p + "self_attn.o_proj.weight")
            h = self.rmsnorm(x, self.w[p + "post_attention_layernorm.weight"])
            g = self.mm(h, p + "mlp.gate_proj.weight")
            u = self.mm(h, p + "mlp.up_proj.weight")
            x = x + self.mm(g / (1 + np.exp(-g)) * u, p + "mlp.down_proj.weight")
            if stats is not None:
                stats.append(float(np.sqrt((x[-1] ** 2).mean())))
        x = self.rmsnorm(x[-1:] if last_only else x, self.w["model.norm.weight"])
        if self.act_quant and self.dtypes.get("model.embed_tokens.weight") in ("q4", "q8"):
            x = quantize_act(x)
        return x @ self.head.T


def greedy(model, ids, n, gaps=None):
    """n greedy tokens after ids; gaps (a list) receives each step's top-2 logit gap."""
    ids = list(ids)
    out = []
    for _ in range(n):
        logits = model.forward(ids, last_only=True)[-1]
        top2 = np.argsort(-logits)[:2]
        t = int(top2[0])
        if gaps is not None:
            gaps.append(float(logits[top2[0]] - logits[top2[1]]))
        out.append(t)
        ids.append(t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--ids", required=True)
    ap.add_argument("-n", type=int, default=0)
    ap.add_argument("--stats", action="store_true")
    a = ap.parse_args()
    m = Model(a.model)
    ids = [int(t) for t in a.ids.split(",")]
    stats = [] if a.stats else None
    logits = m.forward(ids, stats)[-1]
    top = np.argsort(-logits)[:5]
    res = {"top5": [[int(t), float(logits[t])] for t in top], "gap": float(logits[top[0]] - logits[top[1]]),
           "logits_std": float(logits.std()), "embed_rms": float(np.sqrt((m.embed ** 2).mean()))}
    if stats is not None:
        res["residual_rms"] = stats
    if a.n:
        res["greedy"] = greedy(m, ids, a.n)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
