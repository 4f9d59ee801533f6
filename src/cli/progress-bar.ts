import type { AnalysisProgress } from '../track/capture-analysis.js';
import { formatCount } from '../report/format-time.js';
import type { TextOut } from './cli-io.js';

const WIDTH = 24;
const REDRAW_MS = 100;

/** A one-line progress bar on stderr: bytes done of total, packets/s, ETA. Only on a TTY. */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly stream: TextOut) {}

  update(progress: AnalysisProgress): void {
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = progress.packets / seconds;
    let line: string;
    if (progress.totalBytes) {
      const fraction = Math.min(progress.bytesRead / progress.totalBytes, 1);
      const filled = Math.round(fraction * WIDTH);
      const eta = fraction > 0 ? (seconds / fraction) * (1 - fraction) : 0;
      line = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${mb(progress.bytesRead)}/${mb(progress.totalBytes)}  ${formatCount(Math.round(rate))} packets/s  ETA ${eta.toFixed(0)} s`;
    } else {
      line = `${mb(progress.bytesRead)} read  ${formatCount(progress.packets)} packets  ${formatCount(Math.round(rate))} packets/s`;
    }
    this.stream.write(`\r${line}\u001b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\u001b[K');
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}
