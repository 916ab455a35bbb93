import { readFileSync } from "node:fs";
import { expect, type Page, test } from "@playwright/test";
import { BEST, cli, PRODUCTION, resetProduction, sha, stateFile } from "./accounts";

// The release manager's journeys, against a real `next start`, a real SQLite file and a temp registry.
test.use({ storageState: stateFile("releaser") });
test.describe.configure({ mode: "serial" });
test.afterAll(() => resetProduction());

const LOW = "baseline_logreg_20250114T091500Z";

/** The newest event but the refusal summaries, which a server writes whenever a counted minute closes. */
function latestEvent() {
  const events = JSON.parse(cli("audit", "list", "--json", "--limit", "20").stdout).events as { action: string }[];
  return events.find((e) => !e.action.endsWith("_aggregated")) as { action: string; checks: string };
}

async function openDialog(page: Page, button: string | RegExp) {
  await page.getByRole("button", { name: button }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("table", { name: "Readiness checks" })).toBeVisible();
  return dialog;
}

test("preview then promote the best: the files, the production card and the audit log change", async ({ page }) => {
  resetProduction();
  await page.goto("/");
  const dialog = await openDialog(page, "Promote best");
  // The preview shows exactly what will change before anything is written.
  const files = dialog.getByRole("table", { name: "Files that will be replaced" });
  await expect(files).toContainText("models/production_latest.joblib");
  await expect(files).toContainText(`now ${sha(`models/${PRODUCTION}.joblib`).slice(0, 12)}…`);
  await expect(files).toContainText(`after ${sha(`models/${BEST}.joblib`).slice(0, 12)}…`);
  // A gain reads green here as in the versions table.
  await expect(dialog.getByRole("table", { name: "Metrics against production" }).locator("td.delta-good", { hasText: "+0.0853" })).toBeVisible();
  for (const check of ["metrics_exist", "min_score", "no_degradation", "artifact_readable", "artifact_safe", "feature_schema"]) {
    await expect(dialog.locator(`tr[data-check="${check}"]`)).toContainText("pass");
  }
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${PRODUCTION}.joblib`));
  await page.screenshot({ path: "test-results/screens/promote-preview.png" });

  await dialog.getByLabel(/Reason for this change/).fill("Weekly release: best PR-AUC");
  await dialog.getByRole("button", { name: "Confirm promotion" }).click();
  await expect(dialog.getByRole("status")).toContainText(`production is now ${BEST}`);
  // The title says what happened, no longer "review before anything changes".
  await expect(dialog.getByRole("heading", { level: 2 })).toHaveText(`Promoted: ${BEST} is in production`);
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${BEST}.joblib`));
  expect(sha("metrics/production_latest.json")).toBe(sha(`metrics/${BEST}.json`));
  const auditLink = await dialog.getByRole("link", { name: "See it in the audit log" }).getAttribute("href");
  expect(auditLink).toMatch(/^\/audit\?correlation=[0-9a-f-]{36}$/);

  await dialog.getByRole("button", { name: "Close" }).click();
  const card = page.getByRole("region", { name: "Production" });
  await expect(card).toContainText(BEST);
  await expect(card).toContainText("promoted by releaser");

  // The dialog's link lists this change's events only: its intent and its completion.
  await page.goto(auditLink as string);
  const events = page.getByRole("list", { name: "Audit events" }).getByRole("listitem");
  await expect(events).toHaveCount(2);
  const newest = events.first();
  await expect(newest).toContainText("model.promoted");
  await expect(newest).toContainText("releaser");
  await expect(newest).toContainText("Weekly release: best PR-AUC");
});

test("a promotion below the threshold is refused, writes nothing and is logged", async ({ page }) => {
  const before = readFileSync(`${process.env.E2E_DIR}/registry/models/production_latest.joblib`);
  await page.goto(`/versions/${LOW}`);
  const dialog = await openDialog(page, "Promote");
  await expect(dialog.locator('tr[data-check="min_score"]')).toContainText("fail (overridable)");
  await dialog.getByLabel(/Reason for this change/).fill("Trying the old baseline");
  await dialog.getByRole("button", { name: "Submit and record the refusal" }).click();
  await expect(dialog.getByRole("status")).toContainText("Refused: min_score failed");
  expect(readFileSync(`${process.env.E2E_DIR}/registry/models/production_latest.joblib`)).toEqual(before);
  expect(latestEvent()).toMatchObject({ action: "model.promotion_refused", outcome: "refused", actor: "releaser", toStem: LOW });
});

