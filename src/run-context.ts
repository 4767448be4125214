/**
 * What long work is given apart from its settings: a stop signal (checked between units of work, so a stop lands
 * within one tile or step), where progress goes and where one-line warnings go. Every long operation of the public
 * API takes them as its last argument, `(input, options, ctx?)`, never inside its options; `P` is its progress event.
 */
export interface RunContext<P> {
  signal?: AbortSignal | undefined;
  onProgress?: ((event: P) => void) | undefined;
  onWarning?: ((message: string) => void) | undefined;
}

/** The progress of work over many items (files, sources, jobs): done and total in estimated work units, what runs now. */
export interface WorkProgress {
  done: number;
  total: number;
  label: string;
}
