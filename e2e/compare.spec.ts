import { expect, test } from "@playwright/test";

const BEST = "candidate_logreg_20250305T101000Z";
const PRODUCTION = "baseline_logreg_20250211T143000Z";

test("compares two versions picked in the table, with differences only", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/");
  await page.getByRole("checkbox", { name: `Select ${PRODUCTION} for comparison` }).check();
  await page.getByRole("checkbox", { name: `Select ${BEST} for comparison` }).check();
  await page.getByTestId("compare-selected").click();
  await expect(page).toHaveURL(/\/compare\?v=.+&v=/);
  await expect(page.getByRole("columnheader", { name: new RegExp(PRODUCTION) })).toBeVisible();
  await expect(page.getByRole("columnheader", { name: new RegExp(BEST) })).toBeVisible();

  // The best PR-AUC is marked, and identical rows are visible until differences-only is on.
  const prAuc = page.getByRole("row", { name: /^pr_auc/ });
  await expect(prAuc.locator("td.best-cell")).toContainText("0.6532");
  const trainRows = page.getByRole("row", { name: /^Train rows/ });
  await expect(trainRows).toBeVisible();
  await page.screenshot({ path: "test-results/screens/compare.png", fullPage: true });

  const toggle = page.getByRole("switch", { name: "Differences only" });
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await toggle.focus();
  await page.keyboard.press("Space");
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await expect(trainRows).toBeHidden();
  await expect(prAuc).toBeVisible();
  await expect(page).toHaveURL(/diff=1/);
  await page.screenshot({ path: "test-results/screens/compare-diff.png", fullPage: true });

  // The link with diff=1 opens straight into the same view.
  await page.reload();
  await expect(page.getByRole("switch", { name: "Differences only" })).toHaveAttribute("aria-checked", "true");
  await expect(trainRows).toBeHidden();
});

test("names that are not versions are reported, not a crash", async ({ page }) => {
  const res = await page.goto(`/compare?v=${BEST}&v=..%2Fetc%2Fpasswd&v=nope_20250101T000000Z`);
  expect(res?.status()).toBe(200);
  await expect(page.getByRole("status")).toContainText("Not version names");
  await expect(page.getByRole("status")).toContainText("nope_20250101T000000Z");
});