test("failed checks can be overridden with a written reason", async ({ page }) => {
  await page.goto(`/versions/${LOW}`);
  const dialog = await openDialog(page, "Promote");
  await dialog.getByLabel("Override min_score").check();
  await dialog.getByLabel("Override no_degradation").check();
  await dialog.getByLabel(/Why override/).fill("Segment hotfix approved by the risk team");
  await dialog.getByLabel(/Reason for this change/).fill("Emergency swap");
  await dialog.getByRole("button", { name: "Confirm promotion" }).click();
  await expect(dialog.getByRole("status")).toContainText(`production is now ${LOW}`);
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${LOW}.joblib`));
  const event = latestEvent();
  expect(event.action).toBe("model.promoted");
  const checks = JSON.parse(event.checks);
  expect(checks.find((c: { name: string }) => c.name === "min_score")).toMatchObject({
    passed: false,
    overridden: true,
    overrideReason: "Segment hotfix approved by the risk team",
  });
});

test("one click rolls back to the previous production, from the audit log; again walks further back", async ({ page }) => {
  await page.goto("/");
  const dialog = await openDialog(page, `Roll back to previous production (${BEST})`);
  await expect(dialog.getByTestId("previous-explanation")).toContainText(`${BEST} was live immediately before ${LOW} was promoted`);
  await expect(dialog.getByRole("table", { name: new RegExp(`When ${BEST} was live`) })).toContainText("releaser · promoted");
  await dialog.getByLabel(/Reason for this change/).fill("Latency regression after the swap");
  await dialog.getByRole("button", { name: "Confirm rollback" }).click();
  await expect(dialog.getByRole("status")).toContainText(`production is now ${BEST}`);
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${BEST}.joblib`));
  const event = latestEvent();
  expect(event).toMatchObject({ action: "model.rolled_back", fromStem: LOW, toStem: BEST });
  // "Previous" now is what was live before BEST was promoted, not LOW again (that would undo the rollback).
  await dialog.getByRole("button", { name: "Close" }).click();
  await page.goto("/");
  await expect(page.getByRole("button", { name: `Roll back to previous production (${PRODUCTION})` })).toBeVisible();
  await expect(page.getByRole("button", { name: new RegExp(`Roll back to previous production \\(${LOW}\\)`) })).toHaveCount(0);
});

test("a stale preview is refused when production changed meanwhile, and nothing is written", async ({ page }) => {
  await page.goto(`/versions/${PRODUCTION}`);
  const dialog = await openDialog(page, "Rollback to this version");
  // The target was live, so min_score is skipped, but the dialog still says it is below the threshold.
  await expect(dialog.getByTestId("rollback-below-threshold")).toContainText("pr_auc 0.5679, under 0.6000");
  // Meanwhile a CI pipeline promotes another version from the CLI.
  const other = "candidate_logreg_20250709T120000Z";
  expect(
    cli("promote", "--version", other, "--min-score", "0", "--override", "no_degradation", "--reason", "ci", "--actor", "ci-bot").status,
  ).toBe(0);
  const afterCli = sha("models/production_latest.joblib");
  await dialog.getByLabel(/Reason for this change/).fill("Back to the known-good baseline");
  await dialog.getByRole("button", { name: "Confirm rollback" }).click();
  await expect(dialog.getByRole("status")).toContainText("Production changed since this plan was made");
  await expect(dialog.getByRole("button", { name: "Review the new state" })).toBeVisible();
  expect(sha("models/production_latest.joblib")).toBe(afterCli);
  const event = latestEvent();
  expect(event).toMatchObject({ action: "model.rollback_failed", outcome: "failed", actor: "releaser" });
  await dialog.getByRole("button", { name: "Review the new state" }).click();
  await expect(dialog).toContainText(`Production now: ${other}`);
});

test.describe("as an auditor", () => {
  test.use({ storageState: stateFile("auditor") });

  test("exports the audit log as CSV and JSON, and both verify offline with the CLI", async ({ page }) => {
    await page.goto("/audit");
    await expect(page.getByText("Chain intact")).toBeVisible();
    await expect(page.getByRole("table").first()).toBeVisible();
    for (const format of ["CSV", "JSON"]) {
      const download = page.waitForEvent("download");
      await page.getByRole("link", { name: `Export ${format}` }).click();
      const file = `${process.env.E2E_DIR}/export.${format.toLowerCase()}`;
      await (await download).saveAs(file);
      const verify = cli("audit", "verify", "--file", file, "--json");
      expect(verify.status).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
      expect(JSON.parse(verify.stdout).count).toBeGreaterThanOrEqual(8);
    }
    await page.screenshot({ path: "test-results/screens/audit.png", fullPage: true });
  });
});
