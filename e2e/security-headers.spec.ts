import { type APIResponse, type Browser, chromium, expect, type Page, test } from "@playwright/test";
import { BEST, PRODUCTION, stateFile } from "./accounts";
import { actionId, postAction } from "./raw-requests";

// Every answer carries the headers that keep the dashboard out of other sites' frames and scripts out of
// its pages: a Content-Security-Policy with a fresh nonce per page, nosniff, a same-origin referrer.

const ROUTES: [string, number][] = [
  ["/", 200],
  ["/?sort=prAuc&dir=desc", 200],
  [`/versions/${BEST}`, 200],
  ["/versions/nope_20250101T000000Z", 404],
  [`/compare?v=${BEST}&v=${PRODUCTION}`, 200],
  ["/audit", 200],
  ["/admin/users", 307],
  ["/forbidden", 200],
  ["/setup", 404],
  ["/login", 307],
  ["/no/such/page", 404],
  ["/api/health", 200],
  ["/audit/export?format=json", 403],
];

function cspOf(res: APIResponse): Map<string, string> {
  const header = res.headers()["content-security-policy"] ?? "";
  return new Map(
    header
      .split(";")
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => [d.split(/\s+/)[0] as string, d.slice(d.indexOf(" ") + 1)]),
  );
}

function expectHardened(res: APIResponse, what: string) {
  const h = res.headers();
  expect(h["x-content-type-options"], what).toBe("nosniff");
  expect(h["referrer-policy"], what).toBe("same-origin");
  expect(h["x-frame-options"], what).toBe("DENY");
  const csp = cspOf(res);
  expect(csp.get("frame-ancestors"), what).toBe("'none'");
  expect(csp.get("default-src"), what).toBe("'self'");
  expect(csp.get("object-src"), what).toBe("'none'");
  expect(csp.get("base-uri"), what).toBe("'self'");
  expect(csp.get("form-action"), what).toBe("'self'");
  const scripts = csp.get("script-src") ?? "";
  expect(scripts, what).toMatch(/'nonce-[A-Za-z0-9+/]{22,}={0,2}'/);
  expect(scripts, what).toContain("'strict-dynamic'");
  expect(scripts, what).not.toContain("unsafe");
}

test("every page, route handler, redirect and 404 answers with the security headers", async ({ request }) => {
  for (const [path, status] of ROUTES) {
    const res = await request.get(path, { maxRedirects: 0 });
    expect(res.status(), path).toBe(status);
    expectHardened(res, path);
  }
});

test.describe("signed out", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("the sign-in page, and the pages that send you there, answer with them too", async ({ request }) => {
    for (const [path, status] of [
      ["/login", 200],
      ["/login?next=%2Faudit", 200],
      ["/", 307],
      ["/audit", 307],
      ["/api/health", 200],
      ["/audit/export?format=csv", 401],
    ] as const) {
      const res = await request.get(path, { maxRedirects: 0 });
      expect(res.status(), path).toBe(status);
      expectHardened(res, path);
    }
  });
});

test("the proxy's own refusals and the server actions' answers carry them too", async ({ baseURL, request }) => {
  const refused = await request.post("/", {
    headers: { "next-action": actionId("applyChange"), origin: "http://evil.example", "content-type": "text/plain" },
    data: "[]",
  });
  expectHardened(refused, "a cross-origin action");
  const malformed = await request.post("/", { headers: { "next-action": "nope", "content-type": "text/plain" }, data: "[]" });
  expectHardened(malformed, "a malformed action");
  const answered = await postAction(baseURL as string, actionId("applyChange"));
  expect(answered.headers.get("x-content-type-options")).toBe("nosniff");
  expect(answered.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
});

test("each page gets its own nonce, and every script on it carries that nonce", async ({ request }) => {
  const nonces = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const res = await request.get("/");
    const nonce = /'nonce-([^']+)'/.exec(res.headers()["content-security-policy"] ?? "")?.[1] ?? "";
    expect(nonce).not.toBe("");
    nonces.add(nonce);
    const html = await res.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag, tag).toContain(`nonce="${nonce}"`);
  }
  expect(nonces.size).toBe(3);
});

test("static assets are served with nosniff", async ({ request }) => {
  const html = await (await request.get("/")).text();
  const assets = [...html.matchAll(/(?:src|href)="(\/_next\/static\/[^"]+)"/g)].map((m) => m[1] as string);
  expect(assets.some((a) => a.endsWith(".js"))).toBe(true);
  expect(assets.some((a) => a.endsWith(".css"))).toBe(true);
  for (const asset of assets) {
    const res = await request.get(asset);
    expect(res.status(), asset).toBe(200);
    expect(res.headers()["x-content-type-options"], asset).toBe("nosniff");
    expect(res.headers()["referrer-policy"], asset).toBe("same-origin");
  }
});

