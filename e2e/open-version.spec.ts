import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, test } from "@playwright/test";

const MANIFEST = JSON.parse(readFileSync(resolve(import.meta.dirname, "../fixtures/registry-basic/MANIFEST.json"), "utf8")) as {
  files: { path: string; sha256: string; size: number }[];
};
const BEST = "candidate_logreg_20250305T101000Z";
const PRODUCTION = "baseline_logreg_20250211T143000Z";

test("opens a version from the table and shows everything known about it", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/");
  await page.locator(`tr[data-stem="${BEST}"]`).getByRole("link", { name: BEST }).click();
  await expect(page).toHaveURL(`/versions/${BEST}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(BEST);
  await expect(page.getByRole("heading", { name: "Metrics" })).toBeVisible();
  await expect(page.getByRole("row", { name: /pr_auc/ })).toContainText("0.6532");
  await expect(page.getByRole("row", { name: /^C / })).toContainText("1");
  await expect(page.getByText("a701147")).toBeVisible();
  await expect(page.locator("[data-check='no_degradation']")).toContainText("Passed");
  await expect(page.locator("[data-check='min_score']")).toContainText("0.6532 ≥ threshold 0.6000");
  // The model file's own facts, read for this page (the overview's scan never reads model files).
  const model = MANIFEST.files.find((f) => f.path === `artifacts/models/${BEST}.joblib`)!;
  await expect(page.getByText(model.sha256).first()).toBeVisible();
  await expect(page.getByText(`${model.size.toLocaleString("en-US")} bytes`)).toBeVisible();
  await page.screenshot({ path: "test-results/screens/version.png", fullPage: true });

  await page.getByRole("link", { name: "Compare with production" }).click();
  await expect(page).toHaveURL(`/compare?v=${PRODUCTION}&v=${BEST}`);
});

test("a version below production shows the failed checks with evidence", async ({ page }) => {
  await page.goto("/versions/baseline_logreg_20250114T091500Z");
  const check = page.locator("[data-check='min_score']");
  await expect(check).toContainText("Failed");
  await check.getByText("Evidence").click();
  await expect(check.getByText("threshold", { exact: true })).toBeVisible();
});

test("opens a version by clicking its point on a chart", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/");
  // The production point is drawn twice (its series, then the ring on top): use the top one.
  const point = page.locator("figure.chart").first().locator(`.chart-point[data-stem="${PRODUCTION}"]`).last();
  await point.scrollIntoViewIfNeeded();
  await point.hover();
  await expect(page.locator(".chart-tooltip").first()).toContainText(PRODUCTION);
  await page.screenshot({ path: "test-results/screens/charts-tooltip.png" });
  await point.click();
  await expect(page).toHaveURL(`/versions/${PRODUCTION}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(PRODUCTION);
});
