// The webview's link to VS Code and the UI state it keeps there (hidden variants, chosen layer and step, the
// report itself) across hide/show and reload; written at most once a second while a run is live.
import type { Report, WebviewToHost } from '../src/protocol';

export interface VsCodeApi {
  postMessage(msg: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare const acquireVsCodeApi: undefined | (() => VsCodeApi);

/** The VS Code API inside a webview; null in the standalone HTML report. */
export function vscodeApi(): VsCodeApi | null {
  return typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : null;
}

export interface SavedState {
  v: 1;
  hidden: string[];
  /** Cards folded by the user (absent in states saved before cards folded). */
  collapsed?: string[];
  /** Cards whose explanation is open. */
  captions?: string[];
  /** The summary's fold, once the user has set it. */
  summaryOpen?: boolean | null;
  layer: string | null;
  /** Step of the η profile (absent in states saved before it existed; null: the last probed step). */
  etaStep?: number | null;
  report: Report | null;
  live: boolean;
}

export class StateSaver {
  private timer = 0;
  private lastSave = 0;

  constructor(
    private readonly vscode: VsCodeApi,
    private readonly current: () => SavedState,
  ) {}

  save(live: boolean): void {
    if (this.timer && !live) {
      clearTimeout(this.timer);
      this.timer = 0;
    }
    if (this.timer) return;
    const write = () => {
      this.timer = 0;
      this.lastSave = performance.now();
      this.vscode.setState(this.current());
    };
    const wait = live ? 1000 - (performance.now() - this.lastSave) : 0;
    if (wait > 0) this.timer = window.setTimeout(write, wait);
    else write();
  }
}

/** The state saved by an earlier webview of the same view, if it is one this version can read. */
export function readSavedState(vscode: VsCodeApi | null): SavedState | null {
  const s = vscode?.getState() as SavedState | undefined;
  return s && s.v === 1 ? s : null;
}
