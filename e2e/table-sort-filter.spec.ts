import { rmSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";

const BEST = "candidate_logreg_20250305T101000Z";
const PRODUCTION = "baseline_logreg_20250211T143000Z";

test("sorting and filtering the versions table live in the URL", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/");
  const rows = page.locator("table[aria-label='Model versions'] tbody tr");
  await expect(rows).toHaveCount(9);
  await expect(page.locator(`tr[data-stem="${PRODUCTION}"]`)).toContainText("Production");
  await expect(page.locator(`tr[data-stem="${BEST}"]`)).toContainText("Best");
  await page.screenshot({ path: "test-results/screens/overview.png", fullPage: true });

  // Sort by score (PR-AUC in the demo): the server sorts, the URL records it, and the best version comes first.
  await page.getByRole("button", { name: /^Score/ }).click();
  await expect(page).toHaveURL(/sort=score/);
  const dir = new URL(page.url()).searchParams.get("dir");
  const header = page.locator("th", { has: page.getByRole("button", { name: /^Score/ }) });
  await expect(header).toHaveAttribute("aria-sort", dir === "desc" ? "descending" : "ascending");
  if (dir === "asc") {
    await page.getByRole("button", { name: /^Score/ }).click();
    await expect(page).toHaveURL(/sort=score&dir=desc/);
  }
  await expect(rows.first()).toHaveAttribute("data-stem", BEST);
  // Versions without a score sort last, whichever the direction.
  await expect(rows.last()).toContainText("—");

  // A shared link reproduces the view.
  await page.goto("/?sort=score&dir=asc");
  await expect(rows.first()).not.toHaveAttribute("data-stem", BEST);
  await expect(page.locator("th[aria-sort='ascending']")).toContainText("Score");

  // Text filter, debounced into the URL.
  await page.getByRole("searchbox", { name: "Filter" }).fill("baseline");
  await expect(page).toHaveURL(/q=baseline/);
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId("result-count")).toHaveText("3 of 9 versions");

  // Model-type filter combines with the text: no candidate is named "baseline".
  await page.getByRole("combobox", { name: "Model type" }).selectOption("candidate_logreg");
  await expect(page).toHaveURL(/type=candidate_logreg/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("No versions match");

  await page.getByRole("searchbox", { name: "Filter" }).fill("");
  await expect(page).not.toHaveURL(/q=/);
  await expect(rows).toHaveCount(6);
  await page.screenshot({ path: "test-results/screens/overview-filtered.png", fullPage: true });
  // At laptop width the metric columns scroll sideways while the name stays in view.
  await page.locator(".versions-table .table-scroll").evaluate((el) => el.scrollBy({ left: 400 }));
  await page.locator(".versions-table").screenshot({ path: "test-results/screens/table-scrolled.png" });
  await expect(page.locator(`tr[data-stem="${BEST}"]`).getByRole("link", { name: BEST })).toBeInViewport();

  // Choosing columns hides them and records it in the URL.
  await page.getByText("Columns", { exact: true }).click();
  await page.getByRole("checkbox", { name: "Git commit" }).uncheck();
  await expect(page).toHaveURL(/hide=[^&]*gitCommit/);
  await expect(page.getByRole("button", { name: /^Git commit/ })).toHaveCount(0);
});

test("paging is done on the server and a page past the end is clamped", async ({ page }) => {
  await page.goto("/?size=25&page=99&sort=stem&dir=asc");
  await expect(page.getByTestId("page-status")).toHaveText("Page 1 of 1");
  await expect(page.getByRole("button", { name: "Next" })).toBeDisabled();
  // Malformed parameters fall back to defaults instead of failing.
  const res = await page.goto("/?sort=__proto__&dir=up&page=-1&size=3");
  expect(res?.status()).toBe(200);
  await expect(page.locator("table[aria-label='Model versions'] tbody tr")).toHaveCount(9);
});

test("pages through many versions with the page in the URL", async ({ page }) => {
  const registry = `${process.env.E2E_DIR}/registry`;
  const stems = Array.from(
    { length: 60 },
    (_, i) => `paging_logreg_20240101T${String(Math.floor(i / 60)).padStart(2, "0")}${String(i % 60).padStart(2, "0")}00Z`,
  );
  try {
    for (const [i, stem] of stems.entries()) {
      writeFileSync(`${registry}/models/${stem}.joblib`, `model ${i}`);
      writeFileSync(`${registry}/metrics/${stem}.json`, JSON.stringify({ metrics: { pr_auc: 0.5 + i / 1000, roc_auc: 0.7 } }));
    }
    await page.goto("/?size=25");
    const rows = page.locator("table[aria-label='Model versions'] tbody tr");
    await expect(page.getByTestId("page-status")).toHaveText("Page 1 of 3");
    await expect(rows).toHaveCount(25);
    await page.getByRole("button", { name: "Next" }).click();
    await expect(page).toHaveURL(/page=2/);
    await expect(page.getByTestId("page-status")).toHaveText("Page 2 of 3");
    await page.getByRole("button", { name: "Last" }).click();
    await expect(page).toHaveURL(/page=3/);
    await expect(rows).toHaveCount(69 - 50);
    // Changing the sort starts again from the first page.
    await page.getByRole("button", { name: /^Score/ }).click();
    await expect(page).not.toHaveURL(/page=/);
    await expect(page.getByTestId("page-status")).toHaveText("Page 1 of 3");
    await page.goBack();
    await expect(page.getByTestId("page-status")).toHaveText("Page 3 of 3");
  } finally {
    for (const stem of stems) {
      rmSync(`${registry}/models/${stem}.joblib`, { force: true });
      rmSync(`${registry}/metrics/${stem}.json`, { force: true });
    }
  }
});
