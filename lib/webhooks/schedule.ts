// When a failed delivery is tried again: exponential backoff, ten attempts over about a day.

/** Attempts before a delivery is given up (REGISTRY_WEBHOOKS_MAX_ATTEMPTS, default 10). */
export const DEFAULT_MAX_ATTEMPTS = 10;
/** The wait after the first failure (REGISTRY_WEBHOOKS_BACKOFF_SECONDS, default 180): then 6, 12, 24 minutes… */
export const DEFAULT_FIRST_WAIT_SECONDS = 180;

export interface Schedule {
  maxAttempts: number;
  firstWaitMs: number;
}

/** The schedule from the environment; a value that does not read as a positive whole number is ignored. */
export function scheduleFromEnv(env: Record<string, string | undefined> = process.env): Schedule {
  return {
    maxAttempts: positive(env.REGISTRY_WEBHOOKS_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, 100),
    firstWaitMs: positive(env.REGISTRY_WEBHOOKS_BACKOFF_SECONDS, DEFAULT_FIRST_WAIT_SECONDS, 86_400) * 1000,
  };
}

/**
 * After the `attempt`-th failed try (1-based): the wait before the next, or null to give up. Doubles each
 * time from the first wait: with the defaults 3 min, 6, 12, 24, 48 min, 1.6 h, 3.2 h, 6.4 h, 12.8 h, so the
 * tenth and last attempt comes about 25.5 hours after the first. Pure.
 */
export function nextWaitMs(attempt: number, schedule: Schedule): number | null {
  if (attempt >= schedule.maxAttempts) return null;
  return schedule.firstWaitMs * 2 ** (attempt - 1);
}

function positive(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined || !/^\d{1,6}$/.test(text.trim())) return fallback;
  const n = Number(text);
  return n >= 1 && n <= max ? n : fallback;
}
