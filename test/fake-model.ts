/**
 * Models for tests that need no model file: a manifest's required fields (the linear β 1e-4…0.02 schedule over
 * T = 1000, ε prediction, patch 4) and a ModelSession around a plain function, so no onnxruntime session starts.
 */
import { validateManifest, type ModelManifest } from '../src/model/manifest.js';
import type { Device, ModelSession } from '../src/model/session.js';

/** The raw manifest fields, with `extra` over them (raw, so tests can also break them). */
export function manifestFields(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'fake',
    version: '1',
    T: 1000,
    betas: { kind: 'linear', start: 1e-4, end: 0.02 },
    prediction: 'eps',
    patch: 4,
    multiple: 16,
    sha256: '0'.repeat(64),
    ...extra,
  };
}

/** The manifest fields, validated as a loaded model's are. */
export const fakeManifest = (extra: Record<string, unknown> = {}): ModelManifest => validateManifest(manifestFields(extra), 'fake');

/** A session whose UNet is `run`. */
export function fakeSession(manifest: ModelManifest, run: ModelSession['run'], device: Device = 'cpu'): ModelSession {
  return { dir: '/fake', manifest, device, run, async dispose() {} };
}
