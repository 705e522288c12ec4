// The module shares the tfjs heap, so it must not place a stack or data in memory: no data section and
// one imported memory (build.sh checks the code for stack use).
import { readFileSync } from 'node:fs';
const bytes = readFileSync(process.argv[2]);
const mod = new WebAssembly.Module(bytes);
const imports = WebAssembly.Module.imports(mod);
const exports = WebAssembly.Module.exports(mod);
let off = 8;
const sections = [];
const leb = () => {
  let r = 0,
    s = 0,
    b;
  do {
    b = bytes[off++];
    r |= (b & 0x7f) << s;
    s += 7;
  } while (b & 0x80);
  return r >>> 0;
};
while (off < bytes.length) {
  const id = bytes[off++];
  const len = leb();
  sections.push(id);
  off += len;
}
const bad = [];
if (sections.includes(11)) bad.push('a data section');
if (imports.length !== 1 || imports[0].kind !== 'memory') bad.push(`imports ${JSON.stringify(imports)}`);
if (bad.length) {
  console.error(`check-wasm: the module has ${bad.join(', ')}`);
  process.exit(1);
}
console.log(`check-wasm: ok; exports ${exports.map((e) => e.name).join(', ')}`);
