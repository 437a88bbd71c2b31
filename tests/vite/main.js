// A page as an app would write it: the package by name, nothing else.
import { loadModel } from 'smolweb';

const out = document.getElementById('out');

// The test calls this: load, greedy generation from a string prompt, then a
// chat turn (rendered by @huggingface/jinja, resolved by Vite).
window.runSmolweb = async ({ manifestUrl, prompt, n, chat, chatN }) => {
  const events = [];
  const model = await loadModel(manifestUrl, { onProgress: (p) => events.push(p), cache: false });
  const greedy = { temperature: 0, repeatPenalty: 1, ignoreEos: true };
  let text = '';
  for await (const piece of model.generate(prompt, { ...greedy, maxTokens: n })) text += piece;
  const run = model.lastRun;
  let chatText = '';
  for await (const piece of model.generate(chat, { ...greedy, maxTokens: chatN })) chatText += piece;
  const chatRun = model.lastRun;
  out.textContent = text + chatText;
  const info = model.info;
  await model.dispose();
  return { info, events, text, run, chatText, chatRun };
};
out.textContent = 'ready';
