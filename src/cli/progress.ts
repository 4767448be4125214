/**
 * A one-line progress display on stderr with ETA (redrawn in place on a TTY; on a pipe, at most one line every
 * few seconds so logs stay readable). Quiet mode prints nothing. The ETA is the rate since the first update (so the
 * model load before it does not count as work), once that has run a few seconds; before, the time the work was
 * expected to take (`expect`) less the time since, when known.
 */
import { escapeControls } from '../errors.js';
import type { TextSink } from './context.js';

export interface ProgressLine {
  update(done: number, total: number, label: string): void;
  /** The work is expected to take this many seconds from now (an estimate, for the ETA until the rate is known). */
  expect(seconds: number): void;
  done(finalLine?: string): void;
  /** A line above the bar (a warning, a failed file), which the bar does not tear; shown even when quiet; control characters escaped. */
  say(text: string): void;
}

/** The ETA goes by the measured rate once the work has run this long since the first update. */
const RATE_AFTER_MS = 3000;
/** With an estimate, the ETA goes by the rate alone once this share of the work is done. */
const RATE_TRUSTED = 0.2;

export function createProgressLine(stream: TextSink, quiet = false): ProgressLine {
  const tty = Boolean(stream.isTTY);
  const start = performance.now();
  let lastPrint = -Infinity; // the first update prints at once, also on a pipe
  let drawn = false;
  let anchor: { at: number; frac: number } | null = null;
  let expected: { at: number; seconds: number } | null = null;
  const etaAt = (now: number, frac: number): number => {
    const byEstimate = expected ? Math.max(0, expected.seconds - (now - expected.at) / 1000) : NaN;
    if (!anchor || frac <= anchor.frac || now - anchor.at < RATE_AFTER_MS) return byEstimate;
    const byRate = ((now - anchor.at) / 1000) * ((1 - frac) / (frac - anchor.frac));
    if (!expected) return byRate;
    // from the estimate to the measured rate over the first RATE_TRUSTED of the work (an early rate is noisy: the
    // upsampling before the first tile counts in it)
    const w = Math.min(1, (frac - anchor.frac) / RATE_TRUSTED);
    return w * byRate + (1 - w) * byEstimate;
  };
  return {
    expect(seconds) {
      if (Number.isFinite(seconds) && seconds >= 0) expected = { at: performance.now(), seconds };
    },
    update(done, total, label) {
      if (quiet) return;
      const now = performance.now();
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      anchor ??= { at: now, frac };
      if (!tty && now - lastPrint < 5000 && done < total) return;
      lastPrint = now;
      const elapsed = (now - start) / 1000;
      const eta = etaAt(now, frac);
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
