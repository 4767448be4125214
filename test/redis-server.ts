/** A throwaway redis-server on a free loopback port, for the queue tests and the queue benchmark. */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** A loopback port nothing listens on now. */
export const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

/** Starts redis-server (no persistence) and waits until it answers PING; `stop` ends it. */
export async function startRedis(): Promise<{ url: string; port: number; stop: () => void; kill: () => void }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.includes('PONG')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // kill: SIGKILL, a Redis that dies without a word (no reconnect will succeed)
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => child.kill('SIGTERM'), kill: () => child.kill('SIGKILL') };
}
