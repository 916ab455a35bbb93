import { expect, test } from "@playwright/test";
import { password } from "./accounts";
import { captureSignIn, postSignIn } from "./sign-in-client";

// Following a sign-in link someone sent you: wherever its `next` points, you land on this dashboard.
test.use({ storageState: { cookies: [], origins: [] } });

// Query strings exactly as an attacker would put them in a link (already URL-encoded where they are).
const HOSTILE_LINKS = [
  "next=/%09/evil.example",
  "next=/.//evil.example",
  "next=/a%0Ab",
  "next=//evil.example",
  "next=/%5Cevil.example",
  "next=/%5C/evil.example",
  "next=%2F%2Fevil.example",
  "next=/%2509/evil.example",
  "next=/%252F%252Fevil.example",
  "next=https://evil.example/",
  "next=/..//evil.example",
  "next=/%0D%0ASet-Cookie:%20x=1",
  "next=%E2%80%AE//evil.example",
  "next=/%00",
];

test("a sign-in link with a hostile next lands on this dashboard, signed in, never elsewhere", async ({ page, baseURL }) => {
  const ours = new URL(baseURL as string).origin;
  const elsewhere: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).origin !== ours) elsewhere.push(r.url());
  });
  for (const link of HOSTILE_LINKS) {
    await page.context().clearCookies();
    const answer = await page.goto(`/login?${link}`);
    expect(answer?.status(), link).toBe(200);
    await page.getByLabel("Username").fill("viewer");
    await page.getByLabel("Password").fill(password("viewer"));
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByText("viewer (viewer)"), link).toBeVisible();
    expect(new URL(page.url()).origin, link).toBe(ours);
    expect(new URL(page.url()).pathname, link).toBe("/");
  }
  expect(elsewhere).toEqual([]);
});

test("a benign next still brings you back to the page you asked for", async ({ page }) => {
  await page.goto(`/login?next=${encodeURIComponent("/audit?action=model.promoted")}`);
  await page.getByLabel("Username").fill("viewer");
  await page.getByLabel("Password").fill(password("viewer"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/audit\?action=model\.promoted$/);
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
});

test("raw sign-in posts with hostile next values redirect home and never answer 500", async ({ page, baseURL }) => {
  const action = await captureSignIn(page);
  const values = [
    "/\t/evil.example",
    "/.//evil.example",
    "/a\nb",
    "/\\evil.example",
    "//evil.example",
    "/%09/evil.example",
    "/\r\nLocation: https://evil.example",
    "javascript:alert(1)",
    `/${"a".repeat(2100)}`,
  ];
  for (const next of values) {
    const answer = await postSignIn(baseURL as string, action, { username: "viewer", password: password("viewer"), next });
    expect(answer.status, JSON.stringify(next)).toBe(200);
    expect(answer.outcome, JSON.stringify(next)).toBe("signed-in");
    // Next answers an action's redirect with the target in x-action-redirect ("/;push") and renders it inline.
    expect(answer.location?.split(";")[0], JSON.stringify(next)).toBe("/");
  }
});
