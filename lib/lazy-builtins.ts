import type * as Crypto from "node:crypto";
import type * as WorkerThreads from "node:worker_threads";

// Built-ins that a repeated CLI run rarely needs (its hashes are remembered, its inspections cached),
// loaded on first use rather than at start-up, where each costs a few milliseconds of every command.

let crypto: typeof Crypto | undefined;

/** node:crypto, loaded on first call. */
export function nodeCrypto(): typeof Crypto {
  crypto ??= process.getBuiltinModule("node:crypto");
  return crypto;
}

/** node:worker_threads, loaded on first call. */
export function nodeWorkerThreads(): typeof WorkerThreads {
  return process.getBuiltinModule("node:worker_threads");
}
