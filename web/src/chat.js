// chat.js: chat messages -> prompt text, with the model's own chat_template
// rendered by @huggingface/jinja (the Jinja engine transformers.js uses), as
// transformers' tokenizer.apply_chat_template(messages, tokenize=False,
// add_generation_prompt=True) does: the template sees `messages`,
// `add_generation_prompt` and the special-token strings (bos_token,
// eos_token, unk_token, pad_token) as variables, with trim_blocks and
// lstrip_blocks on, and raise_exception()/strftime_now() defined.
//
// The engine is loaded lazily with a dynamic import('@huggingface/jinja'), so
// importing this module (or the library) never fails on a page that does not
// chat. Resolving that bare specifier:
//   - bundlers (Vite, webpack) and Node resolve it from node_modules;
//   - a page with no bundler maps it with an import map to the package's ESM
//     build, one self-contained file with no imports of its own:
//       <script type="importmap">{"imports": {"@huggingface/jinja":
//         "/node_modules/@huggingface/jinja/dist/index.js"}}</script>
//   - a module worker does not see the page's import map (no browser applies
//     import maps to workers), so code in a worker hands the engine over
//     explicitly: setJinja(await import(urlOfIndexJs)) or
//     setJinja({ Template }).

import { SmolwebError } from './errors.js';

let injected = null; // the module (or { Template }) given to setJinja
let loading = null; // the pending dynamic import

/** Uses this engine instead of importing '@huggingface/jinja': the module
 * namespace or any object with a Template class; null to go back to the
 * import. */
export function setJinja(mod) {
  if (mod !== null && (!mod || typeof mod.Template !== 'function')) {
    throw new TypeError('setJinja: expected the @huggingface/jinja module (an object with a Template class)');
  }
  injected = mod;
  loading = null;
}

/** The Template class: the injected one, or '@huggingface/jinja' imported
 * once. Throws UNSUPPORTED (with the fix) when it cannot be resolved. */
export async function loadTemplateClass() {
  if (injected) return injected.Template;
  if (!loading) {
    loading = import('@huggingface/jinja').catch((e) => {
      loading = null;
      throw new SmolwebError(
        'UNSUPPORTED',
        `chat templates need @huggingface/jinja, which could not be imported (${e && e.message}); without a bundler, map it with an import map or call setJinja()`,
        { cause: e },
      );
    });
  }
  const mod = await loading;
  if (!mod || typeof mod.Template !== 'function') {
    throw new SmolwebError('UNSUPPORTED', '@huggingface/jinja has no Template export');
  }
  return mod.Template;
}

/** Checks messages is a non-empty array of { role: string, content: string }. */
export function checkMessages(messages) {
  if (!Array.isArray(messages) || messages.length === 0) throw new TypeError('messages must be a non-empty array of {role, content}');
  messages.forEach((m, i) => {
    if (!m || typeof m !== 'object' || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new TypeError(`messages[${i}] must be {role: string, content: string}`);
    }
  });
}

const compiled = new Map(); // template source -> Template, for the last few templates

/**
 * Renders messages with a chat template, as apply_chat_template does.
 *
 * @param {string|null} template the manifest's chat_template
 * @param {{role: string, content: string}[]} messages
 * @param {{ addGenerationPrompt?: boolean, specialTokens?: { bos_token?: string,
 *   eos_token?: string, unk_token?: string, pad_token?: string }, variables?: object,
 *   Template?: Function }} [opts] addGenerationPrompt defaults to true;
 *   specialTokens are the token strings transformers passes (the manifest
 *   holds ids only: detokenize them); variables go to the template as well
 *   (e.g. tools); Template overrides the engine.
 * @returns {Promise<string>}
 * @throws UNSUPPORTED when there is no template, the engine is missing, or the
 *   template fails to parse or raises (e.g. "roles must alternate"); TypeError
 *   for malformed messages
 */
