"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { setPerson } from "@/lib/approvals";
import { USERNAME } from "@/lib/auth";
import { defineAction } from "@/lib/server/action";
import { db } from "@/lib/server/session";

/**
 * Admins say which person is behind an account (full name or email): the two-person rule treats two
 * accounts of one person as one. Audited as `user.person_changed` with the old and new value.
 */
export const setPersonAction = defineAction(
  "user.person",
  "users.manage",
  z.object({
    username: z.string().regex(USERNAME, "Not an account name."),
    person: z.string().max(200, "At most 200 characters."),
  }),
  async (input, { user }) => {
    const r = await setPerson(db(), { name: user.username, role: user.roles.join(","), source: "web" }, input.username, input.person);
    revalidatePath("/admin/users");
    return { ok: true, data: { username: input.username, person: r.person } };
  },
);
