"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { approveRequest, identityOfUser, rejectRequest, withdrawRequest } from "@/lib/approvals";
import { defineAction } from "@/lib/server/action";
import { registryRoot } from "@/lib/server/registry";
import { db } from "@/lib/server/session";
import { changeSetting, APPROVAL_SETTING_KEYS, SETTINGS } from "@/lib/settings/settings";

// The person deciding always comes from the session (defineAction), never from the form: a raw POST
// naming someone else's request, or claiming another approver, is judged as whoever is signed in.
// Decisions do not revalidate the page: the request's form stays on screen to say what happened, and
// every page is rendered fresh on the next visit (force-dynamic).

const requestId = z.coerce.number().int().min(1).max(1_000_000_000);
const reason = z.string().trim().min(3, "Say why, in a few words: it goes into the audit log.").max(2000);

export interface Decision {
  id: number;
  state: string;
  to: string;
  from: string | null;
  /** For an approval: what applying it did. */
  status: string | null;
}

/** A second releaser approves a request: the two-person rule, the re-plan and the apply are lib/approvals'. */
export const approveAction = defineAction(
  "approval.approve",
  "model.promote",
  z.object({ id: requestId, reason }),
  async (input, { user }) => {
    const { request, outcome } = await approveRequest(registryRoot(), input.id, await identityOfUser(db(), user), input.reason);
    return {
      ok: true,
      data: {
        id: request.id,
        state: request.state,
        to: request.targetStem,
        from: request.fromStem,
        status: outcome?.status ?? null,
      } satisfies Decision,
    };
  },
);

/** A second releaser rejects a request with a reason. */
export const rejectAction = defineAction(
  "approval.reject",
  "model.promote",
  z.object({ id: requestId, reason }),
  async (input, { user }) => {
    const { request } = await rejectRequest(registryRoot(), input.id, await identityOfUser(db(), user), input.reason);
    return {
      ok: true,
      data: { id: request.id, state: request.state, to: request.targetStem, from: request.fromStem, status: null } satisfies Decision,
    };
  },
);

/** The requester takes their request back. */
export const withdrawAction = defineAction(
  "approval.withdraw",
  "model.promote",
  z.object({ id: requestId, reason: z.string().trim().max(2000).optional() }),
  async (input, { user }) => {
    const { request } = await withdrawRequest(registryRoot(), input.id, await identityOfUser(db(), user), input.reason || null);
    return {
      ok: true,
      data: { id: request.id, state: request.state, to: request.targetStem, from: request.fromStem, status: null } satisfies Decision,
    };
  },
);

/** Admins change the two-person rule's settings; a setting pinned by the environment is refused (and audited). */
export const settingsAction = defineAction(
  "settings.change",
  "users.manage",
  z.object({
    approvals: z.enum(["off", "required"]).optional(),
    approvalTtlHours: z.string().trim().max(10).optional(),
    emergencyRollbackMinutes: z.string().trim().max(10).optional(),
  }),
  async (input, { user }) => {
    const actor = { name: user.username, role: user.roles.join(","), source: "web" as const };
    const given = APPROVAL_SETTING_KEYS.flatMap((key) => (input[key] ? [{ key, value: input[key] }] : []));
    // Every value is checked before any is stored: a form is saved whole or not at all.
    const fieldErrors: Record<string, string[]> = {};
    for (const { key, value } of given) {
      const parsed = SETTINGS[key].parse(value);
      if (!parsed.ok) fieldErrors[key] = [`Expected ${parsed.expected}.`];
    }
    if (Object.keys(fieldErrors).length) return { ok: false, code: "invalid_input", error: "Some fields need attention.", fieldErrors };
    const changed: string[] = [];
    for (const { key, value } of given) {
      if ((await changeSetting(db(), actor, key, value)).changed) changed.push(key);
    }
    revalidatePath("/", "layout");
    return { ok: true, data: { changed } };
  },
);
