import { copyFileSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, request, test } from "@playwright/test";
import { cli, PRODUCTION, registryDir } from "./accounts";

// Metrics files a training job (or an attacker with write access to the folder) can write within the 4 MiB
// cap: 150,000 keys, long strings, a long key, values nested 100,000 levels deep. Every page that shows
// them stays bounded in size, says what it left out and offers the file itself; none answers 500.
const HUGE = ["candidate_huge_20251202T080000Z", "candidate_huge_20251202T090000Z", "candidate_huge_20251202T100000Z"];
const DEEP = "candidate_deep_20251203T080000Z";
const KEYS = 150_000;
const LEVELS = 100_000;
// A version page is ~40 KB with the demo's files; the caps allow a few hundred rows of bounded text. The
// unbounded page was 64 MB.
const PAGE_BOUND = 600_000;
const COMPARE_BOUND = 1_500_000;

function hugeMetrics(): string {
  const metrics: string[] = ['"pr_auc": 0.31', '"roc_auc": 0.52'];
  for (let i = 0; i < KEYS; i++) metrics.push(`"m${i}": 0.5`);
  const hyper: string[] = [`"${"k".repeat(20_000)}": 1`];
  for (let i = 0; i < 250; i++) hyper.push(`"h${i}": "${"x".repeat(3_000)}"`);
  return `{"trained_by": "ci", "git_commit": "${"g".repeat(50_000)}", "notes": "${"n".repeat(100_000)}", "metrics": {${metrics.join(",")}}, "hyperparameters": {${hyper.join(",")}}}`;
}

function deepMetrics(): string {
  const deep = `${"[".repeat(LEVELS)}${"]".repeat(LEVELS)}`;
  return `{"metrics": {"pr_auc": 0.32, "curve": ${deep}}, "hyperparameters": {"layers": ${deep}, "C": 1}, "lineage": ${deep}}`;
}

const model = (stem: string) => join(registryDir(), "models", `${stem}.joblib`);
const metrics = (stem: string) => join(registryDir(), "metrics", `${stem}.json`);

test.beforeAll(() => {
  const huge = hugeMetrics();
  expect(Buffer.byteLength(huge)).toBeLessThan(4 * 1024 * 1024);
  for (const stem of [...HUGE, DEEP]) copyFileSync(model("baseline_logreg_20250114T091500Z"), model(stem));
  for (const stem of HUGE) writeFileSync(metrics(stem), huge);
  writeFileSync(metrics(DEEP), deepMetrics());
});

test.afterAll(() => {
  for (const stem of [...HUGE, DEEP]) {
    rmSync(model(stem), { force: true });
    rmSync(metrics(stem), { force: true });
  }
});

