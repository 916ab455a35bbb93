import { expect, type Page, test } from "@playwright/test";
import { BEST, cli, PRODUCTION, resetProduction, sha, stateFile } from "./accounts";

// The release manager meets the rollback rule: only a version that was live may go back without the
// score gates; anything else is a promotion. Against a real `next start`, SQLite file and temp registry.
test.use({ storageState: stateFile("releaser") });
test.describe.configure({ mode: "serial" });
test.afterAll(() => resetProduction());

// Never put live by any journey: a baseline below the threshold.
const NEVER = "baseline_logreg_20250527T084500Z";

test.beforeAll(() => {
  // A known history: the demo's production (by hand), then the best promoted over it from the CLI.
  resetProduction();
  const promoted = cli("promote", "--version", BEST, "--reason", "rollback-rule setup", "--actor", "ci-bot");
  expect([0, 3]).toContain(promoted.status);
});

test("the version page offers rollback only for a version that was live, and says why not otherwise", async ({ page }) => {
  await page.goto(`/versions/${NEVER}`);
  await expect(page.getByRole("button", { name: "Promote" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Rollback to this version" })).toHaveCount(0);
  await expect(page.locator("#rollback-eligibility")).toContainText(`No rollback to this version: ${NEVER} was never production`);
  await expect(page.locator("#rollback-eligibility")).toContainText("promote it instead, with every readiness check");

  await page.goto(`/versions/${PRODUCTION}`);
  await expect(page.locator("#rollback-eligibility")).toContainText(`Rollback possible: ${PRODUCTION} was production`);
  await page.getByRole("button", { name: "Rollback to this version" }).click();
  const dialog = page.getByRole("dialog");
  // The preview shows when the target was live, who put it there, and that only then are the gates skipped.
  const history = dialog.getByRole("table", { name: new RegExp(`When ${PRODUCTION} was live`) });
  await expect(history).toBeVisible();
  await expect(history).toContainText(sha(`models/${PRODUCTION}.joblib`).slice(0, 12));
  await expect(history.getByRole("row").nth(1)).toContainText(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  await expect(dialog.locator('tr[data-check="was_live"]')).toContainText("pass");
  await expect(dialog.locator('tr[data-check="min_score"]')).toContainText("skipped");
  await page.screenshot({ path: "test-results/screens/rollback-preview.png" });
});

/** Captures the apply POST the browser sends for a rollback of PRODUCTION from its version page (never delivered). */
async function captureRollback(page: Page): Promise<{ headers: Record<string, string>; body: Buffer }> {
  let captured: { headers: Record<string, string>; body: Buffer } | null = null;
  await page.route("**/*", async (route) => {
    const req = route.request();
    if (req.method() === "POST" && req.headers()["next-action"] && (req.postDataBuffer()?.includes("expectedTargetSha256") ?? false)) {
      captured = { headers: req.headers(), body: req.postDataBuffer() as Buffer };
      await route.abort();
      return;
    }
    await route.continue();
  });
  await page.goto(`/versions/${PRODUCTION}`);
  await page.getByRole("button", { name: "Rollback to this version" }).click();
  await page
    .getByRole("dialog")
    .getByLabel(/Reason for this change/)
    .fill("captured");
  await page.getByRole("dialog").getByRole("button", { name: "Confirm rollback" }).click();
  await expect.poll(() => captured !== null).toBe(true);
  await page.unroute("**/*");
  return captured as unknown as { headers: Record<string, string>; body: Buffer };
}

test("a raw POST asking to roll back to a version never live is refused as a rollback, audited, and writes nothing", async ({
  page,
  baseURL,
}) => {
  const sent = await captureRollback(page);
  // The same request with another target: the version never live, and its own sha256 as "seen in the preview".
  const forged = Buffer.from(
    sent.body
      .toString("latin1")
      .replace(`\r\n\r\n${PRODUCTION}\r\n`, `\r\n\r\n${NEVER}\r\n`)
      .replace(`\r\n\r\n${sha(`models/${PRODUCTION}.joblib`)}\r\n`, `\r\n\r\n${sha(`models/${NEVER}.joblib`)}\r\n`),
    "latin1",
  );
  expect(forged.includes(NEVER), "the target was replaced").toBe(true);
  const before = sha("models/production_latest.joblib");
  const response = await fetch(`${baseURL}/`, {
    method: "POST",
    headers: {
      "next-action": sent.headers["next-action"] as string,
      "content-type": sent.headers["content-type"] as string,
      accept: "text/x-component",
      cookie: sent.headers.cookie as string,
    },
    body: new Uint8Array(forged),
  });
  const text = await response.text();
  expect(text).toContain('"code":"never_live"');
  expect(text).toContain("Refused as a rollback");
  expect(sha("models/production_latest.joblib")).toBe(before);
  const event = JSON.parse(cli("audit", "list", "--json", "--limit", "1").stdout).events[0];
  expect(event).toMatchObject({ action: "model.rollback_refused", outcome: "refused", actor: "releaser", toStem: NEVER });
  expect(JSON.parse(event.checks)[0]).toMatchObject({ name: "was_live", passed: false });
});

test("the CLI explains the refusal and points to a promotion", () => {
  const r = cli("rollback", "--to", NEVER, "--reason", "try", "--actor", "ci-bot", "--json");
  expect(r.status).toBe(3);
  expect(JSON.parse(r.stdout)).toMatchObject({ refused: true, refusalCode: "never_live", rolledBack: false });
  const words = cli("rollback", "--to", NEVER, "--dry-run");
  expect(words.stdout).toContain(`registry promote --version ${NEVER}`);
});
