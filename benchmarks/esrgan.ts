/**
 * UpscalerJS esrgan-thick through its reference runner (`bash ../shared/tools/esrgan-thick/setup.sh DIR`, then
 * `DIR/run.cjs --serve`): one child process that has loaded the models for `factors` and upscales a PNG file to a PNG
 * file per request, timing its own model work. For the side-by-side benchmarks (versus.ts, degraded.ts).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';

export interface Esrgan {
  /** What the runner said when ready (tfjs version, backend, load seconds). */
  ready: Record<string, unknown>;
  /** Upscales `lr` (an 8-bit PNG) by `factor` into `out`; the runner's seconds of model work. */
  upscale(lr: string, out: string, factor: number): Promise<{ sec: number }>;
  quit(): void;
}

export async function startEsrgan(dir: string, factors: string): Promise<Esrgan> {
  const child = fork(join(dir, 'run.cjs'), ['--serve', '--preload', factors], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const replies: ((m: Record<string, unknown>) => void)[] = [];
  child.on('message', (m) => replies.shift()?.(m as Record<string, unknown>));
  const nextReply = () => new Promise<Record<string, unknown>>((res) => replies.push(res));
  const ready = await nextReply();
  return {
    ready,
    async upscale(lr, out, factor) {
      const wait = nextReply();
      child.send({ lr, out, factor });
      const r = await wait;
      if (r.error) throw new Error(`esrgan-thick: ${String(r.error)}`);
      return r as { sec: number };
    },
    quit: () => child.send({ quit: true }),
  };
}
