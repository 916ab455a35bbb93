"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { LOAD_CHECK_MODES, type LoadCheckMode } from "@/lib/load-check/mode";
import { defineAction } from "@/lib/server/action";
import { db } from "@/lib/server/session";
import { changeSetting } from "@/lib/settings/settings";
import { addTrusted, removeTrusted, trustedPathSchema, trustReasonSchema } from "@/lib/trust/trust-list";

// Admins keep the registry's trust list. The actor is always the signed-in admin (defineAction), the name
// is checked against the deny list inside addTrusted, and every change or refusal goes into the audit log.

const input = z.object({ path: trustedPathSchema, reason: trustReasonSchema });

function actorOf(user: { username: string; roles: string[] }) {
  return { name: user.username, role: user.roles.join(","), source: "web" as const };
}

/** Trusts an exact module.name in model files. */
export const trustAddAction = defineAction("trust.add", "users.manage", input, async (form, { user }) => {
  const { added, entry } = await addTrusted(db(), actorOf(user), form.path, form.reason);
  revalidatePath("/", "layout");
  return { ok: true, data: { path: entry.path, changed: added } };
});

/** Takes a module.name off the trust list: models importing it are unsafe again on the next page. */
export const trustRemoveAction = defineAction("trust.remove", "users.manage", input, async (form, { user }) => {
  const removed = await removeTrusted(db(), actorOf(user), form.path, form.reason);
  revalidatePath("/", "layout");
  return { ok: true, data: { path: removed.path, changed: true } };
});

/** Whether the load-and-predict check runs and whether "not run" blocks; pinned by REGISTRY_LOAD_CHECK when set (refused and audited). */
export const loadCheckSettingAction = defineAction(
  "settings.load_check",
  "users.manage",
  z.object({ loadCheck: z.enum(LOAD_CHECK_MODES as [LoadCheckMode, ...LoadCheckMode[]]) }),
  async (form, { user }) => {
    const { changed } = await changeSetting(db(), actorOf(user), "loadCheck", form.loadCheck);
    revalidatePath("/", "layout");
    return { ok: true, data: { changed: changed ? ["loadCheck"] : [] } };
  },
);
