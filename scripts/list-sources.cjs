// Prints the CPU (.cc) sources from native/sources.txt, one per line, for binding.gyp's
// command expansion, so the node-gyp build can never drift from the CMake build.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const lines = readFileSync(join(root, 'native', 'sources.txt'), 'utf8').split('\n');
for (const line of lines) {
  const source = line.trim();
  if (source && !source.startsWith('#') && source.endsWith('.cc')) console.log(source);
}
