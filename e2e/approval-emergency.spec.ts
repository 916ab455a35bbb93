import { expect, test } from "@playwright/test";
import { BEST, cli, PRODUCTION, resetProduction, sha, stateFile } from "./accounts";
import { setApprovals } from "./approvals";

// Under the two-person rule, rolling a fresh release back to the version live just before skips approval
// (the emergency window), and the audit log flags it for review.
test.use({ storageState: stateFile("releaser") });
test.describe.configure({ mode: "serial" });
test.beforeAll(async ({ browser, baseURL }) => {
  resetProduction();
  // A release goes out while the rule is off (a pipeline's promotion)…
  expect(cli("promote", "--reason", "weekly release", "--actor", "ci-bot").status).toBe(0);
  await setApprovals(browser, baseURL!, "required");
});
test.afterAll(async ({ browser, baseURL }) => {
  await setApprovals(browser, baseURL!, "off");
  resetProduction();
});

test("an emergency rollback applies at once and is flagged for review", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("button", { name: `Roll back to previous production (${PRODUCTION})` }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("Emergency rollback to the version live just before");
  await dialog.getByLabel(/Reason for this change/).fill("Pager: latency doubled after the release");
  await dialog.getByRole("button", { name: "Confirm rollback" }).click();
  await expect(dialog.getByRole("status")).toContainText(`production is now ${PRODUCTION}`);
  await expect(dialog.getByRole("status")).toContainText("flagged for review");
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${PRODUCTION}.joblib`));

  await page.goto("/audit");
  const newest = page.getByRole("list", { name: "Audit events" }).getByRole("listitem").first();
  await expect(newest).toContainText("model.rolled_back");
  await expect(newest).toContainText("emergency: needs review");
  await page.goto("/approvals");
  const review = page.getByRole("region", { name: "Emergency rollbacks to review" });
  await expect(review).toContainText(`${BEST} → ${PRODUCTION}`);
  await expect(review).toContainText("Pager: latency doubled");
});
