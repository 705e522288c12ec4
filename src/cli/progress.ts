// Progress on stderr: one live line on a terminal (step, variant, loss, ETA), plain lines every ~5% otherwise
// so logs of CI runs stay short.

import { formatDuration } from '../formatDuration';
import type { EvalRecord, Progress, Report, StepRecord } from '../protocol';

export class ProgressLine {
  private readonly tty: boolean;
  private lastPlain = -1;
  private live = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly quiet: boolean,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  start(r: Report): void {
    if (this.quiet) return;
    const c = r.config;
    this.write(
      `bnlens: ${r.model.path} — ${r.variants.map((v) => v.name).join(', ')} on ${r.dataset.name.split(' — ')[0]} (${r.dataset.trainSize} train / ${r.dataset.testSize} held out), ` +
        `${c.steps} steps, batch ${c.batch}, lr ${c.lr}, ${r.eta.length} η in [${c.etaRange.join(', ')}]·lr\n` +
        `bnlens: backend ${r.run.backend} — ${r.run.backendReason}\n`,
    );
  }

  step(variant: string, rec: StepRecord, p: Progress): void {
    if (this.quiet) return;
    const pct = Math.floor((100 * p.done) / p.total);
    const text = `step ${rec.step + 1}  ${variant.padEnd(15)} loss ${rec.loss.toFixed(4)}  β ${(rec.beta ?? NaN).toFixed(2)}  ${pct}%  ETA ${formatDuration(p.etaMs)}`;
    if (this.tty) {
      const width = 28;
      const filled = Math.round((width * p.done) / p.total);
      this.out.write(`\r\x1b[2K[${'█'.repeat(filled)}${' '.repeat(width - filled)}] ${text}`);
      this.live = true;
    } else if (Math.floor(pct / 5) !== this.lastPlain || p.done === p.total) {
      this.lastPlain = Math.floor(pct / 5);
      this.write(`${text}\n`);
    }
  }

  eval(variant: string, e: EvalRecord): void {
    if (this.quiet) return;
    const own =
      typeof e.batchStatsAccuracy === 'number'
        ? ` (${(100 * e.batchStatsAccuracy).toFixed(1)}% with each held-out batch's own BatchNorm statistics${(e.movingStatsInitWeight ?? 0) > 0.05 ? '; moving statistics still warming up' : ''})`
        : '';
    const acc = e.accuracy === null ? '' : `, accuracy ${(100 * e.accuracy).toFixed(1)}%${own}`;
    this.note(`held-out ${variant} at step ${e.step}: loss ${(e.loss ?? NaN).toFixed(4)}${acc}`);
  }

  note(msg: string): void {
    if (this.quiet) return;
    this.write(`bnlens: ${msg}\n`);
  }

  end(): void {
    if (this.live) this.out.write('\n');
    this.live = false;
  }

  private write(s: string): void {
    if (this.live) {
      this.out.write('\r\x1b[2K');
      this.live = false;
    }
    this.out.write(s);
  }
}
