// llama.cpp's next-token probabilities for windows of tokens, through node-llama-cpp's prebuilt
// CPU library (pinned 3.21.1; offline: build "never"). Used by test_llama_cpp_agreement.
//   node next_token_probs.mjs MODEL.gguf WINDOWS.json THREADS [VOCAB=256] > PROBS.json
// WINDOWS.json: [[token, ...], ...], each window evaluated from an empty context.
// PROBS.json: per window, per position, the probabilities of all vocabulary tokens.
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, windowsPath, threads, vocabArg] = process.argv.slice(2);
const vocab = Number(vocabArg || 256);
const windows = JSON.parse(readFileSync(windowsPath, "utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
const longest = Math.max(...windows.map((w) => w.length));
const context = await model.createContext({contextSize: longest, threads: Number(threads || 1)});
const seq = context.getSequence();
const out = [];
for (const w of windows) {
  await seq.clearHistory();  // each window from an empty context
  const input = w.map((t) => [t, {generateNext: {probabilities: true, options: {temperature: 0}}}]);
  const res = await seq.controlledEvaluate(input);
  out.push(res.map((r) => {
    const probs = new Array(vocab).fill(0);
    for (const [tok, prob] of r.next.probabilities) probs[tok] = prob;
    return probs;
  }));
}
console.log(JSON.stringify(out));
await context.dispose();
await model.dispose();
