// The report's JSON Schema (src/report/report.schema.json) is the single source of its structure. This checks
// that everything else that describes a report agrees with it:
//   - src/protocol.ts: the types generated from the schema (npm run schema → reportSchema.generated.ts) are
//     the same types as Report and friends, checked by the TypeScript compiler; and the generated file is
//     what the schema generates today.
//   - src/report/SCHEMA.md: every field of the schema is documented there, and every field documented in its
//     tables is a field of the schema.
//   - package.json: the schema is registered for saved reports, and the build ships it.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { ROOT } from './analyze-fixtures';

const schema = JSON.parse(readFileSync(join(ROOT, 'src/report/report.schema.json'), 'utf8'));

/** Every property name defined anywhere in the schema (wallMs's phase names are free-form, not fields). */
function schemaFields(): Set<string> {
  const out = new Set<string>();
  const walk = (s: unknown) => {
    if (Array.isArray(s)) return s.forEach(walk);
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    if (o.properties)
      for (const [k, v] of Object.entries(o.properties as object)) {
        out.add(k);
        walk(v);
      }
    for (const [k, v] of Object.entries(o)) if (k !== 'properties') walk(v);
  };
  walk(schema);
  return out;
}

test('every field of the schema is documented in SCHEMA.md', () => {
  const doc = readFileSync(join(ROOT, 'src/report/SCHEMA.md'), 'utf8');
  const missing = [...schemaFields()].filter((k) => !doc.includes(`\`${k}\``));
  assert.deepEqual(missing, [], `SCHEMA.md does not document: ${missing.join(', ')}`);
});

test('every field SCHEMA.md documents in its tables is a field of the schema', () => {
  const doc = readFileSync(join(ROOT, 'src/report/SCHEMA.md'), 'utf8');
  const fields = schemaFields();
  const documented = new Set<string>();
  for (const line of doc.split('\n')) {
    const first = /^\|([^|]+)\|/.exec(line)?.[1];
    if (!first || /^\s*-+\s*$/.test(first) || /^\s*field\s*$/.test(first)) continue;
    for (const m of first.matchAll(/`([A-Za-z][A-Za-z0-9]*)`/g)) documented.add(m[1]);
  }
  assert.ok(documented.size > 50, `only ${documented.size} fields found in SCHEMA.md's tables: is the table format still | \`field\` | … |?`);
  const unknown = [...documented].filter((k) => !fields.has(k));
  assert.deepEqual(unknown, [], `SCHEMA.md documents fields the schema does not have: ${unknown.join(', ')}`);
});

test('the generated types are up to date with the schema', async () => {
  const { generateReportTypes } = await import('../../scripts/gen-report-types.mjs');
  const fresh: string = await generateReportTypes();
  const committed = readFileSync(join(ROOT, 'src/report/reportSchema.generated.ts'), 'utf8');
  assert.ok(fresh === committed, 'src/report/reportSchema.generated.ts is stale: run `npm run schema` after editing report.schema.json');
});

/** Type errors of test/unit/report-schema-types.ts, with the given files' texts replaced (absolute path → text). */
function typeCheckErrors(overrides: Record<string, string> = {}): string[] {
  const file = join(ROOT, 'test/unit/report-schema-types.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    resolveJsonModule: true,
    esModuleInterop: true,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (name) => overrides[name] ?? read(name);
  const getSource = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError) => (name in overrides ? ts.createSourceFile(name, overrides[name], lang) : getSource(name, lang, onError));
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? `${d.file.fileName.replace(ROOT + '/', '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/** The line of report-schema-types.ts that a type error points at, e.g. `Check<Same<P.LrRun, S.LrRun>>`. */
function failingChecks(errors: string[]): string[] {
  const lines = readFileSync(join(ROOT, 'test/unit/report-schema-types.ts'), 'utf8').split('\n');
  return errors.map((e) => /^test\/unit\/report-schema-types\.ts:(\d+):/.exec(e)).map((m) => (m ? lines[Number(m[1]) - 1].trim() : '(elsewhere)'));
}

test('src/protocol.ts declares exactly the types the schema generates', () => {
  const errors = typeCheckErrors();
  assert.deepEqual(errors, [], `the types in src/protocol.ts and the schema differ:\n${errors.join('\n')}`);
});

test('the type check fails when a field is added to src/protocol.ts only', () => {
  const path = join(ROOT, 'src/protocol.ts');
  const text = readFileSync(path, 'utf8');
  const anchor = 'export interface LrRun {\n';
  assert.ok(text.includes(anchor), 'LrRun is declared in src/protocol.ts');
  const checks = failingChecks(typeCheckErrors({ [path]: text.replace(anchor, `${anchor}  addedHereOnly?: string;\n`) }));
  assert.ok(
    checks.some((c) => c.includes('P.LrRun, S.LrRun')),
    `no failing check names LrRun: ${checks.join(' | ')}`,
  );
});

test('the type check fails when a field is added to the schema only', async () => {
  const { generateReportTypes } = await import('../../scripts/gen-report-types.mjs');
  const changed = structuredClone(schema);
  changed.definitions.ModelInfo.properties.addedThereOnly = { type: 'string' };
  const generated = await generateReportTypes(changed);
  assert.match(generated, /addedThereOnly\?: string/);
  const checks = failingChecks(typeCheckErrors({ [join(ROOT, 'src/report/reportSchema.generated.ts')]: generated }));
  assert.ok(
    checks.some((c) => c.includes('P.ModelInfo, S.ModelInfo')),
    `no failing check names ModelInfo: ${checks.join(' | ')}`,
  );
});

test('package.json registers the schema for saved reports, and the build ships it', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const entry = (pkg.contributes.jsonValidation ?? []).find((j: { url: string }) => j.url === './dist/report.schema.json');
  assert.ok(entry, 'contributes.jsonValidation has no entry for ./dist/report.schema.json');
  for (const name of ['*.bnlens.json', 'bnlens-report.json']) assert.ok(entry.fileMatch.includes(name), `fileMatch lacks ${name}`);
  assert.ok(existsSync(join(ROOT, 'dist/report.schema.json')), 'dist/report.schema.json is missing: the build copies it');
  assert.deepEqual(JSON.parse(readFileSync(join(ROOT, 'dist/report.schema.json'), 'utf8')), schema);
  assert.match(readFileSync(join(ROOT, '.vscodeignore'), 'utf8'), /^!dist\/report\.schema\.json$/m);
});
