// The run history of every network file: the last few complete and partial reports, kept in memory and
// written to the extension's global storage so hovers, code lenses and the charts still have them after a
// reload. Not the workspace storage (context.storageUri): VS Code locks that folder per extension host, and
// a host that starts while another still holds the lock (a reload whose old host has not exited yet, a
// second window on the same folder) is given a sibling folder ("<id>-1") without the reports. Reports are
// keyed by the network file's path, so every window on the file sees the same history. Reports are not
// written next to the user's files unasked (that would dirty their repository); "Save Report As…" does that.
//
// Which report a file "has" (hover, code lens, the charts by default): the one the user picked in the
// charts view, else the newest complete one, else the newest partial one. A stopped re-run therefore never
// replaces a complete report silently; it is kept beside it in the history.
// No `vscode` here: the storage directory is a plain path.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Report } from '../protocol';
import { runProgress } from '../report/progress';
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

/** One run in a file's history, without its (possibly large) report. */
export interface RunEntry {
  /** The report's createdAt plus a counter if two runs started in the same millisecond. */
  id: string;
  createdAt: string;
  complete: boolean;
  stopReason: string | null;
  /** Steps of the run every variant finished, and the run's planned steps. */
  step: number;
  steps: number;
  variants: string[];
  lr: number;
  batch: number;
  dataset: string;
}

/** How many runs a file keeps: the newest complete one is always among them. */
export const HISTORY_LIMIT = 5;

interface FileHistory {
  entries: RunEntry[];
  /** Loaded reports by id (the others are read from storage when asked for). */
  reports: Map<string, Report>;
  /** The run the user picked in the charts view (not persisted: a reload shows the newest complete). */
  selected: string | null;
  /** The stored index's modification time when last read or written: another window's write changes it. */
  indexMtime: number;
}

export function entryOf(id: string, r: Report): RunEntry {
  return {
    id,
    createdAt: r.createdAt,
    complete: r.complete,
    stopReason: r.stopReason,
    step: runProgress(r).step,
    steps: r.config.steps,
    variants: r.variants.map((v) => v.name),
    lr: r.config.lr,
    batch: r.config.batch,
    dataset: r.dataset?.name ?? r.config.dataset,
  };
}

/** The entries to keep: the newest first, at most `limit`, always including the newest complete one. */
export function prune(entries: RunEntry[], limit = HISTORY_LIMIT): RunEntry[] {
  const sorted = [...entries].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const keep = sorted.slice(0, limit);
  const newestComplete = sorted.find((e) => e.complete);
  if (newestComplete && !keep.includes(newestComplete)) keep.splice(limit - 1, 1, newestComplete);
  return keep;
}

/** The default run of a history: the newest complete one, else the newest. */
export function defaultEntry(entries: readonly RunEntry[]): RunEntry | null {
  return entries.find((e) => e.complete) ?? entries[0] ?? null;
}

/** Where a store keeps what it keeps, beside the directory itself. */
export interface StoreOptions {
  /** The workspace the window has open (its folders' or workspace file's URIs), or null: the last file is noted per workspace. */
  workspace?: string | null;
  /** Directories earlier versions stored reports in (the workspace storage): a history found only there is moved here. */
  earlierDirs?: readonly string[];
}

export class ReportStore {
  private readonly files = new Map<string, FileHistory>();
  private readonly listeners = new Set<(file: string) => void>();
  private writes: Promise<void> = Promise.resolve();
  private last: string | null = null;
  private readonly earlierDirs: readonly string[];
  private readonly workspace: string | null;

  /** `dir`: where reports are persisted; null keeps them in memory only. */
  constructor(
    private readonly dir: string | null,
    private readonly log: (msg: string) => void = () => undefined,
    options: StoreOptions = {},
  ) {
    this.earlierDirs = (options.earlierDirs ?? []).filter((d) => d !== dir);
    this.workspace = options.workspace ?? null;
  }

  private dirFor(file: string): string | null {
    return this.dir ? path.join(this.dir, 'reports', reportKey(file)) : null;
  }

