// typescript-eslint's recommended rules, run by `npm run lint` and as a suite of `npm test`. Kept small on
// purpose: the type checker (strict, noUnusedLocals, noUnusedParameters) already catches most of what lint
// rules would; these add the checks tsc does not make. Each rule turned off says why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const node = [
  'console',
  'process',
  'require',
  'module',
  '__dirname',
  'Buffer',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'URL',
  'TextEncoder',
  'TextDecoder',
  'performance',
  'structuredClone',
  'WebAssembly',
];

export default tseslint.config(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', '.ci-cache/**', '.vscode-test/**', 'test-artifacts/**', 'src/engine/backend/wasm/native/gemmWasm.ts', 'src/report/reportSchema.generated.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: Object.fromEntries(node.map((g) => [g, 'readonly'])) },
    rules: {
      // Unused names are tsc's job too (noUnusedLocals/noUnusedParameters), with its `_name` convention.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // The few require() calls are deliberate: the optional native tfjs-node, package.json at run time, and
      // CommonJS entry points (bin/bnlens.js, the test harness loading mocha).
      '@typescript-eslint/no-require-imports': 'off',
      // An initial value that every branch then overwrites is kept where it makes the declaration read clearly.
      'no-useless-assignment': 'off',
    },
  },
  {
    // Tests build malformed reports and messages on purpose.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
