// Redraw scheduling: at most one draw per animation frame however many events arrive, and for a big report
// whose draw is slow, at least 3× the draw time between draws so a live run stays responsive.

export class RedrawScheduler {
  private pending = 0;
  private waiting = 0;
  private lastDrawMs = 0;
  private lastDrawEnd = 0;

  /** `draw` runs in an animation frame; `after` right after it (the saved state is written there). */
  constructor(
    private readonly draw: () => void,
    private readonly after: () => void,
  ) {}

  /** `throttle`: a live event (may wait for the gap); otherwise a user action (drawn in the next frame). */
  schedule(throttle = false): void {
    if (this.pending) return;
    if (this.waiting && !throttle) {
      clearTimeout(this.waiting);
      this.waiting = 0;
    }
    if (this.waiting) return;
    const gap = throttle ? Math.min(3 * this.lastDrawMs, 1000) - (performance.now() - this.lastDrawEnd) : 0;
    const frame = () => {
      this.pending = requestAnimationFrame(() => {
        this.pending = 0;
        const t0 = performance.now();
        this.draw();
        this.lastDrawEnd = performance.now();
        this.lastDrawMs = this.lastDrawEnd - t0;
        this.after();
      });
    };
    if (gap > 16) {
      this.waiting = window.setTimeout(() => {
        this.waiting = 0;
        frame();
      }, gap);
    } else frame();
  }
}
