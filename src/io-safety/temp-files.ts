/**
 * Temporary files in flight (written, not yet renamed into place). Normal paths remove their own temp file;
 * this registry is for the one path that cannot wait: a second Ctrl-C that exits the process at once. The CLI
 * calls removeTempFilesSync() before such an exit (and on 'exit'), so no `.name.pid.hex.tmp` is left behind.
 */
import { unlinkSync } from 'node:fs';

const pending = new Set<string>();

export function trackTempFile(path: string): void {
  pending.add(path);
}

export function untrackTempFile(path: string): void {
  pending.delete(path);
}

/** Paths written but not yet renamed or removed (for tests and diagnostics). */
export function pendingTempFiles(): string[] {
  return [...pending];
}

/** Removes every tracked temp file, synchronously (safe to call from an 'exit' handler). */
export function removeTempFilesSync(): void {
  for (const p of pending) {
    try {
      unlinkSync(p);
    } catch {
      // already gone
    }
    pending.delete(p);
  }
}
