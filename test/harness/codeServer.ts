// Starting code-server (VS Code's workbench served to a browser, with a real Node extension host) for the
// integration suite and the VS Code e2e test. See scripts/install-code-server.sh for how it is installed.
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const CODE_SERVER_VERSION = '4.100.3';

export function codeServerDir(): string {
  return process.env.BNLENS_CODE_SERVER_DIR || path.join(repoRoot, '.ci-cache', 'code-server');
}
export function codeServerBin(): string {
  return path.join(codeServerDir(), 'node_modules', '.bin', 'code-server');
}

/** Installs code-server when it is missing (never skips: a failed install throws). */
export function ensureCodeServer(): string {
  const bin = codeServerBin();
  const stamp = path.join(codeServerDir(), `.installed-${CODE_SERVER_VERSION}`);
  if (fs.existsSync(bin) && fs.existsSync(stamp)) return bin;
  console.log(`code-server ${CODE_SERVER_VERSION} not found in ${codeServerDir()}: installing it`);
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'install-code-server.sh'), codeServerDir()], {
    stdio: 'inherit',
  });
  if (r.status !== 0 || !fs.existsSync(bin)) {
    throw new Error(`installing code-server failed (exit ${r.status}); run scripts/install-code-server.sh`);
  }
  return bin;
}

/** No extension marketplace: nothing is fetched from outside this machine (and nothing waits on it). */
export const offlineEnv = { EXTENSIONS_GALLERY: '{}' };

export function mkTemp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `bnlens-${prefix}-`));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** `code-server --install-extension` into extensionsDir; must run with no server using that folder. */
export function installExtension(vsix: string, extensionsDir: string, userDataDir: string): void {
  const r = spawnSync(codeServerBin(), ['--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsix, '--force'], { encoding: 'utf8', env: { ...process.env, ...offlineEnv } });
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0 || /failed|error/i.test(out.replace(/\berror reading\b/g, ''))) {
    throw new Error(`installing ${vsix} failed (exit ${r.status}):\n${out}`);
  }
}

export interface CodeServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything the server printed so far. */
  log: () => string;
  stop: () => Promise<void>;
}

export interface StartOptions {
  userDataDir: string;
  extensionsDir: string;
  workspace?: string;
  env?: Record<string, string>;
  /** File that receives the server's output as it comes. */
  logFile?: string;
  timeoutMs?: number;
}

export async function startCodeServer(opts: StartOptions): Promise<CodeServer> {
  const port = await freePort();
  const args = [
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir',
    opts.userDataDir,
    '--extensions-dir',
    opts.extensionsDir,
  ];
  if (opts.workspace) args.push(opts.workspace);
  const child = spawn(codeServerBin(), args, {
    env: { ...process.env, ...offlineEnv, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: stop() ends the server and its extension host together
  });
  let text = '';
  const logStream = opts.logFile ? fs.createWriteStream(opts.logFile) : undefined;
  const onData = (b: Buffer) => {
    text += b.toString();
    logStream?.write(b);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    }
    logStream?.end();
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!/HTTP server listening on/.test(text)) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}) before listening:\n${text}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not start listening in time:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://127.0.0.1:${port}/`, port, process: child, log: () => text, stop };
}

/** A workspace folder: a copy of examples/ plus a .vscode/settings.json with small, fast settings. */
export function makeWorkspace(settings: Record<string, unknown> = {}): string {
  const ws = mkTemp('ws');
  const examples = process.env.BNLENS_EXAMPLES_DIR || path.join(repoRoot, 'examples');
  if (fs.existsSync(examples)) fs.cpSync(examples, ws, { recursive: true });
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
  return ws;
}

/** Publisher and name from package.json: the extension id used in webview frame URLs. */
export function extensionId(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  return `${pkg.publisher ?? 'bnlens'}.${pkg.name}`;
}