  /**
   * Moves `file`'s history from an earlier version's directory into this store's, if only that one has it:
   * a history directory, or the single report of the versions before histories (`<key>.json`, which
   * history() then turns into the first entry).
   */
  private adoptEarlier(file: string, d: string): void {
    if (fs.existsSync(path.join(d, 'index.json')) || fs.existsSync(`${d}.json`)) return;
    for (const earlier of this.earlierDirs) {
      const dir = path.join(earlier, 'reports', reportKey(file));
      const from = fs.existsSync(path.join(dir, 'index.json')) ? dir : fs.existsSync(`${dir}.json`) ? `${dir}.json` : null;
      if (!from) continue;
      const to = from === dir ? d : `${d}.json`;
      try {
        fs.mkdirSync(path.dirname(d), { recursive: true });
        fs.cpSync(from, to, { recursive: true });
        fs.rmSync(from, { recursive: true, force: true });
      } catch (e) {
        this.log(`could not move the run history of ${file} from ${from}: ${(e as Error).message}`);
      }
      return;
    }
  }

  private history(file: string): FileHistory {
    const k = reportKey(file);
    const d = this.dirFor(file);
    let h = this.files.get(k);
    if (h) {
      // Another window on the same file may have stored a run since: take its entries in.
      if (d && indexMtime(d) !== h.indexMtime) h.entries = prune(union(h.entries, this.readIndex(d, h)));
      return h;
    }
    h = { entries: [], reports: new Map(), selected: null, indexMtime: 0 };
    this.files.set(k, h);
    if (d) {
      this.adoptEarlier(file, d);
      h.entries = this.readIndex(d, h);
    }
    // The single report stored by earlier versions becomes the first entry of the history.
    const legacy = d ? `${d}.json` : null;
    if (legacy && h.entries.length === 0 && fs.existsSync(legacy)) {
      const r = this.readReport(legacy);
      if (r) this.put(file, h, r, true);
    }
    return h;
  }

  /** The entries of the stored index whose reports are on disk; notes the index's time in `h`. */
  private readIndex(d: string, h: FileHistory): RunEntry[] {
    h.indexMtime = indexMtime(d);
    if (!h.indexMtime) return [];
    try {
      const index = JSON.parse(fs.readFileSync(path.join(d, 'index.json'), 'utf8')) as { entries?: RunEntry[] };
      return (index.entries ?? []).filter((e) => e && typeof e.id === 'string' && fs.existsSync(this.reportPath(d, e.id)));
    } catch (e) {
      this.log(`ignoring an unreadable run history ${d}: ${(e as Error).message}`);
      return [];
    }
  }

  private reportPath(d: string, id: string): string {
    return path.join(d, `${id.replace(/[^\w.-]+/g, '-')}.json`);
  }

  private readReport(f: string): Report | null {
    try {
      return asReport(JSON.parse(fs.readFileSync(f, 'utf8')));
    } catch (e) {
      this.log(`ignoring an unreadable stored report ${f}: ${(e as Error).message}`);
      return null;
    }
  }

  private load(file: string, h: FileHistory, id: string): Report | null {
    const hit = h.reports.get(id);
    if (hit) return hit;
    const d = this.dirFor(file);
    const r = d ? this.readReport(this.reportPath(d, id)) : null;
    if (r) h.reports.set(id, r);
    return r;
  }

  /** The run history of `file`, newest first. */
  runs(file: string): RunEntry[] {
    return this.history(file).entries.slice();
  }

  /** The id of the run `get(file)` returns, if any. */
  shownId(file: string): string | null {
    const h = this.history(file);
    if (h.selected && h.entries.some((e) => e.id === h.selected)) return h.selected;
    return defaultEntry(h.entries)?.id ?? null;
  }

  /** The report `file` has: the picked run, else the newest complete, else the newest partial. */
  get(file: string): Report | null {
    const id = this.shownId(file);
    return id ? this.load(file, this.history(file), id) : null;
  }

  /** A run of the history by id. */
  getRun(file: string, id: string): Report | null {
    const h = this.history(file);
    return h.entries.some((e) => e.id === id) ? this.load(file, h, id) : null;
  }

  /** Makes `id` the run `file` shows (null: back to the default). */
  select(file: string, id: string | null): void {
    const h = this.history(file);
    h.selected = id && h.entries.some((e) => e.id === id) ? id : null;
    this.fire(file);
  }

  /**
   * Adds `report` to `file`'s history, or updates its entry (the same createdAt: a live run growing).
   * `persist` writes it to storage (done for finished, stopped and failed runs, not for every live event).
   * Returns the run's id.
   */
  set(file: string, report: Report, persist = true): string {
    const h = this.history(file);
    const id = this.put(file, h, report, persist);
    this.fire(file);
    return id;
  }

