/**
 * A one-line progress display on stderr with ETA (redrawn in place on a TTY; on a pipe, at most one line every
 * few seconds so logs stay readable). Quiet mode prints nothing.
 */
import { escapeControls } from '../errors.js';
import type { TextSink } from './context.js';

export interface ProgressLine {
  update(done: number, total: number, label: string): void;
  done(finalLine?: string): void;
  /** A line above the bar (a warning, a failed file), which the bar does not tear; shown even when quiet; control characters escaped. */
  say(text: string): void;
}

export function createProgressLine(stream: TextSink, quiet = false): ProgressLine {
  const tty = Boolean(stream.isTTY);
  const start = performance.now();
  let lastPrint = -Infinity; // the first update prints at once, also on a pipe
  let drawn = false;
  return {
    update(done, total, label) {
      if (quiet) return;
      const now = performance.now();
      if (!tty && now - lastPrint < 5000 && done < total) return;
      lastPrint = now;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const elapsed = (now - start) / 1000;
      const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : NaN;
      const width = 20;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '-');
      const line =
        `[${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${escapeControls(label)}  ${elapsed.toFixed(1)}s` +
        (Number.isFinite(eta) && done < total ? `, ETA ${eta.toFixed(1)}s` : '');
      if (tty) {
        stream.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else stream.write(line + '\n');
    },
    done(finalLine) {
      if (tty && drawn) stream.write('\r\x1b[2K');
      if (finalLine && !quiet) stream.write(finalLine + '\n');
    },
    say(text) {
      this.done();
      stream.write(escapeControls(text) + '\n'); // one line, whatever a file name in it holds
    },
  };
}