export async function renderChat(template, messages, opts = {}) {
  const { addGenerationPrompt = true, specialTokens = {}, variables = {} } = opts;
  if (typeof template !== 'string' || template === '') {
    throw new SmolwebError('UNSUPPORTED', 'this model has no chat_template: pass a string prompt or { ids } instead of messages');
  }
  checkMessages(messages);
  const Template = opts.Template || (await loadTemplateClass());
  let t = compiled.get(template);
  if (!t || !(t instanceof Template)) {
    try {
      t = new Template(template);
    } catch (e) {
      throw new SmolwebError('UNSUPPORTED', `chat_template: cannot parse it: ${e && e.message}`, { cause: e });
    }
    if (compiled.size >= 4) compiled.delete(compiled.keys().next().value);
    compiled.set(template, t);
  }
  // fresh copies: a template may not mutate the caller's objects
  const msgs = messages.map((m) => ({ ...m }));
  try {
    return t.render({ ...specialTokens, ...variables, messages: msgs, add_generation_prompt: addGenerationPrompt });
  } catch (e) {
    throw new SmolwebError('UNSUPPORTED', `chat_template: ${e && e.message}`, { cause: e });
  }
}

// The message indices where turns start: each 'user' message after the kept
// system message begins a turn that runs up to the next 'user' message.
function turnStarts(messages, first) {
  const starts = [];
  for (let i = first; i < messages.length; i++) {
    if (i === first || messages[i].role === 'user') starts.push(i);
  }
  return starts;
}

/**
 * Drops the oldest turns (after a leading system message) until the prompt
 * fits maxPromptTokens. A turn is a user message with the replies that follow
 * it, so what remains still alternates user/assistant as templates expect;
 * the last turn (the current question) is never dropped.
 *
 * @param messages the conversation
 * @param countTokens (messages) => number | Promise<number>: the prompt's
 *   token count for these messages (render + tokenize)
 * @param maxPromptTokens the most tokens the prompt may take
 * @returns {Promise<{ messages: object[], dropped: number }>} dropped counts
 *   messages; messages is a new array (the input is untouched)
 * @throws SmolwebError CONTEXT_LENGTH when even the system message and the
 *   last turn do not fit
 */
export async function fitMessages(messages, countTokens, maxPromptTokens) {
  checkMessages(messages);
  if (typeof countTokens !== 'function') throw new TypeError('countTokens must be a function');
  if (!Number.isSafeInteger(maxPromptTokens) || maxPromptTokens < 1) throw new TypeError(`maxPromptTokens must be a positive integer (got ${maxPromptTokens})`);
  const first = messages[0].role === 'system' ? 1 : 0;
  const head = messages.slice(0, first);
  const starts = turnStarts(messages, first);
  const keep = (k) => head.concat(messages.slice(k < starts.length ? starts[k] : messages.length));
  const count = async (msgs) => {
    const n = await countTokens(msgs);
    if (!Number.isFinite(n) || n < 0) throw new TypeError(`countTokens returned ${n}`);
    return n;
  };

  const n0 = await count(messages);
  if (n0 <= maxPromptTokens) return { messages: messages.slice(), dropped: 0 };
  // the fewest dropped turns that fit: binary search over k in [1, turns-1]
  // (counts shrink as turns go), so a long chat costs O(log turns) counts
  const lastK = starts.length - 1;
  const nLast = lastK >= 1 ? await count(keep(lastK)) : n0;
  if (lastK < 1 || nLast > maxPromptTokens) {
    throw new SmolwebError(
      'CONTEXT_LENGTH',
      `the last message${first ? ' and the system message' : ''} take ${nLast} tokens, more than the ${maxPromptTokens} the context leaves for the prompt`,
    );
  }
  let lo = 1;
  let hi = lastK; // keep(hi) fits
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await count(keep(mid))) <= maxPromptTokens) hi = mid;
    else lo = mid + 1;
  }
  const kept = keep(hi);
  return { messages: kept, dropped: messages.length - kept.length };
}
