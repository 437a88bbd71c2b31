// chat_reference.mjs: renders chat templates with @huggingface/jinja, the Jinja
// engine the JavaScript library uses and an implementation independent of the
// C renderer (src/chat.c), to give tests/test_chat.c its reference strings.
//   node tests/chat_reference.mjs CASES.json OUT.json
// CASES.json: {"templates": [string...], "cases": [{"template": index,
//   "messages": [{"role", "content"}...], "add_generation_prompt": bool}...]}
// OUT.json: one entry per case, in order: {"text": rendered} or, when the
// engine refuses the template or fails to render it, {"error": message}.
// Exits 0 once OUT.json is written, 2 on bad usage or input.
import { readFileSync, writeFileSync } from 'node:fs';
import { Template } from '@huggingface/jinja';

const [inPath, outPath] = process.argv.slice(2);
if (!inPath || !outPath) {
  console.error('usage: node chat_reference.mjs CASES.json OUT.json');
  process.exit(2);
}
const input = JSON.parse(readFileSync(inPath, 'utf8'));
if (!Array.isArray(input.templates) || !Array.isArray(input.cases)) {
  console.error(`${inPath}: expected {"templates": [...], "cases": [...]}`);
  process.exit(2);
}

// Parse each template once; a template the engine refuses fails all its cases.
const compiled = input.templates.map((src) => {
  try {
    return { template: new Template(src) };
  } catch (e) {
    return { error: `parse: ${e.message}` };
  }
});

const out = input.cases.map((c) => {
  const t = compiled[c.template];
  if (!t) return { error: `no template ${c.template}` };
  if (t.error) return { error: t.error };
  try {
    return { text: t.template.render({ messages: c.messages, add_generation_prompt: c.add_generation_prompt }) };
  } catch (e) {
    return { error: `render: ${e.message}` };
  }
});
writeFileSync(outPath, JSON.stringify(out));
