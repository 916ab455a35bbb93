import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { BEST, cli, PRODUCTION, resetProduction, sha, stateFile } from "./accounts";
import { capturePost, sessionCookie, setApprovals, setPerson, signedIn } from "./approvals";

// The two-person rule, start to end: a releaser's promotion becomes a request; the requester cannot
// approve it (not in the page, not with a raw POST); a second releaser approves it and it goes live.
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

const lastEvents = (n: number) =>
  JSON.parse(cli("audit", "list", "--json", "--limit", String(n)).stdout).events as Record<string, unknown>[];

test("the admin's switch is audited with the old and new value", async () => {
  const [changed] = JSON.parse(cli("audit", "list", "--json", "--action", "settings.changed", "--limit", "1").stdout).events;
  expect(changed).toMatchObject({ actor: "admin", outcome: "succeeded" });
  expect(JSON.parse(changed.details)).toMatchObject({ key: "approvals", old: "off", new: "required" });
});

test("request → approve by a second releaser → live", async ({ page, browser, baseURL }) => {
  await page.goto("/");
  await page.getByRole("button", { name: "Promote best" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("this files a request");
  await dialog.getByLabel(/Reason for this change/).fill("Weekly release: best PR-AUC");
  await dialog.getByRole("button", { name: "Request approval" }).click();
  await expect(dialog.getByRole("status")).toContainText(/Request #\d+ sent/);
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${PRODUCTION}.joblib`));
  await dialog.getByRole("button", { name: "Close" }).click();

  // The overview says a change waits; the requester sees it waiting, with no way to approve it.
  await expect(page.getByRole("region", { name: /1 change is waiting for a second releaser/ })).toBeVisible();
  await page.getByRole("link", { name: /Review on Approvals/ }).click();
  const mine = page.getByRole("list", { name: "Open requests" }).getByRole("listitem").first();
  await expect(mine).toContainText("Waiting for a second releaser");
  await expect(mine.getByRole("button", { name: "Approve and apply" })).toHaveCount(0);

  // A second account of the same person is the requester too: an admin says releaser2 is the person "releaser".
  await setPerson(browser, baseURL!, "releaser2", " RELEASER ");
  const second = await signedIn(browser, baseURL!, "releaser2");
  await second.goto("/approvals");
  await expect(second.getByRole("list", { name: "Open requests" })).toContainText("you cannot approve your own request");
  await expect(second.getByRole("button", { name: "Approve and apply" })).toHaveCount(0);
  await setPerson(browser, baseURL!, "releaser2", "");
  await second.goto("/approvals");
  const item = second.getByRole("list", { name: "Open requests" }).getByRole("listitem").first();
  for (const text of [BEST, PRODUCTION, "Weekly release: best PR-AUC", "releaser", "all 8 passed"]) await expect(item).toContainText(text);
  const axe = await new AxeBuilder({ page: second }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);

  // The requester replays the second releaser's approval with their own session: refused, and audited.
  const capture = capturePost(second, "replayed approval");
  await item.getByLabel(/Why approve/).fill("replayed approval");
  await item.getByRole("button", { name: "Approve and apply" }).click();
  await expect.poll(() => capture.captured() !== null).toBe(true);
  await second.unroute("**/*");
  const self = await capture.captured()!.replay(baseURL!, "/approvals", sessionCookie("releaser"));
  expect(await self.text()).toContain("the same person cannot approve it");
  const admin = await capture.captured()!.replay(baseURL!, "/approvals", sessionCookie("admin"));
  expect(await admin.text()).toContain("Your role does not allow this");
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${PRODUCTION}.joblib`));
  expect(lastEvents(2).map((e) => [e.action, e.actor])).toEqual([
    ["auth.denied", "admin"],
    ["approval.refused", "releaser"],
  ]);

  await second.goto("/approvals");
  const again = second.getByRole("list", { name: "Open requests" }).getByRole("listitem").first();
  await again.getByLabel(/Why approve/).fill("Metrics checked against production");
  await again.getByRole("button", { name: "Approve and apply" }).click();
  await expect(again.getByRole("status").filter({ hasText: "Approved" })).toContainText(`production is now ${BEST}`);
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${BEST}.joblib`));
  expect(sha("metrics/production_latest.json")).toBe(sha(`metrics/${BEST}.json`));
  const events = lastEvents(4);
  expect(events.map((e) => e.action)).toEqual(["model.promoted", "model.promotion_started", "approval.approved", "auth.denied"]);
  expect(events[0]).toMatchObject({ actor: "releaser2", reason: "Weekly release: best PR-AUC", toStem: BEST });
  expect(events[2]).toMatchObject({ actor: "releaser2", reason: "Metrics checked against production" });

  await page.goto("/");
  await expect(page.getByRole("region", { name: /waiting for a second releaser/ })).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Production" })).toContainText(BEST);
  await second.context().close();
});
