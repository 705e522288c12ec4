// The last report of every network file: kept in memory, and written to the extension's workspace storage
// (context.storageUri) so hovers and code lenses still have it after a reload. Reports are not written
// next to the user's files unasked (that would dirty their repository); "Save Report As…" does that.
// No `vscode` here: the storage directory is a plain path.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Report } from '../protocol';
import { validateReport } from '../report/validate';

export function reportKey(file: string): string {
  const norm = process.platform === 'win32' || process.platform === 'darwin' ? path.normalize(file).toLowerCase() : path.normalize(file);
  return createHash('sha1').update(norm).digest('hex').slice(0, 20);
}

/** Parsed JSON as a BatchNorm Lens report, checked by the schema's own validator; null if it is not one. */
export function asReport(x: unknown): Report | null {
  const v = validateReport(x);
  return v.ok ? v.report : null;
}

export class ReportStore {
  private readonly mem = new Map<string, Report | null>();
  private readonly listeners = new Set<(file: string) => void>();
  private writes: Promise<void> = Promise.resolve();

  /** `dir`: where reports are persisted; null keeps them in memory only (no workspace open). */
  constructor(
    private readonly dir: string | null,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  private fileFor(file: string): string | null {
    return this.dir ? path.join(this.dir, 'reports', `${reportKey(file)}.json`) : null;
  }

  /** The last report for `file` (loaded from storage the first time it is asked for). */
  get(file: string): Report | null {
    const k = reportKey(file);
    if (this.mem.has(k)) return this.mem.get(k) ?? null;
    let r: Report | null = null;
    const f = this.fileFor(file);
    if (f && fs.existsSync(f)) {
      try {
        r = asReport(JSON.parse(fs.readFileSync(f, 'utf8')));
      } catch (e) {
        this.log(`ignoring an unreadable stored report ${f}: ${(e as Error).message}`);
      }
    }
    this.mem.set(k, r);
    return r;
  }

  /** Keeps `report` as the last one for `file`; `persist` writes it to storage (done for finished or stopped runs). */
  set(file: string, report: Report, persist = true): void {
    this.mem.set(reportKey(file), report);
    if (persist) {
      const f = this.fileFor(file);
      if (f) {
        const text = JSON.stringify(report);
        this.writes = this.writes.then(async () => {
          try {
            await fs.promises.mkdir(path.dirname(f), { recursive: true });
            const tmp = `${f}.${process.pid}.tmp`;
            await fs.promises.writeFile(tmp, text);
            await fs.promises.rename(tmp, f);
          } catch (e) {
            this.log(`could not store the report for ${file}: ${(e as Error).message}`);
          }
        });
      }
    }
    this.fire(file);
  }

  /** Tells listeners that `file`'s report changed in place (live events). */
  touch(file: string): void {
    this.fire(file);
  }

  onDidChange(l: (file: string) => void): { dispose(): void } {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }

  /** Resolves when every write so far is on disk. */
  flush(): Promise<void> {
    return this.writes;
  }

  private fire(file: string): void {
    for (const l of this.listeners) l(file);
  }
}
