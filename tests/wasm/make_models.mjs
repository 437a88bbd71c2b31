// make_models.mjs: random-weight models and their native greedy references
// for the wasm tests and bench/wasm_speed.mjs.
//
//   node tests/wasm/make_models.mjs WORK_DIR [SPEC...]
//     SPEC = SHAPE:QUANT[,QUANT...]  (default: tiny:q4,q8,f16,f32,q4+kvf16
//            smollm2-135m:q4,q4+kvf16); QUANT+kvf16: that model with an f16
//            KV cache (smolweb-run --kv-f16; refs.json kv_f16: 1)
//
// Env: SMOLWEB_BUILD (native build dir with smolweb-gen/-chunk/-run),
// SMOLWEB_SHARED (tokenizer source), WASM_N_GEN (greedy tokens, default 24).
// Writes WORK_DIR/<shape>-<quant>/ (chunker output), WORK_DIR/<name>.logits
// (native prompt-last logits, raw f32) and WORK_DIR/refs.json:
//   [{ name, dir, shape, quant, prompt, prompt_ids, gen_ids, logits, n_ctx,
//      sampling, sampled_ids, kv_f16 }]   (sampled_ids: seeded sampling with `sampling`)
// with paths relative to WORK_DIR. Native runs use one thread, like the
// reference every wasm variant is compared with.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = process.env.SMOLWEB_BUILD || path.join(ROOT, 'build');
const SHARED = process.env.SMOLWEB_SHARED || path.join(ROOT, '..', 'shared');
const N_GEN = Number(process.env.WASM_N_GEN || 24);
// Plain text with digits, punctuation and a multi-byte character, so the
// wasm tokenizer is exercised too.
export const PROMPT = 'The quick brown fox jumps over 13 lazy dogs; café at 9:30, then home.';
// Seeded sampling (smolweb-run flags and the sampler params wasm gets; the
// repeat window is both sides' default): the sampler draws the same tokens
// on every platform from the same logits.
export const SAMPLING = { temperature: 0.8, top_k: 40, top_p: 0.95, min_p: 0.05, repeat_penalty: 1.1, seed: 42 };
const SAMPLING_FLAGS = ['--temperature', '0.8', '--top-k', '40', '--top-p', '0.95', '--min-p', '0.05', '--repeat-penalty', '1.1', '--seed', '42'];

function tool(name, args) {
  return execFileSync(path.join(BUILD, name), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function makeModels(work, specs) {
  fs.mkdirSync(work, { recursive: true });
  const refs = [];
  const chunked = new Set();
  for (const spec of specs) {
    const [shape, qs] = spec.split(':');
    const hf = path.join(work, `${shape}-hf`);
    tool('smolweb-gen', [shape, hf, '--seed', '7', '--tokenizer-dir', path.join(SHARED, 'models', 'smollm2-135m-instruct')]);
    for (const item of qs.split(',')) {
      const [q, kv] = item.split('+');
      if (kv !== undefined && kv !== 'kvf16') throw new Error(`${item}: the only option after + is kvf16`);
      const name = kv ? `${shape}-${q}-${kv}` : `${shape}-${q}`;
      const dirName = `${shape}-${q}`;
      const dir = path.join(work, dirName);
      if (!chunked.has(dirName)) tool('smolweb-chunk', ['--quant', q, hf, dir]); // once per quantization
      chunked.add(dirName);
      const base = [dir, '--prompt', PROMPT, '--ctx', '256', ...(kv ? ['--kv-f16'] : [])];
      const promptIds = JSON.parse(tool('smolweb-run', [...base, '--prompt-ids-out']));
      const logits = `${name}.logits`;
      const genIds = JSON.parse(tool('smolweb-run', [...base, '-n', String(N_GEN), '--temperature', '0', '--ignore-eos',
        '--ids-out', '--threads', '1', '--dump-logits', path.join(work, logits)]));
      const sampledIds = JSON.parse(tool('smolweb-run', [...base, '-n', String(N_GEN), ...SAMPLING_FLAGS, '--ignore-eos', '--ids-out']));
      refs.push({ name, dir: dirName, shape, quant: q, prompt: PROMPT, prompt_ids: promptIds, gen_ids: genIds, logits, n_ctx: 256,
        sampling: SAMPLING, sampled_ids: sampledIds, kv_f16: kv ? 1 : 0 });
    }
    fs.rmSync(hf, { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(work, 'refs.json'), JSON.stringify(refs, null, 1));
  return refs;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [work, ...specs] = process.argv.slice(2);
  if (!work) {
    console.error('usage: node tests/wasm/make_models.mjs WORK_DIR [SHAPE:QUANT,...]...');
    process.exit(2);
  }
  const t0 = Date.now();
  const refs = makeModels(work, specs.length ? specs : ['tiny:q4,q8,f16,f32,q4+kvf16', 'smollm2-135m:q4,q4+kvf16']);
  console.log(`made ${refs.map((r) => r.name).join(', ')} with native references in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
