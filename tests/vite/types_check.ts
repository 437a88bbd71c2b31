// types_check.ts: the package's types as an app sees them ('smolweb' resolved
// through package.json "exports" -> "types"). test_wasm_vite.sh runs
// `tsc --noEmit --strict` on it; every @ts-expect-error line must be an error,
// so types that resolved to `any` fail the check too.
import {
  loadModel,
  detectDevice,
  chooseTier,
  chooseVariant,
  listCachedModels,
  deleteCachedModel,
  SmolwebError,
  Model,
} from 'smolweb';
import type {
  ChatMessage,
  DeviceInfo,
  GenerateOptions,
  LastRun,
  LoadProgress,
  Manifest,
  ModelInfo,
  SmolwebErrorCode,
  TierChoice,
  TierName,
} from 'smolweb';

export async function demo(manifest: Manifest): Promise<string> {
  const ctl = new AbortController();
  const phases: LoadProgress['phase'][] = [];
  const model: Model = await loadModel('/models/tiny/manifest.json', {
    onProgress: (p) => {
      const share: number = p.loaded / p.total;
      phases.push(p.phase);
      void share;
    },
    signal: ctl.signal,
    tier: 'auto',
    threads: 2,
    cache: false,
  });
  const info: Readonly<ModelInfo> = model.info;
  const name: string = info.name;
  const tier: TierName = info.tier;
  const ctx: number = info.contextLength;

  const opts: GenerateOptions = { maxTokens: 16, temperature: 0, repeatPenalty: 1, stop: ['\n'], ignoreEos: true, signal: ctl.signal };
  const stream: ReadableStream<string> = model.generate('Hello', opts);
  const reader = stream.getReader();
  let text = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;

  const messages: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ];
  model.generate(messages);
  model.generate({ ids: [1, 2, 3] });
  const run: LastRun | null = model.lastRun;
  if (run) {
    const reason: 'eos' | 'length' | 'stop' | 'abort' = run.finishReason;
    const ids: number[] = run.ids;
    void reason;
    void ids;
  }
  const ids: number[] = await model.tokenize('Hello');
  const back: string = await model.detokenize(ids);
  await model.dispose();

  const device: DeviceInfo = await detectDevice();
  const mem: number | null = device.memoryGB;
  const choice: TierChoice = chooseTier(device, manifest, { tier: 'reduced', kvType: 'f16' });
  const variant: 'simd-threads' | 'simd' | 'scalar' = chooseVariant(device, choice.threads);

  const cached = await listCachedModels();
  const complete: boolean = cached.every((m) => m.complete);
  const removed: { files: number; bytes: number } = await deleteCachedModel(cached[0].manifestUrl);

  try {
    await loadModel('/missing/manifest.json');
  } catch (e) {
    if (e instanceof SmolwebError) {
      const code: SmolwebErrorCode = e.code;
      const status: number | undefined = e.status;
      void code;
      void status;
    }
  }
  const err = new SmolwebError('NETWORK', 'layer-000.swc: connection dropped', { file: 'layer-000.swc' });

  // @ts-expect-error: not a prompt
  model.generate(42);
  // @ts-expect-error: no such option
  model.generate('x', { maxToken: 3 });
  // @ts-expect-error: not an error code
  new SmolwebError('OOPS', 'x');
  // @ts-expect-error: not a tier
  loadModel('/m.json', { tier: 'huge' });
  // @ts-expect-error: info is read-only
  model.info.threads = 3;
  // @ts-expect-error: loadModel returns a Model, not a string
  const wrong: string = await loadModel('/m.json');

  return [name, tier, ctx, text, back, mem, variant, complete, removed.files, err.code, wrong, phases.length].join(' ');
}
