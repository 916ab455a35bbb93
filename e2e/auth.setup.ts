import { test as setup } from "@playwright/test";
import { type E2ERole, signInAs, stateFile } from "./accounts";

// Signs each role in once; journeys reuse the cookies through storageState.
for (const role of ["viewer", "releaser", "auditor", "admin"] as E2ERole[]) {
  setup(`sign in as ${role}`, async ({ page }) => {
    await signInAs(page, role);
    await page.context().storageState({ path: stateFile(role) });
  });
}
