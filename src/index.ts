/** boomerang-sr's public API. */
export { upscale, upscaleFile, resolveSettings, reduceSamples, withModel } from './upscale.js';
export type { UpscaleOptions, UpscaleFileOptions, UpscaleResult, UpscaleSettings, ProgressEvent, Consistency, Reduce } from './upscale.js';
export { loadModel } from './model/session.js';
export type { ModelSession, DeviceRequest, Device, LoadModelOptions } from './model/session.js';
export { loadManifest, validateManifest } from './model/manifest.js';
export type { ModelManifest } from './model/manifest.js';
export { decodeImage, encodeImage } from './image/io.js';
export { upsample, matlabImresize } from './image/upsample.js';
export type { Kernel } from './image/upsample.js';
export { createImage, type ImageTensor } from './image/tensor.js';
export { makeSchedule, noiseLevel, setTimesteps } from './diffusion/schedule.js';
export { boomerang, cascade } from './diffusion/boomerang.js';
export { createRng } from './diffusion/rng.js';
export * from './errors.js';
export * from './eval/index.js';
