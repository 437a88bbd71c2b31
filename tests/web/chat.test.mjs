// chat.js: SmolLM2's chat_template (from tokenizer_config.json) rendered with
// @huggingface/jinja against strings written out by hand from the template,
// as transformers' apply_chat_template(..., add_generation_prompt=True) gives
// them; trim_blocks/lstrip_blocks and special tokens; errors; fitMessages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { checkMessages, fitMessages, loadTemplateClass, renderChat, setJinja } from '../../web/src/chat.js';
import { SmolwebError } from '../../web/src/errors.js';

const src = process.env.SMOLWEB_SRC || path.resolve(new URL('../..', import.meta.url).pathname);
const shared = process.env.SMOLWEB_SHARED || path.resolve(src, '../shared');
const config = JSON.parse(fs.readFileSync(path.join(shared, 'models/smollm2-135m-instruct/tokenizer_config.json'), 'utf8'));
const TEMPLATE = config.chat_template;
const special = { bos_token: config.bos_token, eos_token: config.eos_token, unk_token: config.unk_token, pad_token: config.pad_token };

const DEFAULT_SYSTEM = '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n';

test('SmolLM2: a user message gets the default system prompt and the generation prompt', async () => {
  const text = await renderChat(TEMPLATE, [{ role: 'user', content: 'Hi' }], { specialTokens: special });
  assert.equal(text, `${DEFAULT_SYSTEM}<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n`);
});

test('SmolLM2: a whole conversation with its own system message', async () => {
  const messages = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello! Ça va? 👋' },
    { role: 'user', content: 'What is 2+2?\nAnswer briefly.' },
  ];
  const want =
    '<|im_start|>system\nYou are terse.<|im_end|>\n' +
    '<|im_start|>user\nHi<|im_end|>\n' +
    '<|im_start|>assistant\nHello! Ça va? 👋<|im_end|>\n' +
    '<|im_start|>user\nWhat is 2+2?\nAnswer briefly.<|im_end|>\n' +
    '<|im_start|>assistant\n';
  assert.equal(await renderChat(TEMPLATE, messages), want);
  assert.equal(await renderChat(TEMPLATE, messages, { addGenerationPrompt: false }), want.slice(0, -'<|im_start|>assistant\n'.length));
  // the caller's messages are not touched
  assert.equal(messages.length, 4);
  assert.deepEqual(Object.keys(messages[0]), ['role', 'content']);
});

