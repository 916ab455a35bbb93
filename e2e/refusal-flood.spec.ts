import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { stateFile } from "./accounts";
import { actionId, chainRows, chainRowsOf, flood, pendingRefusals, postAction, refusalsAccountedFor } from "./raw-requests";

// An attacker floods the promote action with refused requests. Every refusal is still accounted for, but
// the hash-chained log grows by a handful of rows, not one per request (it once grew by 600 for 600).

const APPLY = () => actionId("applyChange");

test("600 anonymous POSTs to the promote action add a bounded number of audit rows, and all 600 are counted", async ({ baseURL }) => {
  test.setTimeout(120_000);
  const rowsBefore = chainRows();
  const ownBefore = chainRowsOf("auth.denied", "anonymous", "model.apply");
  const countedBefore = refusalsAccountedFor("auth.denied", "anonymous", "model.apply");

  const statuses = await flood(600, 20, () => postAction(baseURL as string, APPLY()));
  expect(statuses.every((s) => s === 200)).toBe(true);

  // One row per address and action per minute, plus one summary per closed minute: a few rows whatever
  // minute boundaries the flood crossed. (The whole log may also gain the summaries of earlier journeys'
  // windows that closed meanwhile: a handful.)
  expect(chainRowsOf("auth.denied", "anonymous", "model.apply") - ownBefore).toBeLessThanOrEqual(4);
  expect(chainRows() - rowsBefore).toBeLessThanOrEqual(20);
  expect(refusalsAccountedFor("auth.denied", "anonymous", "model.apply") - countedBefore).toBe(600);
});

test("600 anonymous POSTs each claiming another client address still add a bounded number of rows", async ({ baseURL }) => {
  test.setTimeout(120_000);
  const rowsBefore = chainRows();
  const ownBefore = chainRowsOf("auth.denied", "anonymous", "model.apply");
  const countedBefore = refusalsAccountedFor("auth.denied", "anonymous", "model.apply");

  const forged = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  await flood(600, 20, (i) =>
    postAction(baseURL as string, APPLY(), {
      headers: { "x-real-ip": forged(i), "x-forwarded-for": forged(i), "x-registry-client-address": forged(i) },
    }),
  );

  // Made-up addresses cannot buy a row each: past a few distinct addresses a minute they share one count.
  expect(chainRowsOf("auth.denied", "anonymous", "model.apply") - ownBefore).toBeLessThanOrEqual(50);
  expect(chainRows() - rowsBefore).toBeLessThanOrEqual(60);
  expect(refusalsAccountedFor("auth.denied", "anonymous", "model.apply") - countedBefore).toBe(600);
});

test("a signed-in viewer trying to promote 60 times is recorded by name, a few times one by one, and counted", async ({ baseURL }) => {
  test.setTimeout(120_000);
  const viewer = JSON.parse(readFileSync(stateFile("viewer"), "utf8")).cookies.find((c: { name: string }) => c.name === "registry_session");
  const rowsBefore = chainRows();
  const ownBefore = chainRowsOf("auth.denied", "viewer", "model.apply");
  const countedBefore = refusalsAccountedFor("auth.denied", "viewer", "model.apply");

  const statuses = await flood(60, 10, () =>
    postAction(baseURL as string, APPLY(), { headers: { cookie: `registry_session=${viewer.value}` } }),
  );
  expect(statuses.every((s) => s === 200)).toBe(true);

  // At most five a minute one by one (they name a person), then a count; two minutes at worst, plus summaries.
  expect(chainRowsOf("auth.denied", "viewer", "model.apply") - ownBefore).toBeLessThanOrEqual(12);
  expect(chainRows() - rowsBefore).toBeLessThanOrEqual(30);
  expect(refusalsAccountedFor("auth.denied", "viewer", "model.apply") - countedBefore).toBe(60);
});

test.describe("the audit page", () => {
  test.use({ storageState: stateFile("auditor") });

  test("shows the refusals still being counted, with the database's numbers", async ({ page, baseURL }) => {
    await flood(30, 10, () => postAction(baseURL as string, APPLY()));
    await page.goto("/audit");
    const counting = page.getByRole("region", { name: "Refusals being counted" });
    await expect(counting).toBeVisible();
    const rows = counting.getByRole("row").filter({ hasText: "model.apply" }).filter({ hasText: "anonymous" });
    await expect(rows.first()).toBeVisible();
    // What the page shows is what the log accounts for beyond its chained rows.
    const shown = (await rows.locator("td.num").allInnerTexts()).reduce((sum, t) => sum + Number(t.replaceAll(",", "")), 0);
    expect(shown).toBe(pendingRefusals("auth.denied", "anonymous", "model.apply"));
    expect(shown).toBeGreaterThan(0);
  });
});
