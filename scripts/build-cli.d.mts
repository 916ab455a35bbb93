/** Bundles the CLI into `outdir` (default cli/dist); `plugins` are esbuild plugins (a test builds a variant). */
export function buildCli(options?: { outdir?: string; plugins?: unknown[] }): Promise<void>;