test('Jinja as transformers runs it: trim_blocks, lstrip_blocks, special tokens, raise_exception', async () => {
  // a Llama-2-style template laid out over lines: block tags on their own
  // lines leave no blank lines or indentation behind
  const tpl = [
    '{{ bos_token }}',
    '{% for message in messages %}',
    '    {% if (message["role"] == "user") != (loop.index0 % 2 == 0) %}',
    '        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}',
    '    {% endif %}',
    '    {% if message["role"] == "user" %}',
    '[INST] {{ message["content"] | trim }} [/INST]',
    '    {% else %}',
    '{{ message["content"] }}{{ eos_token }}',
    '    {% endif %}',
    '{% endfor %}',
  ].join('\n');
  const text = await renderChat(
    tpl,
    [
      { role: 'user', content: ' a ' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
    ],
    { specialTokens: { bos_token: '<s>', eos_token: '</s>' } },
  );
  // ({{ }} lines keep their newline: trim_blocks only applies to {% %} tags)
  assert.equal(text, '<s>\n[INST] a [/INST]\nb</s>\n[INST] c [/INST]\n');
  await assert.rejects(
    renderChat(tpl, [{ role: 'assistant', content: 'x' }], { specialTokens: { bos_token: '<s>', eos_token: '</s>' } }),
    (e) => e instanceof SmolwebError && e.code === 'UNSUPPORTED' && e.message === 'chat_template: Conversation roles must alternate user/assistant/user/assistant/...',
  );
});

test('no template, a broken template, malformed messages', async () => {
  await assert.rejects(renderChat(null, [{ role: 'user', content: 'x' }]), (e) => e.code === 'UNSUPPORTED' && /no chat_template/.test(e.message));
  await assert.rejects(renderChat('{% for %}', [{ role: 'user', content: 'x' }]), (e) => e.code === 'UNSUPPORTED' && /^chat_template: cannot parse it: /.test(e.message));
  await assert.rejects(renderChat(TEMPLATE, []), TypeError);
  await assert.rejects(renderChat(TEMPLATE, [{ role: 'user' }]), /messages\[0\] must be \{role: string, content: string\}/);
  assert.throws(() => checkMessages('hi'), TypeError);
});

test('the engine can be injected (what a worker without import maps does)', async () => {
  const real = await loadTemplateClass();
  let constructed = 0;
  class Counting extends real {
    constructor(s) {
      super(s);
      constructed++;
    }
  }
  setJinja({ Template: Counting });
  try {
    assert.equal(await loadTemplateClass(), Counting);
    const tpl = '{{ messages[0].content }}!';
    assert.equal(await renderChat(tpl, [{ role: 'user', content: 'x' }]), 'x!');
    assert.equal(await renderChat(tpl, [{ role: 'user', content: 'y' }]), 'y!');
    assert.equal(constructed, 1, 'a template is parsed once');
  } finally {
    setJinja(null);
  }
  assert.equal(await loadTemplateClass(), real);
  assert.throws(() => setJinja({}), TypeError);
});

// ---- fitMessages

// a chat of n turns after a system message; tokens: 1 per character of content + 4 per message
const chat = (n) => [
  { role: 'system', content: 'S'.repeat(10) },
  ...Array.from({ length: n }, (_, i) => [
    { role: 'user', content: `q${i}`.padEnd(20, '.') },
    { role: 'assistant', content: `a${i}`.padEnd(30, '.') },
  ]).flat(),
];
const count = (msgs) => msgs.reduce((a, m) => a + m.content.length + 4, 0);

test('fitMessages: a prompt that fits is returned whole', async () => {
  const msgs = chat(3);
  const r = await fitMessages(msgs, count, 1000);
  assert.equal(r.dropped, 0);
  assert.deepEqual(r.messages, msgs);
  assert.notEqual(r.messages, msgs, 'a new array');
});

test('fitMessages: the oldest whole turns go, the system message and the last turn stay', async () => {
  const msgs = [...chat(5), { role: 'user', content: 'now?' }];
  // system 14 + each turn 24 + 34 = 58, last 8: keeping 2 full turns = 14 + 116 + 8 = 138
  const r = await fitMessages(msgs, count, 140);
  assert.equal(r.dropped, 6);
  assert.deepEqual(r.messages.map((m) => m.content.slice(0, 2)), ['SS', 'q3', 'a3', 'q4', 'a4', 'no']);
  assert.ok(count(r.messages) <= 140);
  // one token less: one more turn goes
  const r2 = await fitMessages(msgs, count, 137);
  assert.equal(r2.dropped, 8);
  assert.equal(msgs.length, 12, 'input untouched');
});

test('fitMessages: without a system message, from the start; async counters; few counts', async () => {
  const msgs = chat(64).slice(1);
  let calls = 0;
  const asyncCount = async (m) => {
    calls++;
    await new Promise((ok) => setTimeout(ok, 0));
    return count(m);
  };
  const r = await fitMessages(msgs, asyncCount, 58 * 10);
  assert.equal(r.dropped, 108);
  assert.equal(r.messages[0].content.slice(0, 3), 'q54');
  assert.ok(calls <= 2 + Math.ceil(Math.log2(64)) + 1, `${calls} counts`);
});

test('fitMessages: the last turn alone too long is CONTEXT_LENGTH', async () => {
  const msgs = [{ role: 'system', content: 'S'.repeat(10) }, { role: 'user', content: 'x'.repeat(100) }];
  await assert.rejects(fitMessages(msgs, count, 50), (e) => {
    assert.ok(e instanceof SmolwebError);
    assert.equal(e.code, 'CONTEXT_LENGTH');
    assert.equal(e.message, 'the last message and the system message take 118 tokens, more than the 50 the context leaves for the prompt');
    return true;
  });
  await assert.rejects(fitMessages([...chat(2), { role: 'user', content: 'x'.repeat(100) }], count, 50), (e) => e.code === 'CONTEXT_LENGTH');
  await assert.rejects(fitMessages(msgs, count, 0), TypeError);
  await assert.rejects(fitMessages(msgs, () => NaN, 10), /countTokens returned NaN/);
});

test('fitMessages with the real template and a character count', async () => {
  const msgs = [...chat(4), { role: 'user', content: 'last' }];
  const countRendered = async (m) => (await renderChat(TEMPLATE, m)).length;
  const full = await countRendered(msgs);
  const r = await fitMessages(msgs, countRendered, full - 1);
  assert.equal(r.dropped, 2);
  assert.ok((await countRendered(r.messages)) <= full - 1);
});
