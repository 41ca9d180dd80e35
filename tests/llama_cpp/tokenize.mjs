// llama.cpp's token ids for texts, through node-llama-cpp's prebuilt CPU library (pinned
// 3.21.1; offline: build "never"): no start token added, special tokens not parsed from the
// text, as `chimera generate` encodes a continuation. Used by test_llama_cpp_agreement.
//   node tokenize.mjs MODEL.gguf TEXTS.json > IDS.json
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, textsPath] = process.argv.slice(2);
const texts = JSON.parse(readFileSync(textsPath, "utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
console.log(JSON.stringify(texts.map((t) => Array.from(model.tokenize(t, false)))));
await model.dispose();
