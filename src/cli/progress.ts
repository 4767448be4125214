/**
 * A one-line progress display on stderr with ETA (redrawn in place on a TTY; on a pipe, at most one line every
 * few seconds so logs stay readable). Quiet mode prints nothing.
 */
export interface ProgressLine {
  update(done: number, total: number, label: string): void;
  done(finalLine?: string): void;
}

export function createProgressLine(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): ProgressLine {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const start = performance.now();
  let lastPrint = 0;
  let drawn = false;
  return {
    update(done, total, label) {
      if (options.quiet) return;
      const now = performance.now();
      if (!tty && now - lastPrint < 5000 && done < total) return;
      lastPrint = now;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const elapsed = (now - start) / 1000;
      const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : NaN;
      const width = 20;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '-');
      const line =
        `[${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${label}  ${elapsed.toFixed(1)}s` +
        (Number.isFinite(eta) && done < total ? `, ETA ${eta.toFixed(1)}s` : '');
      if (tty) {
        stream.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else stream.write(line + '\n');
    },
    done(finalLine) {
      if (tty && drawn) stream.write('\r\x1b[2K');
      if (finalLine && !options.quiet) stream.write(finalLine + '\n');
    },
  };
}
