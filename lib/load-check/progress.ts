// How a running load check is told to people: pure, shared by the server's preview and the page's poller.

/** A check not answered yet: time in the sandbox against its wall-clock limit, or time waiting for a free one. */
export interface LoadCheckProgress {
  elapsedMs: number;
  limitMs: number;
  /** Set while the run waits its turn: `slots` sandboxes run at a time and all are busy. */
  waiting?: { slots: number };
}

/** "Loading the model in the sandbox… 2.1 s / limit 60 s", or "Waiting for a free sandbox (2 run at a time)… 3.0 s". */
export function progressText({ elapsedMs, limitMs, waiting }: LoadCheckProgress): string {
  const seconds = (elapsedMs / 1000).toFixed(1);
  return waiting
    ? `Waiting for a free sandbox (${waiting.slots} run at a time)… ${seconds} s`
    : `Loading the model in the sandbox… ${seconds} s / limit ${Math.round(limitMs / 1000)} s`;
}

/** The progress a "running" check carries as its evidence (see runningFacts), read back for the page's poller. */
export function progressOfEvidence(evidence: Record<string, unknown>): LoadCheckProgress {
  const waiting = evidence.waiting as { slots?: unknown } | undefined;
  return {
    elapsedMs: Number(evidence.elapsedMs ?? 0),
    limitMs: Number(evidence.limitMs ?? 0),
    ...(waiting ? { waiting: { slots: Number(waiting.slots ?? 1) } } : {}),
  };
}
