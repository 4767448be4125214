/** Shared by the CLI tests: `sr` in-process and as a process, temp folders, and hand-made files (bombs, BMPs). */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { main } from '../src/cli/main.js';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = join(root, 'dist', 'src', 'cli', 'index.js');
/** Fast settings with the tiny fixture model. */
export const FAST = ['--model', 'fixture', '--steps', '2', '--t', '20', '--seed', '1'];

export const tempDir = (tag: string): string => mkdtempSync(join(tmpdir(), `sr-rob-${tag}-`));

export interface SrResult {
  status: number;
  stdout: string;
  stderr: string;
}

// relative paths in the CLI tests (./no-such-model) are relative to the repository root, as for the binary
if (process.cwd() !== root) process.chdir(root);

/**
 * `sr <args>` in this process (the CLI's `main`, with stdout and stderr collected): the same parsing, messages and
 * exit codes as the binary without a process start.
 */
export async function sr(args: string[], signal = new AbortController().signal): Promise<SrResult> {
  let stdout = '';
  let stderr = '';
  const status = await main({
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    signal,
    argv: args,
  });
  return { status, stdout, stderr };
}

/** `sr <args>` as a process: for what only a process shows (signals, the binary's start, pipes, environment). */
export function srProcess(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, SR_DEBUG: '', ...env } });
}

/** Runs the CLI and sends `signal` once stderr matches `when`; resolves with the exit status and stderr. */
export function srInterrupted(
  args: string[],
  when: RegExp,
  signal: NodeJS.Signals,
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string; sent: boolean }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && when.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('close', (status, sig) => res({ status, signal: sig, stderr, sent }));
  });
}

/** One line, no stack trace. */
export function isOneLine(stderr: string): boolean {
  const lines = stderr.trim().split('\n');
  return lines.length === 1 && !/\n\s+at /.test(stderr);
}

/** A w×h RGB PNG with some texture. */
export async function rgbPng(path: string, w: number, h: number, seed = 1): Promise<void> {
  const buf = Buffer.alloc(w * h * 3);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 37 + seed * 101 + ((i / 3 / w) | 0) * 11) & 255;
  await sharp(buf, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(path);
}

function crc32(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const b of buf) {
    let c = (crc ^ b) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A small PNG whose header claims width×height (a decompression bomb / oversize stand-in; pixel data is junk). */
export function claimedSizePng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid 2×2 24-bit BMP (a real image format this tool does not read). */
export function bmp2x2(): Buffer {
  const row = Buffer.from([0, 0, 255, 0, 255, 0, 0, 0]); // 2 BGR pixels + 2 bytes padding
  const pixels = Buffer.concat([row, row]);
  const h = Buffer.alloc(54);
  h.write('BM', 0, 'latin1');
  h.writeUInt32LE(54 + pixels.length, 2);
  h.writeUInt32LE(54, 10);
  h.writeUInt32LE(40, 14);
  h.writeInt32LE(2, 18);
  h.writeInt32LE(2, 22);
  h.writeUInt16LE(1, 26);
  h.writeUInt16LE(24, 28);
  h.writeUInt32LE(pixels.length, 34);
  return Buffer.concat([h, pixels]);
}
