import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";

// What a first visit to the overview costs the browser: every script it runs is compiled ahead (V8's compile
// hint, added by `npm run build`), the request parser's zod stays on the server, and the total stays in budget.
test("the overview ships lean scripts, each marked for eager compilation", async ({ page }) => {
  const scripts = new Map<string, Promise<Buffer>>();
  page.on("response", (response) => {
    if (response.request().resourceType() === "script") scripts.set(response.url(), response.body());
  });
  await page.goto("/");
  await expect(page.locator(".recharts-surface")).toHaveCount(3);

  const bodies = await Promise.all([...scripts].map(async ([url, body]) => ({ url, text: (await body).toString("utf8") })));
  expect(bodies.length).toBeGreaterThan(3);
  // The charts' code ships with the page's own scripts.
  expect(bodies.some((b) => b.text.includes("recharts-surface"))).toBe(true);
  for (const { url, text } of bodies) {
    expect(text.startsWith("//# allFunctionsCalledOnLoad\n"), `${url} starts with the compile hint`).toBe(true);
    expect(text.includes("ZodError"), `${url} carries no zod`).toBe(false);
  }
  const total = bodies.reduce((sum, b) => sum + Buffer.byteLength(b.text), 0);
  // ~930 KB today (React DOM, Next's runtime, the table, recharts); zod alone would add ~110 KB.
  expect(total).toBeLessThan(1_000_000);
});

test("the server's build carries no recharts: the charts draw only in the browser", () => {
  const dir = join(process.cwd(), ".next/server");
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
  expect(files.length).toBeGreaterThan(10);
  const withCharts = files.filter((f) => readFileSync(join(dir, f), "utf8").includes("recharts-surface"));
  expect(withCharts).toEqual([]);
});
