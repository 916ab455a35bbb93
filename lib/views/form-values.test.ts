import { describe, expect, it } from "vitest";
import { kept, keptAll, keptValues } from "./form-values";

describe("values a form keeps after a server-side error", () => {
  it("keeps text fields and repeated checkboxes, and never a password, confirmation, token or key", () => {
    const form = new FormData();
    form.append("username", "rita");
    form.append("role", "viewer");
    form.append("role", "auditor");
    form.append("reason", "why not");
    for (const secret of ["password", "newPassword", "currentPassword", "confirm", "apiToken", "webhookSecret", "privateKey"]) {
      form.append(secret, "hunter2-secret");
    }
    form.append("$ACTION_ID_abc", "");
    const values = keptValues(form);
    expect(values).toEqual({ username: "rita", role: ["viewer", "auditor"], reason: "why not" });
    expect(JSON.stringify(values)).not.toContain("hunter2");
    expect(kept(values, "username")).toBe("rita");
    expect(keptAll(values, "role")).toEqual(["viewer", "auditor"]);
    expect(keptAll(values, "reason")).toEqual(["why not"]);
    expect(kept(undefined, "x")).toBeUndefined();
  });

  it("bounds what it hands back, and skips what is not text", () => {
    const values = keptValues({
      reason: "x".repeat(50_000),
      file: { size: 1 },
      n: 3,
      ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, "v"])),
    });
    expect((values.reason as string).length).toBe(10_000);
    expect(values.file).toBeUndefined();
    expect(values.n).toBeUndefined();
    expect(Object.keys(values).length).toBeLessThanOrEqual(40);
  });
});
