// node_runtime_api.mjs: the parts of web/src/runtime.js the model runs of
// node_model.mjs do not reach, on the tiny q4 model in smolweb-simd and
// smolweb-scalar under Node 20:
//   - model facts against manifest.json: chunk list (path, bytes, sha256,
//     layer), stop ids, chat template and format, vocabulary, context;
//   - detokenize(prompt ids) is the prompt text; decodePiece over the
//     generated ids plus decodeFlush equals detokenize of those ids;
//   - commonPrefix after a prefill; prefill in slices (maxTokens) reaches the
//     same logits as one call; logits() is null before any run;
//   - a dropped chunk is missing again and generation is refused (STATE);
//   - params structs: unknown fields refused (INVALID_ARG); a struct written
//     by the ABI offsets reads back through the ABI; the u64 seed round-trips
//     above 2^53 (BigInt);
//   - pointers: heap addresses read unsigned (a chunk buffer above 2 GiB
//     after the heap has grown is a positive offset).
//   node tests/wasm/node_runtime_api.mjs WORK_DIR
import fs from 'node:fs';
import path from 'node:path';

import { SmolwebWasmError } from '../../web/src/runtime.js';
import { GREEDY, loadModel } from './greedy.mjs';
import { fileReader, loadVariant } from './load.mjs';
import { checker } from '../checks.mjs';

const work = process.argv[2];
const refs = JSON.parse(fs.readFileSync(path.join(work, 'refs.json'), 'utf8'));
const ref = refs.find((r) => r.name === 'tiny-q4');
const dir = path.join(work, ref.dir);
const manifestText = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8');
const manifest = JSON.parse(manifestText);

const checks = checker();
const { check } = checks;
function throwsStatus(fn, status) {
  try {
    fn();
  } catch (e) {
    return e instanceof SmolwebWasmError && e.status === status ? e.message : `wrong error: ${e.message}`;
  }
  return 'no error';
}

async function api(variant) {
  const rt = await loadVariant(variant);
  const model = await loadModel(rt, manifestText, fileReader(dir), { n_ctx: ref.n_ctx });
  try {
    const v = variant;
    check(JSON.stringify(model.chunks.map(({ path: p, bytes, sha256, layer }) => [p, bytes, sha256, layer])) ===
      JSON.stringify(manifest.files.map((f) => [f.path, f.bytes, f.sha256, f.layer ?? -1])), `${v}: chunks match manifest.files`);
    check(model.stopIds.join() === manifest.tokens.stop_ids.join(), `${v}: stop ids ${JSON.stringify(model.stopIds)}`);
    check(model.chatTemplate === manifest.chat_template && model.chatFormat === manifest.chat_format,
      `${v}: chat template (${model.chatTemplate.length} chars) and format ${model.chatFormat}`);
    check(model.nVocab === manifest.config.vocab_size && model.nCtx === ref.n_ctx && model.nLayers === manifest.config.num_hidden_layers,
      `${v}: n_vocab ${model.nVocab}, n_ctx ${model.nCtx}, n_layers ${model.nLayers}`);
    check(model.logits() === null, `${v}: logits() is null before any run`);

    check(model.detokenize(ref.prompt_ids) === ref.prompt, `${v}: detokenize(prompt ids) is the prompt`);
    model.decodeReset();
    let streamed = ref.gen_ids.map((id) => model.decodePiece(id)).join('');
    streamed += model.decodeFlush();
    check(streamed === model.detokenize(ref.gen_ids), `${v}: decodePiece + decodeFlush equal detokenize (${JSON.stringify(streamed.slice(0, 40))}...)`);

    // prefill in slices of 5 tokens reaches the logits of one call
    model.reset();
    let done = 0;
    let calls = 0;
    while (done < ref.prompt_ids.length) {
      done = model.prefill(ref.prompt_ids, 5);
      calls++;
    }
    const sliced = Float32Array.from(model.logits());
    model.reset();
    model.prefill(ref.prompt_ids);
    const whole = model.logits();
    check(calls === Math.ceil(ref.prompt_ids.length / 5) && sliced.every((x, i) => x === whole[i]),
      `${v}: prefill in ${calls} slices of 5 gives the same logits as one call`);
    check(model.commonPrefix(ref.prompt_ids) === ref.prompt_ids.length && model.commonPrefix([...ref.prompt_ids.slice(0, 3), -5]) === 3,
      `${v}: commonPrefix after a prefill`);

    // a dropped chunk is missing; generation is refused until it is back
    const layer = model.chunks.find((c) => c.layer === 2);
    model.dropChunk(layer.index);
    check(model.missingChunks().join() === String(layer.index), `${v}: dropChunk makes ${layer.path} missing`);
    const msg = throwsStatus(() => model.prefill(ref.prompt_ids), 'STATE');
    check(msg.startsWith('prefill: STATE: '), `${v}: prefill with a chunk missing: ${msg}`);
    model.loadChunk(layer.index, await fileReader(dir)(layer.path));
    const s = rt.samplerCreate(GREEDY, model.nVocab);
    model.prefill(ref.prompt_ids);
    const first = model.decodeStep(s);
    s.free();
    check(first === ref.gen_ids[0], `${v}: reloaded, the first greedy id is native's (${first})`);

    // params structs through the ABI
    const e1 = throwsStatus(() => rt.samplerCreate({ temprature: 0 }, model.nVocab), 'INVALID_ARG');
    check(e1.includes('no field temprature'), `${v}: unknown sampler field refused: ${e1}`);
    const desc = rt.abi.structs.smolweb_sampler_params;
    const p = rt.structIn('smolweb_sampler_params', { top_k: 7, seed: 0xfedcba9876543210n, temperature: 0.25 });
    const dv = rt.view();
    const seed = dv.getBigUint64(p + desc.fields.seed.offset, true);
    check(dv.getInt32(p + desc.fields.top_k.offset, true) === 7 && dv.getFloat32(p + desc.fields.temperature.offset, true) === 0.25 &&
      seed === 0xfedcba9876543210n && Math.abs(dv.getFloat32(p + desc.fields.top_p.offset, true) - desc.defaults.top_p) < 1e-7,
    `${v}: sampler struct by ABI offsets (seed ${seed.toString(16)}, defaults filled)`);
    rt.free(p);
  } finally {
    model.free();
  }
  // pointers above 2 GiB: grow the heap past it with chunk buffers of a
  // second model, then check a buffer's address is positive and usable
  const big = rt.modelCreate(manifestText, { n_ctx: 16 });
  const held = [];
  try {
    let top = 0;
    for (let i = 0; i < 1100 && top < 2 ** 31 + 2 ** 24; i++) {
      const ptr = rt.alloc(2 ** 21);
      held.push(ptr);
      top = Math.max(top, ptr);
    }
    const emb = big.chunks.find((c) => c.path === 'embedding.swc');
    const view = big.chunkBuffer(emb.index);
    view.set(await fileReader(dir)(emb.path));
    check(view.byteOffset > 2 ** 31, `${variant}: a chunk buffer above 2 GiB at ${view.byteOffset} (unsigned) takes its bytes`);
    big.commit(emb.index);
    check(!big.missingChunks().includes(emb.index), `${variant}: and commits there`);
  } finally {
    for (const ptr of held) rt.free(ptr);
    big.free();
  }
}

try {
  for (const v of ['smolweb-simd', 'smolweb-scalar']) await api(v);
} catch (e) {
  check(false, `unexpected: ${e.stack || e}`);
}
console.log(checks.failures ? `node_runtime_api: ${checks.failures} failure(s)` : 'node_runtime_api: ok');
process.exit(checks.failures ? 1 : 0);
