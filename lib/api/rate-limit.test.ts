import { describe, expect, it } from "vitest";
import { apiRateLimit, RateLimiter } from "./rate-limit";

describe("RateLimiter", () => {
  it("allows `limit` requests per key and window, then says how long to wait; other keys are counted apart", () => {
    const limiter = new RateLimiter(3, 60_000);
    const t = 1_000_000 * 60_000 + 5_000;
    for (let i = 0; i < 3; i++) expect(limiter.take("a", t + i)).toEqual({ ok: true });
    expect(limiter.take("a", t + 10)).toEqual({ ok: false, retryAfterMs: 55_000 - 10 });
    expect(limiter.take("b", t + 10)).toEqual({ ok: true });
    // A refused request is not counted: the next window starts afresh.
    expect(limiter.take("a", t + 55_000)).toEqual({ ok: true });
  });

  it("reads REGISTRY_API_RATE_LIMIT, falling back to 600 on nonsense", () => {
    expect(apiRateLimit({})).toBe(600);
    expect(apiRateLimit({ REGISTRY_API_RATE_LIMIT: "30" })).toBe(30);
    for (const bad of ["0", "-5", "1.5", "many"]) expect(apiRateLimit({ REGISTRY_API_RATE_LIMIT: bad })).toBe(600);
  });
});
