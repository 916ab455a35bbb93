// Requests per token per minute, counted in this process (the server is one process): a fixed window per
// key, forgotten when its minute is over. Pure but for the map it keeps.

export type Taken = { ok: true } | { ok: false; retryAfterMs: number };

export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
  ) {}

  /** Counts one request for `key` at `now`; refused (and not counted) once the window holds `limit`. */
  take(key: string, now: number): Taken {
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (w.start < start) this.windows.delete(k);
    const w = this.windows.get(key);
    if (!w || w.start !== start) {
      this.windows.set(key, { start, count: 1 });
      return { ok: true };
    }
    if (w.count >= this.limit) return { ok: false, retryAfterMs: start + this.windowMs - now };
    w.count++;
    return { ok: true };
  }
}

/** Requests a token may make per minute: REGISTRY_API_RATE_LIMIT, else 600. Pure over `env`. */
export function apiRateLimit(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.REGISTRY_API_RATE_LIMIT ?? 600);
  return Number.isInteger(n) && n > 0 ? n : 600;
}
