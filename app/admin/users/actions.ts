"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { recordEvent, secret } from "@/lib/audit";
import { AccountError, createUser, ROLES } from "@/lib/auth";
import { defineAction } from "@/lib/server/action";
import { db } from "@/lib/server/session";

const newUser = z.object({
  username: z.string().trim().min(2, "At least 2 characters.").max(40),
  password: secret(z.string().min(10, "At least 10 characters.").max(1000)),
  role: z
    .union([z.enum(ROLES), z.array(z.enum(ROLES))])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
    .refine((v) => v.length > 0, "Choose at least one role."),
});

/** Admins create accounts; the creation is audited like any other change of who may do what. */
export const createUserAction = defineAction("user.create", "users.manage", newUser, async (input, { user }) => {
  try {
    const created = await createUser(db(), {
      username: input.username,
      password: input.password,
      roles: input.role,
      createdBy: user.username,
    });
    await recordEvent(
      db(),
      { name: user.username, role: user.roles.join(","), source: "web" },
      {
        action: "user.created",
        outcome: "succeeded",
        reason: `Created ${created.username} with ${created.roles.join(", ")}.`,
        details: { username: created.username, roles: created.roles },
      },
    );
    revalidatePath("/admin/users");
    return { ok: true, data: { username: created.username } };
  } catch (e) {
    if (e instanceof AccountError) return { ok: false, error: e.message };
    throw e;
  }
});
