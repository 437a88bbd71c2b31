// manifest_schema_check.mjs: checks manifests against manifest/manifest.schema.json
// with Ajv, a JSON Schema 2020-12 implementation independent of the C reader.
//   node tests/manifest_schema_check.mjs GOOD.json...
// Every file given must validate. Then copies of the first one, each broken in
// one way the schema forbids, must all fail, and a few odd-but-valid edits
// must pass, so the schema is neither too loose nor too strict.
// Exits 0 when all of that holds, 1 otherwise.
import Ajv2020 from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const schemaPath = join(here, '..', 'manifest', 'manifest.schema.json');
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node manifest_schema_check.mjs MANIFEST.json...');
  process.exit(2);
}

// strict: the schema itself must use no unknown keyword, no ambiguous type
const ajv = new Ajv2020({ strict: true, strictTypes: true, strictTuples: true, strictRequired: true, allErrors: true });
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
let failures = 0;
const fail = (msg) => { failures++; console.error(`FAIL ${msg}`); };
const errorsOf = () => ajv.errorsText(validate.errors);

for (const f of files) {
  if (!validate(JSON.parse(readFileSync(f, 'utf8')))) fail(`${f}: ${errorsOf()}`);
}

const base = JSON.parse(readFileSync(files[0], 'utf8'));
const layerIdx = base.files.findIndex((x) => x.role === 'layer');
const tokIdx = base.files.findIndex((x) => x.role === 'tokenizer');
// [description, where the error must be (JSON pointer), edit(manifest)]:
// each edit must make the manifest invalid, and for the intended reason
const bad = [
  ['unknown top-level field', '', (m) => { m.foo = 1; }],
  ['unknown config field', '/config', (m) => { m.config.foo = 1; }],
  ['unknown file field', '/files/0', (m) => { m.files[0].foo = 1; }],
  ['missing config.rope_theta', '/config', (m) => { delete m.config.rope_theta; }],
  ['missing total_bytes', '', (m) => { delete m.total_bytes; }],
  ['format_version 2', '/format_version', (m) => { m.format_version = 2; }],
  ['format gguf', '/format', (m) => { m.format = 'gguf'; }],
  ['architecture gpt2', '/architecture', (m) => { m.architecture = 'gpt2'; }],
  ['empty name', '/name', (m) => { m.name = ''; }],
  ['NUL in name', '/name', (m) => { m.name = 'a\u0000b'; }],
  ['params 0', '/params', (m) => { m.params = 0; }],
  ['params above 2^53-1', '/params', (m) => { m.params = 2 ** 53; }],
  ['heads as a string', '/config/num_attention_heads', (m) => { m.config.num_attention_heads = '9'; }],
  ['heads 1.5', '/config/num_attention_heads', (m) => { m.config.num_attention_heads = 1.5; }],
  ['heads 0', '/config/num_attention_heads', (m) => { m.config.num_attention_heads = 0; }],
  ['layers 1025', '/config/num_hidden_layers', (m) => { m.config.num_hidden_layers = 1025; }],
  ['odd head_dim', '/config/head_dim', (m) => { m.config.head_dim = 63; }],
  ['rope_theta 0', '/config/rope_theta', (m) => { m.config.rope_theta = 0; }],
  ['rms_norm_eps 1', '/config/rms_norm_eps', (m) => { m.config.rms_norm_eps = 1; }],
  ['tie as 1', '/config/tie_word_embeddings', (m) => { m.config.tie_word_embeddings = 1; }],
  ['rope flag 2', '/config/rope_layers/0', (m) => { m.config.rope_layers[0] = 2; }],
  ['rope flag true', '/config/rope_layers/0', (m) => { m.config.rope_layers[0] = true; }],
  ['quant q3', '/quantization/weights', (m) => { m.quantization.weights = 'q3'; }],
  ['embedding Q8', '/quantization/embedding', (m) => { m.quantization.embedding = 'Q8'; }],
  ['group_size -1', '/quantization/group_size', (m) => { m.quantization.group_size = -1; }],
  ['bos -1', '/tokens/bos_id', (m) => { m.tokens.bos_id = -1; }],
  ['eos missing', '/tokens', (m) => { delete m.tokens.eos_id; }],
  ['stop ids repeated', '/tokens/stop_ids', (m) => { m.tokens.stop_ids = [2, 2]; }],
  ['stop id as a string', '/tokens/stop_ids/0', (m) => { m.tokens.stop_ids = ['2']; }],
  ['chatml without a template', '/chat_template', (m) => { m.chat_format = 'chatml'; m.chat_template = null; }],
  ['chat_format jinja', '/chat_format', (m) => { m.chat_format = 'jinja'; }],
  ['template a number', '/chat_template', (m) => { m.chat_template = 5; }],
  ['uppercase sha256', '/files/0/sha256', (m) => { m.files[0].sha256 = m.files[0].sha256.toUpperCase().replace(/^[0-9]*/, 'A'); }],
  ['short sha256', '/files/0/sha256', (m) => { m.files[0].sha256 = m.files[0].sha256.slice(1); }],
  ['path ..', '/files/0/path', (m) => { m.files[0].path = '../tokenizer.swt'; }],
  ['path a/../b', '/files/0/path', (m) => { m.files[0].path = 'a/../b'; }],
  ['path ./x', '/files/0/path', (m) => { m.files[0].path = './x'; }],
  ['path a/..', '/files/0/path', (m) => { m.files[0].path = 'a/..'; }],
  ['absolute path', '/files/0/path', (m) => { m.files[0].path = '/etc/passwd'; }],
  ['backslash path', '/files/0/path', (m) => { m.files[0].path = 'a\\b.swc'; }],
  ['empty segment', '/files/0/path', (m) => { m.files[0].path = 'a//b.swc'; }],
  ['trailing slash', '/files/0/path', (m) => { m.files[0].path = 'a/'; }],
  ['URL path', '/files/0/path', (m) => { m.files[0].path = 'https://x.org/y'; }],
  ['empty path', '/files/0/path', (m) => { m.files[0].path = ''; }],
  ['path manifest.json', '/files/0/path', (m) => { m.files[0].path = 'manifest.json'; }],
  ['bytes 0', '/files/0/bytes', (m) => { m.files[0].bytes = 0; }],
  ['bytes 1.5', '/files/0/bytes', (m) => { m.files[0].bytes = 1.5; }],
  ['role weights', '/files/0/role', (m) => { m.files[0].role = 'weights'; }],
  ['layer file without layer', `/files/${layerIdx}`, (m) => { delete m.files[layerIdx].layer; }],
  ['tokenizer file with layer', `/files/${tokIdx}/layer`, (m) => { m.files[tokIdx].layer = 0; }],
  ['layer -1', `/files/${layerIdx}/layer`, (m) => { m.files[layerIdx].layer = -1; }],
  ['too few files', '/files', (m) => { m.files = m.files.slice(0, 2); }],
  ['files not an array', '/files', (m) => { m.files = {}; }],
  ['config not an object', '/config', (m) => { m.config = []; }],
];
for (const [what, where, edit] of bad) {
  const m = structuredClone(base);
  edit(m);
  if (validate(m)) fail(`schema accepted: ${what}`);
  else if (!validate.errors.some((e) => e.instancePath === where))
    fail(`${what}: no error at '${where}': ${errorsOf()}`);
}

// odd but valid: must still pass
const good = [
  ['bos/eos/pad null', (m) => { m.tokens.bos_id = null; m.tokens.eos_id = null; m.tokens.pad_id = null; }],
  ['no stop ids', (m) => { m.tokens.stop_ids = []; }],
  ['no template, format other', (m) => { m.chat_template = null; m.chat_format = 'other'; }],
  ['path in a folder', (m) => { m.files[0].path = 'chunks/v1/tok_1.swt'; }],
  ['integer written as 576.0', (m) => { m.config.hidden_size = 576.0; }],
  ['f16 weights, group 0', (m) => { m.quantization.weights = 'f16'; m.quantization.group_size = 0; }],
  ['a layer without RoPE', (m) => { m.config.rope_layers[0] = 0; }],
];
for (const [what, edit] of good) {
  const m = structuredClone(base);
  edit(m);
  if (!validate(m)) fail(`schema rejected valid edit '${what}': ${errorsOf()}`);
}

if (failures) {
  console.error(`${failures} failure(s)`);
  process.exit(1);
}
console.log(`manifest schema: ${files.length} file(s) valid, ${bad.length} bad edits refused, ${good.length} odd edits accepted`);
