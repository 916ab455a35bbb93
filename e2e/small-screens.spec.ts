import { expect, test } from "@playwright/test";
import { stateFile } from "./accounts";
import { APP_PAGES, WIDTHS, waitForPage } from "./pages";

// Every page fits a 360 px phone and a 1440 px laptop without the page scrolling sideways: wide tables
// scroll inside their own box instead, and say so.
for (const p of APP_PAGES) {
  test.describe(p.name, () => {
    test.use({ storageState: p.as ? stateFile(p.as) : { cookies: [], origins: [] } });
    for (const width of WIDTHS) {
      test(`fits ${width} px without sideways scrolling`, async ({ page }) => {
        await page.setViewportSize({ width, height: 900 });
        await page.goto(p.path);
        await waitForPage(page, p);
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
        }));
        expect(scrollWidth, `${p.path} is ${scrollWidth} px wide in a ${innerWidth} px window`).toBeLessThanOrEqual(innerWidth);
        await page.screenshot({ path: `test-results/screens/width-${width}-${p.name.replaceAll(" ", "-")}.png`, fullPage: true });
      });
    }
  });
}

test.describe("the versions table on a phone", () => {
  test.use({ storageState: stateFile("viewer") });

  test("scrolls inside its own box, says so, and can be scrolled from the keyboard", async ({ page }) => {
    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto("/");
    await page.locator(".versions-table[data-hydrated='true']").waitFor();
    const box = page.getByRole("region", { name: "Model versions, scrolls sideways" });
    await expect(page.locator(".versions-table").getByTestId("scroll-hint")).toHaveText(/Scroll sideways for more columns/);
    const before = await box.evaluate((el) => ({ left: el.scrollLeft, overflow: el.scrollWidth - el.clientWidth }));
    expect(before).toMatchObject({ left: 0 });
    expect(before.overflow).toBeGreaterThan(100);
    await box.focus();
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => box.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  });

  test("at laptop width the default columns fit and say nothing about scrolling", async ({ page }) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto("/");
    await page.locator(".versions-table[data-hydrated='true']").waitFor();
    const table = page.getByRole("table", { name: "Model versions" });
    for (const column of ["Version", "Model type", "Score", "Data version", "Git commit"]) {
      await expect(table.getByRole("columnheader", { name: new RegExp(`^${column}`) })).toBeInViewport();
    }
    // The score is the score metric's value: PR-AUC is not shown twice by default.
    await expect(table.getByRole("columnheader", { name: /^PR-AUC/ })).toHaveCount(0);
    await expect(page.locator(".versions-table").getByTestId("scroll-hint")).toHaveCount(0);
  });
});