test("a version with 150,000 metrics shows a bounded page, says how many more, and offers the file", async ({ page }) => {
  const stem = HUGE[0] as string;
  const res = await page.request.get(`/versions/${stem}`);
  expect(res.status()).toBe(200);
  expect((await res.body()).length).toBeLessThan(PAGE_BOUND);

  await page.goto(`/versions/${stem}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(stem);
  await expect(page.getByRole("row", { name: /^pr_auc/ })).toContainText("0.3100");
  const more = page.getByTestId("metrics-more");
  await expect(more).toContainText(/[\d,]+ more metrics/);
  const link = more.getByRole("link", { name: /Download the metrics file/ });
  const href = await link.getAttribute("href");
  expect(href).toBe(`/versions/${stem}/metrics.json`);
  await expect(page.getByTestId("hyperparameters-more")).toContainText(/more hyperparameters/);
  // Long values and keys are cut, and say so.
  await expect(page.getByText(/characters more/).first()).toBeVisible();
  await expect(page.getByText(/^g+… \(49,700 characters more\)$/)).toBeVisible();

  const file = await page.request.get(href as string);
  expect(file.status()).toBe(200);
  expect(file.headers()["content-type"]).toMatch(/^application\/json/);
  expect(file.headers()["content-disposition"]).toBe(`attachment; filename="${stem}.json"`);
  expect(file.headers()["x-content-type-options"]).toBe("nosniff");
  expect((await file.body()).equals(readFileSync(metrics(stem)))).toBe(true);
});

test("compare with several 150,000-key versions stays bounded and names what it left out", async ({ page }) => {
  const url = `/compare?${[PRODUCTION, ...HUGE].map((s) => `v=${s}`).join("&")}`;
  const res = await page.request.get(url);
  expect(res.status()).toBe(200);
  expect((await res.body()).length).toBeLessThan(COMPARE_BOUND);

  await page.goto(url);
  await expect(page.getByRole("columnheader", { name: new RegExp(HUGE[2] as string) })).toBeVisible();
  await expect(page.getByTestId("compare-more-metrics")).toContainText(/[\d,]+ more metrics/);
  await expect(page.getByTestId("compare-more-metrics").getByRole("link", { name: `metrics of ${HUGE[0]}` })).toHaveAttribute(
    "href",
    `/versions/${HUGE[0]}/metrics.json`,
  );
});

test("the bounded pages stay accessible: no serious axe violations", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const path of [`/versions/${HUGE[0]}`, `/compare?${[PRODUCTION, ...HUGE].map((s) => `v=${s}`).join("&")}`, `/versions/${DEEP}`]) {
    await page.goto(path);
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(
      serious.map((v) => `${v.id}: ${v.help}`),
      path,
    ).toEqual([]);
  }
  await page.screenshot({ path: "test-results/screens/version-deep.png", fullPage: false });
});

test("values nested 100,000 levels deep never break the version page, compare or the CLI", async ({ page }) => {
  const res = await page.goto(`/versions/${DEEP}`);
  expect(res?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(DEEP);
  await expect(page.getByRole("row", { name: /^layers/ })).toContainText(/nested deeper than \d+ levels/);
  await expect(page.getByRole("row", { name: /^C / })).toContainText("1");

  const compare = await page.goto(`/compare?v=${PRODUCTION}&v=${DEEP}`);
  expect(compare?.status()).toBe(200);
  await expect(page.getByRole("row", { name: /^layers/ })).toContainText(/nested deeper than \d+ levels/);

  const shown = cli("show", DEEP);
  expect(shown.stderr).not.toMatch(/RangeError|\n\s+at /);
  expect(shown.status).toBe(0);
  expect(shown.stdout).toMatch(/layers\s+.*nested deeper than \d+ levels/);
  const json = cli("show", DEEP, "--json");
  expect(json.status).toBe(0);
  const out = JSON.parse(json.stdout) as { version: { metrics: { hyperparameters: Record<string, unknown> } } };
  expect(out.version.metrics.hyperparameters.C).toBe(1);
  expect(JSON.stringify(out.version.metrics.hyperparameters.layers)).toMatch(/nested deeper than \d+ levels/);
});

test("the CLI's show of a 150,000-key version is bounded and points at the file", () => {
  const stem = HUGE[0] as string;
  const shown = cli("show", stem);
  expect(shown.status).toBe(0);
  expect(shown.stdout.length).toBeLessThan(200_000);
  expect(shown.stdout).toMatch(new RegExp(`[\\d,]+ more metrics: see metrics/${stem}\\.json`));
  expect(statSync(metrics(stem)).size).toBeGreaterThan(2_000_000);
});

test("the metrics download is read-permission only, by a listed version's name, never a path", async ({ page, baseURL }) => {
  const stem = HUGE[0] as string;
  const anonymous = await request.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  try {
    const refused = await anonymous.get(`/versions/${stem}/metrics.json`, { maxRedirects: 0 });
    expect(refused.status()).toBe(401);
    expect((await refused.body()).length).toBeLessThan(1_000);
  } finally {
    await anonymous.dispose();
  }
  for (const path of [
    "/versions/..%2F..%2Fetc%2Fpasswd/metrics.json",
    "/versions/%ff/metrics.json",
    "/versions/production_latest/metrics.json",
    "/versions/candidate_logreg_20990101T000000Z/metrics.json",
    // A listed version without a metrics file.
    "/versions/candidate_logreg_20251120T093000Z/metrics.json",
  ]) {
    const res = await page.request.get(path);
    expect(res.status(), path).toBe(404);
    expect(await res.text(), path).not.toContain("root:");
  }
});
