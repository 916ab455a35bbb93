import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { stateFile } from "./accounts";
import { APP_PAGES, WIDTHS, waitForPage } from "./pages";

// Every page, at phone and laptop width, as the role that uses it: no serious or critical axe finding, and no
// error in the browser console (the favicon included; the 404 page's own document request is the one expected).
for (const p of APP_PAGES) {
  test.describe(p.name, () => {
    test.use({ storageState: p.as ? stateFile(p.as) : { cookies: [], origins: [] } });
    for (const width of WIDTHS) {
      test(`has no serious or critical axe violations at ${width} px`, async ({ page }) => {
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("console", (m) => {
          if (m.type() === "error" && !(p.name === "not found" && m.text().includes("404"))) errors.push(m.text());
        });
        await page.setViewportSize({ width, height: 900 });
        await page.goto(p.path);
        await waitForPage(page, p);
        await page.waitForLoadState("networkidle");
        // Hydration mismatches and client crashes show up here before they show up to users.
        expect(errors).toEqual([]);
        const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
        const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
        const report = serious.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(" ")).join("\n  ")}`);
        expect(report, report.join("\n")).toEqual([]);
      });
    }
  });
}
