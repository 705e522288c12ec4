// The extension's own README (media/README.md, what the Extensions view and the "Supported Layers" command
// show) names every layer type the JSON reader accepts, so the quick fix on an unsupported layer leads to a
// list that is true. The engine's list is the source; this fails when a layer is added to one side only.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SUPPORTED_LAYERS } from '../../src/engine/network/parse';

const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'media', 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`### ${title}`);
  assert.ok(start >= 0, `media/README.md has a "### ${title}" section`);
  const end = readme.indexOf('\n#', start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}

test('media/README.md lists every layer type the JSON reader supports, under "Supported layers"', () => {
  const json = section('Supported layers')
    .split('\n- ')
    .find((b) => b.startsWith('**JSON files'));
  assert.ok(json, 'a JSON files entry');
  const named = new Set(json.match(/[A-Z][A-Za-z0-9]+/g));
  const missing = SUPPORTED_LAYERS.filter((l) => !named.has(l));
  assert.deepEqual(missing, [], `add to media/README.md: ${missing.join(', ')}`);
});

test('the "Supported Layers" command opens the section that exists', () => {
  const ext = readFileSync(join(ROOT, 'src', 'extension.ts'), 'utf8');
  const fragment = /fragment: '([^']+)'/.exec(ext)?.[1];
  assert.equal(fragment, 'supported-layers');
  // GitHub-style slug of "### Supported layers", which the markdown preview uses for its anchors.
  assert.match(readme, /^### Supported layers$/m);
});
