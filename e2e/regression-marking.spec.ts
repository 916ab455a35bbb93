import { rmSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";

// Trained after everything else, scored below production (0.5679): a regression.
const STEM = "candidate_logreg_20251215T000000Z";

test("a run that scores below production is marked as a regression", async ({ page }) => {
  const registry = `${process.env.E2E_DIR}/registry`;
  const model = `${registry}/models/${STEM}.joblib`;
  const metrics = `${registry}/metrics/${STEM}.json`;
  try {
    writeFileSync(model, Buffer.from("regression model bytes"));
    writeFileSync(metrics, JSON.stringify({ model_type: "logistic_regression", metrics: { pr_auc: 0.5, roc_auc: 0.7 } }));
    await page.goto("/");
    const row = page.locator(`tr[data-stem="${STEM}"]`);
    const delta = row.locator(".delta-bad");
    await expect(delta).toContainText("▼");
    await expect(delta).toContainText("−0.0679");
    await expect(delta).toContainText("(regression)");
    // Better runs are not marked.
    await expect(page.locator('tr[data-stem="candidate_logreg_20250305T101000Z"] .delta-bad')).toHaveCount(0);

    await row.getByRole("link", { name: STEM }).click();
    await expect(page.locator("[data-check='no_degradation']")).toContainText("Failed");
    await expect(page.getByText("Would be refused")).toBeVisible();
  } finally {
    rmSync(metrics, { force: true });
    rmSync(model, { force: true });
  }
});
