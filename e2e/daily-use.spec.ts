import { expect, test } from "@playwright/test";
import { BEST, PRODUCTION, stateFile } from "./accounts";

// The words and states a data scientist, a release manager and an auditor read every day: none may mislead.
const NO_METRICS = "candidate_logreg_20251120T093000Z";

test("the overview says plainly that production is below the threshold and the best candidate passes", async ({ page }) => {
  await page.goto("/");
  const card = page.getByRole("region", { name: "Production" });
  await expect(card.getByTestId("below-threshold")).toHaveText("Below threshold");
  await expect(card.getByTestId("threshold-finding")).toHaveText(
    `Production fails min_score: its pr_auc 0.5679 is below the release threshold 0.6000. The best candidate ${BEST} passes (pr_auc 0.6532).`,
  );
});

test("the charts name their axes and the threshold, and the versions table says 'unknown' for a missing metric", async ({ page }) => {
  await page.goto("/");
  await page.locator(".chart-points circle").first().waitFor();
  const charts = page.locator(".charts");
  await expect(charts.getByText("Trained at (month, UTC)")).toHaveCount(2);
  await expect(charts.getByText("ROC-AUC", { exact: true })).toHaveCount(2);
  await expect(page.locator(".chart-legend")).toContainText("Release threshold 0.6000");
  // The threshold is drawn on the scatter too (its y axis is PR-AUC): two PR-AUC charts, two dashed lines.
  await expect(page.locator(".recharts-reference-line")).toHaveCount(2);

  await page.locator(".versions-table[data-hydrated='true']").waitFor();
  await page.getByText("Columns", { exact: true }).click();
  await page.getByRole("checkbox", { name: "Metric", exact: true }).check();
  const row = page.locator(`tr[data-stem="${NO_METRICS}"]`);
  await expect(row).toContainText("unknown");
  await expect(row).not.toContainText("none");
});

test.describe("as a release manager", () => {
  test.use({ storageState: stateFile("releaser") });

  test("a version without metrics offers no release that could only be refused, and shows no 'null'", async ({ page }) => {
    await page.goto(`/versions/${NO_METRICS}`);
    await expect(page.getByTestId("cannot-release")).toContainText("metrics_exist failed, and no reason can override it");
    await expect(page.getByRole("button", { name: /Promote|Rollback/ })).toHaveCount(0);
    await expect(page.getByRole("region", { name: "Metrics" })).toContainText("No metrics recorded.");
    await expect(page.getByRole("main")).not.toContainText("null");
    // "Model type" is the name's prefix; the file's model_type is the estimator.
    await expect(page.getByRole("region", { name: "Summary" })).toContainText("candidate_logreg");
    await expect(page.getByRole("region", { name: "Metadata" })).toContainText("Estimator");
  });

  test("production's own page does not compare production with itself", async ({ page }) => {
    await page.goto(`/versions/${PRODUCTION}`);
    const metrics = page.getByRole("table", { name: "Metrics" });
    await expect(metrics.getByRole("columnheader")).toHaveText(["Metric", "This version"]);
    await expect(metrics).not.toContainText("±0.0000");
  });
});

test("compare shows times as every other page does, and the model type apart from the estimator", async ({ page }) => {
  await page.goto(`/compare?v=${PRODUCTION}&v=${BEST}`);
  await expect(page.getByRole("row", { name: /^Trained at/ })).toContainText("2025-02-11 14:30 UTC");
  await expect(page.getByRole("row", { name: /^Trained at/ })).not.toContainText("T14:30");
  await expect(page.getByRole("row", { name: /^Model type/ })).toContainText("baseline_logreg");
  await expect(page.getByRole("row", { name: /^Estimator/ })).toContainText("logistic_regression");
});

test("the app has a favicon, so the browser logs no error for it", async ({ page, request }) => {
  await page.goto("/");
  const href = await page.locator("link[rel='icon']").first().getAttribute("href");
  expect(href).toBeTruthy();
  const res = await request.get(href as string);
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("image/svg+xml");
});

test.describe("as an auditor", () => {
  test.use({ storageState: stateFile("auditor") });

  test("a filter that matches nothing says so; the events of one change are listed by its correlation id", async ({ page }) => {
    await page.goto("/audit?correlation=00000000-0000-0000-0000-000000000000");
    await expect(page.getByTestId("correlation-filter")).toContainText("00000000-0000-0000-0000-000000000000");
    await expect(page.getByText("No events match these filters.")).toBeVisible();
  });
});
