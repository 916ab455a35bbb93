import type { Page } from "@playwright/test";
import type { E2ERole } from "./accounts";

/** Every page a person reaches, with the role it is visited as (null: signed out) and what to wait for. */
export interface AppPage {
  name: string;
  path: string;
  as: E2ERole | null;
  /** The heading a person reads first: once it shows, the page has been served and rendered. */
  heading: RegExp;
}

export const APP_PAGES: AppPage[] = [
  { name: "overview", path: "/", as: "releaser", heading: /^Overview$/ },
  { name: "overview with every column", path: "/?size=25&hide=none", as: "viewer", heading: /^Overview$/ },
  { name: "a version", path: "/versions/candidate_logreg_20250305T101000Z", as: "releaser", heading: /candidate_logreg_20250305T101000Z/ },
  { name: "production's own page", path: "/versions/baseline_logreg_20250211T143000Z", as: "releaser", heading: /baseline_logreg_20250211T143000Z/ },
  {
    name: "a version without metrics",
    path: "/versions/candidate_logreg_20251120T093000Z",
    as: "releaser",
    heading: /candidate_logreg_20251120T093000Z/,
  },
  {
    name: "compare",
    path: "/compare?v=baseline_logreg_20250211T143000Z&v=candidate_logreg_20250305T101000Z&v=candidate_logreg_20251120T093000Z",
    as: "viewer",
    heading: /^Compare versions$/,
  },
  { name: "compare picker", path: "/compare", as: "viewer", heading: /^Compare versions$/ },
  { name: "audit", path: "/audit", as: "auditor", heading: /^Audit log$/ },
  { name: "approvals", path: "/approvals", as: "admin", heading: /^Approvals$/ },
  { name: "accounts", path: "/admin/users", as: "admin", heading: /^Accounts$/ },
  { name: "an account", path: "/admin/users/viewer", as: "admin", heading: /viewer/ },
  { name: "account password", path: "/account/password", as: "viewer", heading: /password/i },
  { name: "sign in", path: "/login", as: null, heading: /^Sign in$/ },
  { name: "forbidden", path: "/admin/users", as: "viewer", heading: /^Your role does not allow this page$/ },
  { name: "not found", path: "/versions/candidate_logreg_20990101T000000Z", as: "viewer", heading: /not found/i },
];

export const WIDTHS = [360, 1440] as const;

/** Waits for what a person waits for: the heading, and on the overview the drawn charts and live table controls. */
export async function waitForPage(page: Page, p: AppPage): Promise<void> {
  await page.getByRole("heading", { level: 1, name: p.heading }).waitFor();
  if (p.path === "/" || p.path.startsWith("/?")) {
    await page.locator(".chart-points circle").first().waitFor();
    await page.locator(".versions-table[data-hydrated='true']").waitFor();
  }
}
