import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";

const PAGES = [
  ["overview", "/"],
  ["version", "/versions/candidate_logreg_20250305T101000Z"],
  ["version without metrics", "/versions/candidate_logreg_20251120T093000Z"],
  ["compare", "/compare?v=baseline_logreg_20250211T143000Z&v=candidate_logreg_20250305T101000Z&diff=1"],
  ["compare picker", "/compare"],
  ["not found", "/versions/candidate_logreg_20990101T000000Z"],
] as const;

for (const [name, path] of PAGES) {
  test(`${name} has no serious or critical axe violations`, async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      // The 404 page's own document request is the one expected failure.
      if (m.type() === "error" && !m.text().includes("404")) errors.push(m.text());
    });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(path);
    await page.waitForLoadState("networkidle");
    // Hydration mismatches and client crashes show up here before they show up to users.
    expect(errors).toEqual([]);
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
    const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    const report = serious.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(" ")).join("\n  ")}`);
    expect(report, report.join("\n")).toEqual([]);
  });
}
