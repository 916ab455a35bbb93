import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";

const PRODUCTION = "baseline_logreg_20250211T143000Z";
const BEST = "candidate_logreg_20250305T101000Z";

test("the production card names the live version and explains a broken alias pair", async ({ page }) => {
  await page.goto("/");
  const card = page.getByRole("region", { name: "Production" });
  await expect(card).toContainText(PRODUCTION);
  await expect(card).toContainText("Alias OK");
  await expect(card).toContainText("0.5679");
  await expect(card).toContainText(BEST);

  const registry = `${process.env.E2E_DIR}/registry`;
  const alias = `${registry}/metrics/production_latest.json`;
  const original = readFileSync(alias);
  try {
    // Someone copied the best run's metrics over the alias by hand, but not its model.
    copyFileSync(`${registry}/metrics/${BEST}.json`, alias);
    await page.reload();
    await expect(card).toContainText("Mismatched pair");
    await expect(card).toContainText(`belongs to ${BEST}`);
    await expect(card).toContainText("What to do:");
    await card.screenshot({ path: "test-results/screens/production-mismatched.png" });
  } finally {
    writeFileSync(alias, original);
  }
  await page.reload();
  await expect(card).toContainText("Alias OK");
});
