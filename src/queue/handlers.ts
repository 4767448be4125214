/** The handler of each job kind: the one place a worker learns what it can run. */
import { upscaleHandler } from '../batch/queued.js';
import { sweepHandler } from '../eval/sweep-job.js';
import { varyHandler } from '../vary/queued.js';
import type { JobHandler, JobKind } from './jobs.js';

export const HANDLERS: { [K in JobKind]: JobHandler<unknown> } = {
  sweep: sweepHandler as JobHandler<unknown>,
  upscale: upscaleHandler as JobHandler<unknown>,
  vary: varyHandler as JobHandler<unknown>,
};
