import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { stateFile } from "./accounts";

// An admin gives a pipeline a token on /admin/tokens: it is shown once, works on the API at once, is never
// shown again, and stops working the moment it is revoked. Other roles cannot reach the page.
test.use({ storageState: stateFile("admin") });

test("an admin creates a token (shown once), the API takes it, and revoking it ends it", async ({ page, request }) => {
  await page.goto("/admin/tokens");
  await expect(page.getByRole("heading", { name: "API tokens", level: 1 })).toBeVisible();
  await page.getByLabel("Name").fill("deploy-bot");
  await page.getByLabel("Role").selectOption("viewer");
  await page.getByLabel("Expires after (days)").fill("7");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByRole("status")).toContainText('Created token "deploy-bot" (viewer)');
  const token = await page.getByLabel(/Token: copy it now/).inputValue();
  expect(token).toMatch(/^mrt_/);
  const axe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);

  const headers = { authorization: `Bearer ${token}` };
  // The page's own cookies are not sent: a new request context with the token alone.
  const ok = await request.get("/api/v1/production", { headers });
  expect(ok.status()).toBe(200);

  await page.reload();
  const row = page.getByRole("row").filter({ hasText: "deploy-bot" });
  await expect(row).toContainText("active");
  await expect(row).toContainText(token.slice(0, 12));
  expect(await page.content()).not.toContain(token.slice(12));

  await row.getByRole("button", { name: "Revoke deploy-bot" }).click();
  await expect(page.getByRole("row").filter({ hasText: "deploy-bot" })).toContainText("revoked by admin");
  expect((await request.get("/api/v1/production", { headers })).status()).toBe(401);
});

test.describe("other roles", () => {
  test.use({ storageState: stateFile("releaser") });
  test("a releaser is sent to /forbidden", async ({ page }) => {
    await page.goto("/admin/tokens");
    await expect(page).toHaveURL(/\/forbidden/);
  });
});
