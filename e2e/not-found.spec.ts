import { expect, test } from "@playwright/test";

for (const [label, path] of [
  ["an unknown but well-formed stem", "/versions/candidate_logreg_20990101T000000Z"],
  ["a malformed stem", "/versions/not-a-version"],
  ["a path-like stem", "/versions/..%2F..%2Fetc%2Fpasswd"],
  ["the production alias", "/versions/production_latest"],
] as const) {
  test(`${label} gives a 404 page`, async ({ page }) => {
    const res = await page.goto(path);
    expect(res?.status()).toBe(404);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(/not found/i);
    await expect(page.getByRole("link", { name: "Back to the overview" })).toBeVisible();
  });
}

test("the 404 page looks like the rest of the app", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 700 });
  await page.goto("/versions/candidate_logreg_20990101T000000Z");
  await page.screenshot({ path: "test-results/screens/not-found.png" });
  await expect(page.getByRole("heading", { name: "Version not found" })).toBeVisible();
});
