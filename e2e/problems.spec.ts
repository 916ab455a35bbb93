import { rmSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";

const STEM = "candidate_logreg_20251201T080000Z";

test("a broken metrics file shows in the problems panel and never breaks the page", async ({ page }) => {
  const registry = `${process.env.E2E_DIR}/registry`;
  const model = `${registry}/models/${STEM}.joblib`;
  const metrics = `${registry}/metrics/${STEM}.json`;
  try {
    writeFileSync(model, Buffer.from("8003; not a real pickle but a readable file"));
    writeFileSync(metrics, '{"metrics": {"pr_auc": 0.7,');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto("/");
    const problem = page.getByTestId("problem").filter({ hasText: `metrics/${STEM}.json` });
    await expect(problem).toContainText("Broken JSON");
    await expect(problem).toContainText("not valid JSON");
    // The orphan metrics file of the demo registry is listed too.
    await expect(page.getByTestId("problem").filter({ hasText: "Orphan metrics" })).toHaveCount(1);
    // The run is still listed, flagged, without a score.
    await expect(page.locator(`tr[data-stem="${STEM}"]`)).toContainText("Broken metrics");
    await page.locator("#problems").screenshot({ path: "test-results/screens/problems.png" });

    const res = await page.goto(`/versions/${STEM}`);
    expect(res?.status()).toBe(200);
    await expect(page.getByText("Metrics file is broken")).toBeVisible();
    await expect(page.locator("[data-check='metrics_exist']")).toContainText("Failed");
  } finally {
    rmSync(metrics, { force: true });
    rmSync(model, { force: true });
  }
  // The server re-scans on every request: once removed, the problem is gone.
  await page.goto("/");
  await expect(page.getByTestId("problem").filter({ hasText: STEM })).toHaveCount(0);
});