  private put(file: string, h: FileHistory, report: Report, persist: boolean): string {
    const existing = h.entries.find((e) => e.createdAt === report.createdAt);
    const id = existing?.id ?? report.createdAt;
    const entry = entryOf(id, report);
    const dropped = h.entries.filter((e) => e.id !== id);
    const kept = prune([entry, ...dropped.filter((e) => e.id !== id)]);
    const gone = dropped.filter((e) => !kept.includes(e));
    h.entries = kept;
    h.reports.set(id, report);
    for (const g of gone) h.reports.delete(g.id);
    if (h.selected && !kept.some((e) => e.id === h.selected)) h.selected = null;
    const d = this.dirFor(file);
    if (d && persist) {
      const text = JSON.stringify(report);
      this.writes = this.writes.then(async () => {
        try {
          await fs.promises.mkdir(d, { recursive: true });
          await atomicWrite(this.reportPath(d, id), text);
          // Runs another window stored meanwhile stay in the history (the index is rewritten whole). Read,
          // merge and write without yielding, so that the gap another writer could fall into is microseconds.
          const stored = this.readIndex(d, h);
          const merged = prune(union(h.entries, stored));
          atomicWriteSync(path.join(d, 'index.json'), JSON.stringify({ file, entries: merged }, null, 1));
          h.indexMtime = indexMtime(d);
          const outside = [...gone, ...stored].filter((e) => !merged.some((m) => m.id === e.id));
          for (const g of outside) await fs.promises.rm(this.reportPath(d, g.id), { force: true });
          const legacy = `${d}.json`;
          if (fs.existsSync(legacy)) await fs.promises.rm(legacy, { force: true });
          if (merged.length !== h.entries.length || merged.some((e, i) => e.id !== h.entries[i].id)) {
            h.entries = merged;
            this.fire(file);
          }
        } catch (e) {
          this.log(`could not store the report for ${file}: ${(e as Error).message}`);
        }
      });
    }
    return id;
  }

  /** Where the last file of this store's workspace is noted (one note per workspace: the directory is shared). */
  private lastFilePath(dir: string): string {
    return this.workspace ? path.join(dir, 'last-file', `${createHash('sha1').update(this.workspace).digest('hex').slice(0, 20)}.json`) : path.join(dir, 'last-file.json');
  }

  /**
   * The network file the charts followed last in this workspace, kept beside the reports (on the extension
   * host's disk, so a window reload finds it even when the workbench's own storage has not been flushed yet).
   */
  lastFile(): string | null {
    if (!this.dir) return null;
    const notes = [this.lastFilePath(this.dir), ...this.earlierDirs.map((d) => path.join(d, 'last-file.json'))];
    for (const note of notes) {
      try {
        const f = (JSON.parse(fs.readFileSync(note, 'utf8')) as { file?: unknown }).file;
        if (typeof f === 'string') return f;
      } catch {
        // no note here: try the next place
      }
    }
    return null;
  }

  setLastFile(file: string): void {
    if (!this.dir || this.last === file) return;
    this.last = file;
    const note = this.lastFilePath(this.dir);
    this.writes = this.writes.then(async () => {
      try {
        await fs.promises.mkdir(path.dirname(note), { recursive: true });
        await atomicWrite(note, JSON.stringify({ file }));
      } catch (e) {
        this.log(`could not note the last network file: ${(e as Error).message}`);
      }
    });
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

/** Both lists' entries, one per id (the first list's copy wins). */
function union(mine: readonly RunEntry[], theirs: readonly RunEntry[]): RunEntry[] {
  return [...mine, ...theirs.filter((t) => !mine.some((m) => m.id === t.id))];
}

/** The stored index's modification time in ms, 0 if there is none. */
function indexMtime(d: string): number {
  try {
    return fs.statSync(path.join(d, 'index.json')).mtimeMs;
  } catch {
    return 0;
  }
}

function atomicWriteSync(f: string, text: string): void {
  const tmp = `${f}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, f);
}

async function atomicWrite(f: string, text: string): Promise<void> {
  const tmp = `${f}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, text);
  await fs.promises.rename(tmp, f);
}