/** Collects every CSP violation the page reports (the DOM event and the console), from before its first script. */
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  await page.exposeFunction("__reportViolation", (v: string) => seen.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportViolation: (v: string) => void }).__reportViolation(
        `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`,
      );
    });
  });
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(`console: ${m.text()}`);
  });
  return seen;
}

async function signedIn(browser: Browser, role: "releaser" | "admin" | "viewer") {
  const context = await browser.newContext({ storageState: stateFile(role) });
  const page = await context.newPage();
  return { context, page, violations: await watchViolations(page) };
}

test("the pages work under the policy: charts, table, dialogs and forms hydrate with no violation", async ({ browser }) => {
  test.setTimeout(90_000);
  const { context, page, violations } = await signedIn(browser, "releaser");

  // What an HTML injection would add, a script without the page's nonce, is refused and reported.
  await page.route("**/forbidden", async (route) => {
    const res = await route.fetch();
    const html = (await res.text()).replace("</body>", "<script>window.__injected = true</script></body>");
    await route.fulfill({ response: res, body: html });
  });
  await page.goto("/forbidden");
  await expect.poll(() => violations.filter((v) => v.startsWith("script-src")).length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
  await page.unroute("**/forbidden");
  violations.length = 0;

  // Overview: the charts draw in the browser, the table sorts, the promote dialog opens.
  await page.goto("/");
  await expect(page.locator(".recharts-surface")).toHaveCount(3);
  await page.getByRole("button", { name: /^Score/ }).click();
  await expect(page).toHaveURL(/sort=score/);
  await page.getByRole("button", { name: "Promote best" }).click();
  await expect(page.getByRole("dialog")).toBeVisible();
  await expect(page.getByRole("dialog").getByText("Readiness")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toBeHidden();

  await page.goto(`/versions/${BEST}`);
  await expect(page.getByRole("heading", { name: "Readiness for production" })).toBeVisible();
  await page.goto(`/compare?v=${BEST}&v=${PRODUCTION}`);
  await page.getByRole("switch", { name: "Differences only" }).click();
  await expect(page).toHaveURL(/diff=1/);
  await page.goto("/audit");
  await page.locator("li.event summary").first().click();
  await page.goto("/no/such/page");
  await expect(page.getByRole("heading").first()).toBeVisible();
  expect(violations).toEqual([]);
  await context.close();

  // The admin's form and a signed-out sign-in page.
  const admin = await signedIn(browser, "admin");
  await admin.page.goto("/admin/users");
  await admin.page.getByLabel("Username").fill("x");
  await admin.page.getByRole("button", { name: "Create account" }).click();
  await expect(admin.page.getByRole("status").or(admin.page.getByRole("alert")).first()).toBeVisible();
  expect(admin.violations).toEqual([]);
  await admin.context.close();

  const anon = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const login = await anon.newPage();
  const loginViolations = await watchViolations(login);
  await login.goto("/login");
  await login.getByLabel("Username").fill("viewer");
  await login.getByLabel("Password").fill("wrong password");
  await login.getByRole("button", { name: "Sign in" }).click();
  await expect(login.getByRole("status")).toContainText("Wrong username or password");
  expect(loginViolations).toEqual([]);
  await anon.close();
});

test("a page on another origin, even same-site on another port, cannot frame the signed-in dashboard", async ({ baseURL }) => {
  // Chromium's own Local Network Access checks would block this frame whatever our headers say (the
  // attacker's page below has no address of its own); with them off, only our headers stand in the way.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-features=LocalNetworkAccessChecks"],
  });
  const context = await browser.newContext({ storageState: stateFile("releaser") });
  const page = await context.newPage();
  // The attacker's page, served (by interception: nothing listens there) from another port of the same host.
  // Beside the dashboard it frames a page of its own, to show framing itself works in this browser.
  const attacker = "http://127.0.0.1:59206";
  await page.route(`${attacker}/**`, (route) =>
    route.fulfill({
      contentType: "text/html",
      body: route.request().url().endsWith("/own.html")
        ? "<!doctype html><button>Own button</button>"
        : `<!doctype html><title>win a prize</title><iframe title="own" src="${attacker}/own.html"></iframe><iframe title="dashboard" src="${baseURL}/" width="900" height="600"></iframe>`,
    }),
  );
  const answered = page.waitForResponse(`${baseURL}/`);
  const refused = page.waitForEvent("requestfailed", { predicate: (r) => r.url() === `${baseURL}/`, timeout: 15_000 });
  await page.goto(`${attacker}/attack.html`);
  await expect(page.frameLocator("iframe[title=own]").getByRole("button", { name: "Own button" })).toBeVisible();
  // The dashboard answered the frame (the session cookie went along: same site), and the browser then
  // refused to show that answer inside the attacker's page.
  expect((await answered).status()).toBe(200);
  expect((await refused).failure()?.errorText).toBe("net::ERR_BLOCKED_BY_RESPONSE");
  await expect(page.frameLocator("iframe[title=dashboard]").getByRole("button", { name: "Promote best" })).toHaveCount(0);
  await browser.close();
});
