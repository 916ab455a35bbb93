import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { BEST, cli, PRODUCTION, resetProduction, stateFile } from "./accounts";

// An auditor asks what was production at a given moment, on /audit and from the CLI, and both agree.
test.use({ storageState: stateFile("auditor") });
test.describe.configure({ mode: "serial" });
test.afterAll(() => resetProduction());

test.beforeAll(() => {
  // At least one recorded change, so there is a "before the log began".
  resetProduction();
  const r = cli("promote", "--version", BEST, "--reason", "production-at setup", "--actor", "ci-bot");
  expect([0, 3]).toContain(r.status);
});

type Answer = { status: string; production: { stem: string; sha256: string; by: string | null; reason: string | null } };
const askCli = (at: string) => JSON.parse(cli("audit", "production", "--at", at, "--json").stdout) as Answer;

test("the timeline shows seconds, the sha256, the reason and the period before the log began", async ({ page }) => {
  await page.goto("/audit");
  const timeline = page.getByRole("table", { name: "Periods of production, newest first" });
  await expect(timeline).toBeVisible();
  const newest = timeline.getByRole("row").nth(1);
  await expect(newest).toContainText(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  await expect(newest).toContainText(/[0-9a-f]{12}…/);
  const before = askCli("2000-01-01T00:00:00Z");
  expect(before.status).toBe("before_log");
  await expect(timeline.locator('tr[data-period="before_log"]')).toContainText(
    `before the log began: ${before.production.stem} (by content hash)`,
  );
  await expect(timeline).toContainText("production-at setup");
});

test("a date-time on the timeline answers what was live then, as the CLI does", async ({ page }) => {
  await page.goto("/audit");
  // Now, to the second (UTC), through the page's own date-time input.
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 1000).toISOString();
  await page.getByLabel("What was production at (UTC)").fill(now.slice(0, 19));
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/[?&]at=/);
  const answer = page.locator("#production-at");
  const expected = askCli(now);
  expect(expected.status).toBe("recorded");
  await expect(answer).toContainText(`Production at ${now.slice(0, 19).replace("T", " ")} UTC: ${expected.production.stem}`);
  await expect(answer).toContainText(expected.production.sha256);
  await expect(answer).toContainText(expected.production.by ?? "—");
  await expect(answer).toContainText(expected.production.reason ?? "—");

  // Before the first logged change: the alias the log found, by content hash.
  const first = askCli("2001-02-03T04:05:06Z");
  expect(first).toMatchObject({ status: "before_log", production: { stem: PRODUCTION } });
  await page.getByLabel("What was production at (UTC)").fill("2001-02-03T04:05:06");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(answer).toContainText(`Production at 2001-02-03 04:05:06 UTC: before the log began: ${PRODUCTION} (by content hash)`);
  await expect(answer).toContainText(first.production.sha256);
  await page.screenshot({ path: "test-results/screens/production-at.png", fullPage: true });
});

test("a malformed date-time is refused with a clear message on the field, and the page still works", async ({ page }) => {
  const response = await page.goto("/audit?at=2026-02-30T12:00:00Z");
  expect(response?.status()).toBe(200);
  const field = page.getByLabel("What was production at (UTC)");
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#at-error")).toContainText("is not a calendar date");
  await expect(page.locator("#production-at")).toHaveCount(0);
  await expect(page.getByRole("list", { name: "Audit events" })).toBeVisible();
});

test("the timeline, its form and an answer have no serious or critical axe violations, and no client errors", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  for (const path of ["/audit?at=2001-02-03T04:05:06Z", "/audit?at=nonsense"]) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
    const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    const report = serious.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(" ")).join("\n  ")}`);
    expect(report, report.join("\n")).toEqual([]);
  }
  expect(errors).toEqual([]);
});
