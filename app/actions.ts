"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { identityOfUser, routeFor, submitChange } from "@/lib/approvals";
import { productionHistory } from "@/lib/audit";
import { changeReason, versionName as stem } from "@/lib/api/spec";
import { previousTarget } from "@/lib/release";
import { CHECK_NAMES, planFromDisk } from "@/lib/registry";
import { defineAction } from "@/lib/server/action";
import { startVersionLoadCheck, versionLoadCheckState } from "@/lib/server/load-check";
import { minScore, registryRoot } from "@/lib/server/registry";
import { db } from "@/lib/server/session";
import { loadCheckPolicy, readSettings, settingValues } from "@/lib/settings/settings";
import { trustPolicy } from "@/lib/trust/trust-list";
import type { Preview } from "@/lib/views/preview";

const kind = z.enum(["promote", "rollback"]);
const target = z.object({
  kind,
  /** Omitted for "promote the best"; "previous" rolls back to the version live before the current one. */
  version: z.union([stem, z.literal("previous")]).optional(),
});

/** The version a preview names: as given, or the one live before the current production was promoted. */
async function resolveVersion(input: z.output<typeof target>): Promise<{ version: string | undefined; previous: Preview["previous"] }> {
  if (input.version !== "previous") return { version: input.version, previous: null };
  const { stem, explanation } = await previousTarget(registryRoot(), db());
  return { version: stem, previous: { stem, explanation } };
}

/** Plans a promotion or rollback for the preview dialog. Reads only; the plan is re-made on confirm. */
export const previewChange = defineAction("model.preview", "model.promote", target, async (input) => {
  const { version, previous } = await resolveVersion(input);
  const { plan } = await planFromDisk(
    registryRoot(),
    { kind: input.kind, version, minScore: minScore(), overrides: [] },
    input.kind === "rollback" ? productionHistory(db()) : undefined,
    await trustPolicy(db()),
    // The preview never sits silent on the sandbox: an unanswered check is started and shown running (the dialog polls).
    { ...loadCheckPolicy(await readSettings(db())), wait: false },
  );
  const { route } = await routeFor(db(), plan, await settingValues(db()), new Date());
  return { ok: true, data: JSON.parse(JSON.stringify({ plan, previous, approval: route })) as Preview };
});

/** Starts the load-and-predict check on a version's model in the sandbox (joining a run already going); never waits for it. */
export const startLoadCheckAction = defineAction("model.load_check", "model.promote", z.object({ version: stem }), async (input) => {
  return { ok: true, data: await startVersionLoadCheck(input.version) };
});

/** Where the load check on a version's model stands (running, answered, never asked): what the page and the dialog poll. */
export const loadCheckStatusAction = defineAction(
  "model.load_check_status",
  "registry.read",
  z.object({ version: stem }),
  async (input) => {
    return { ok: true, data: await versionLoadCheckState(input.version) };
  },
);

const confirm = target.extend({
  version: stem,
  expectedProductionSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable()
    .or(z.literal("").transform(() => null)),
  expectedTargetSha256: z.string().regex(/^[0-9a-f]{64}$/),
  reason: changeReason,
  override: z
    .union([z.enum(CHECK_NAMES), z.array(z.enum(CHECK_NAMES))])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  overrideReason: z.string().trim().max(2000).optional(),
});

/**
 * Applies a previewed promotion or rollback: re-plans on the server (the client's plan is never trusted),
 * refuses if production or the target changed since the preview, applies under the registry lock with
 * the audit trail, and revalidates every page. Under the two-person rule it files a request instead
 * (lib/approvals), unless it is an emergency rollback.
 */
export const applyChange = defineAction(
  "model.apply",
  "model.promote",
  confirm.superRefine((v, ctx) => {
    if (v.override.length && (v.overrideReason ?? "").length < 3) {
      ctx.addIssue({ code: "custom", path: ["overrideReason"], message: "An override needs its own written reason." });
    }
  }),
  async (input, { user }) => {
    const outcome = await submitChange(
      registryRoot(),
      {
        kind: input.kind,
        version: input.version,
        minScore: minScore(),
        overrides: input.override.map((check) => ({ check, reason: input.overrideReason ?? "" })),
        reason: input.reason,
      },
      { actor: { name: user.username, role: user.roles.join(","), source: "web" }, identity: await identityOfUser(db(), user) },
      { expected: { productionSha256: input.expectedProductionSha256, targetSha256: input.expectedTargetSha256 } },
    );
    revalidatePath("/", "layout");
    if (outcome.status === "refused") {
      // A stable code a client can act on: never_live means "promote it instead", refused a failed check.
      const code = outcome.plan.refusalCode === "never_live" ? "never_live" : "refused";
      return { ok: false, code, error: outcome.plan.refusal ?? "Refused by a readiness check." };
    }
    return {
      ok: true,
      data: {
        status: outcome.status,
        to: outcome.plan.target.stem,
        from: outcome.plan.current.stem,
        requestId: outcome.request?.id ?? null,
        emergency: outcome.emergency,
        // The dialog links the change's events in the audit log (/audit?correlation=…).
        correlationId: outcome.correlationId,
      },
    };
  },
);
