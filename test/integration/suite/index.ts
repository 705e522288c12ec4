// The integration scenarios, run INSIDE the extension host (@vscode/test-electron style): whoever launches
// VS Code (code-server harness, test-electron) calls run(). Each scenario file registers its `describe`s
// when it is required after mocha's BDD globals are installed.
import * as mochaModule from 'mocha';

// mocha 12 is an ES module: require() gives its namespace (Mocha as `.Mocha` and `.default`).
const Mocha: typeof import('mocha') = (mochaModule as any).Mocha ?? (mochaModule as any).default ?? (mochaModule as any);

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec' });
  // Install describe/it/before… on the global object, then load the scenario modules (bundled).
  mocha.suite.emit('pre-require', globalThis, 'bnlens-integration', mocha);
  require('./extension.test');
  require('./prompts.test');
  require('./onnx.test');
  require('./python.test');
  return new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
