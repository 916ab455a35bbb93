import { renameSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { registryDir } from "./accounts";

// The load balancer's check: public, and it says ok or not ok and nothing else (it once told anyone the
// registry's absolute path).
test.use({ storageState: { cookies: [], origins: [] } });

test("answers {ok:true} to anyone, without a path, a version or an error text", async ({ request }) => {
  const res = await request.get("/api/health");
  expect(res.status()).toBe(200);
  expect(await res.text()).toBe('{"ok":true}');
  const headers = JSON.stringify(res.headers());
  expect(headers).not.toContain(registryDir());
  expect(headers).not.toMatch(/x-powered-by|next\.js/i);
});

test("answers 503 {ok:false} while the registry cannot be read, and ok again once it can", async ({ request }) => {
  const metrics = join(registryDir(), "metrics");
  renameSync(metrics, `${metrics}.away`);
  try {
    const res = await request.get("/api/health");
    expect(res.status()).toBe(503);
    expect(await res.text()).toBe('{"ok":false}');
  } finally {
    renameSync(`${metrics}.away`, metrics);
  }
  const res = await request.get("/api/health");
  expect(res.status()).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});
