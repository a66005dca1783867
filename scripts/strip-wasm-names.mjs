// Drops the `name` custom section (function, local and data segment names) from a wasm
// file, in place, and leaves every other byte as it was. worker-build always runs
// wasm-opt with --debuginfo, which keeps that section: about 120 KiB of the gzipped
// Worker bundle, used only to name wasm frames in stack traces. Panics still log their
// message and source location. (Cargo's `strip = true` would drop it too, but also drops
// the `target_features` section wasm-bindgen reads to pick its glue.)
// Usage: node scripts/strip-wasm-names.mjs functions/build/index_bg.wasm
import { readFileSync, renameSync, writeFileSync } from "node:fs";

const file = process.argv[2];
const wasm = readFileSync(file);
if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${file} is not a wasm module`);

let at = 8;
/** Reads an unsigned LEB128 number at `at` and moves past it. */
function uleb() {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = wasm[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return value;
}

const kept = [wasm.subarray(0, 8)];
let dropped = 0;
while (at < wasm.length) {
  const sectionStart = at;
  const id = wasm[at++];
  const size = uleb();
  const end = at + size;
  if (end > wasm.length) throw new Error(`${file}: section at byte ${sectionStart} runs past the end`);
  let isNames = false;
  if (id === 0) {
    const nameLength = uleb();
    isNames = wasm.subarray(at, at + nameLength).toString("utf8") === "name";
  }
  if (isNames) dropped += end - sectionStart;
  else kept.push(wasm.subarray(sectionStart, end));
  at = end;
}

if (dropped > 0) {
  writeFileSync(`${file}.tmp`, Buffer.concat(kept));
  renameSync(`${file}.tmp`, file);
}
console.log(`${file}: dropped ${(dropped / 1024).toFixed(1)} KiB of wasm names`);
