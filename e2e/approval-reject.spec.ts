import { expect, test } from "@playwright/test";
import { cli, PRODUCTION, resetProduction, sha, stateFile } from "./accounts";
import { setApprovals, signedIn } from "./approvals";

// The two-person rule's other answer: a second releaser rejects a request, and nothing changes.
test.use({ storageState: stateFile("releaser") });
test.describe.configure({ mode: "serial" });
test.beforeAll(async ({ browser, baseURL }) => {
  resetProduction();
  await setApprovals(browser, baseURL!, "required");
});
test.afterAll(async ({ browser, baseURL }) => {
  await setApprovals(browser, baseURL!, "off");
  resetProduction();
});

const LOW = "baseline_logreg_20250114T091500Z";

test("request with overrides → rejected by a second releaser → nothing changes", async ({ page, browser, baseURL }) => {
  await page.goto(`/versions/${LOW}`);
  await page.getByRole("button", { name: "Promote" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("table", { name: "Readiness checks" })).toBeVisible();
  await dialog.getByLabel("Override min_score").check();
  await dialog.getByLabel(/Why override/).fill("Segment hotfix for the EU model");
  await dialog.getByLabel(/Reason for this change/).fill("Old baseline back for one segment");
  await dialog.getByRole("button", { name: "Request approval" }).click();
  await expect(dialog.getByRole("status")).toContainText(/Request #\d+ sent/);

  const second = await signedIn(browser, baseURL!, "releaser2");
  await second.goto("/approvals");
  const item = second.getByRole("list", { name: "Open requests" }).getByRole("listitem").first();
  await expect(item).toContainText(LOW);
  await expect(item).toContainText("min_score: “Segment hotfix for the EU model”");
  await expect(item).toContainText("min_score overridden");
  await item.getByLabel(/Why reject/).fill("Not during the release freeze");
  await item.getByRole("button", { name: "Reject" }).click();
  await expect(item.getByRole("status").filter({ hasText: "rejected" })).toBeVisible();
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${PRODUCTION}.joblib`));

  const [event] = JSON.parse(cli("audit", "list", "--json", "--limit", "1").stdout).events;
  expect(event).toMatchObject({ action: "approval.rejected", actor: "releaser2", reason: "Not during the release freeze", toStem: LOW });

  // The requester sees the answer, and nothing is left waiting.
  await page.goto("/approvals");
  await expect(page.getByRole("list", { name: "Open requests" })).toHaveCount(0);
  const decided = page.getByRole("region", { name: "Recently decided" });
  await expect(decided.getByRole("row").nth(1)).toContainText("rejected");
  await expect(decided.getByRole("row").nth(1)).toContainText("Not during the release freeze");
  await second.context().close();
});
