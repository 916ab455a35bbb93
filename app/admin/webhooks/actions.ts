"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type Actor, secret, WEBHOOK_EVENTS } from "@/lib/audit";
import type { SessionUser } from "@/lib/auth";
import { defineAction } from "@/lib/server/action";
import { db } from "@/lib/server/session";
import { registryRoot } from "@/lib/server/registry";
import {
  addWebhook,
  enqueuePing,
  findDelivery,
  MAX_SECRET,
  MIN_SECRET,
  PrivateAddressError,
  redeliver,
  removeWebhook,
  sendDue,
  setWebhookEnabled,
  WebhookUrlError,
} from "@/lib/webhooks";

// Admins' webhook changes (webhooks.manage), checked inside defineAction; each change and its audit event
// are written together by lib/webhooks/store.ts, the same code the CLI runs. The secret is marked secret():
// it stays out of every message, log line and kept form value.

const actorOf = (user: SessionUser): Actor => ({ name: user.username, role: user.roles.join(","), source: "web" });
const id = z.coerce.number().int().positive().max(999_999_999);

function changed(): void {
  revalidatePath("/admin/webhooks", "layout");
}

const newWebhook = z.object({
  url: z.string().trim().min(1, "Which URL?").max(2000, "At most 2000 characters."),
  secret: secret(z.string().min(MIN_SECRET, `At least ${MIN_SECRET} characters.`).max(MAX_SECRET, `At most ${MAX_SECRET} characters.`)),
  events: z
    .union([z.enum(WEBHOOK_EVENTS), z.array(z.enum(WEBHOOK_EVENTS))])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
    .refine((v) => v.length > 0, "Choose at least one event."),
});

/** Registers a webhook; the URL is checked (http/https, no credentials, the address policy). */
export const createWebhookAction = defineAction("webhook.create", "webhooks.manage", newWebhook, async (input, { user }) => {
  try {
    const hook = await addWebhook(db(), registryRoot(), actorOf(user), input);
    changed();
    return { ok: true, data: { id: hook.id, url: hook.url } };
  } catch (e) {
    // A refused URL is said beside its field.
    if (e instanceof WebhookUrlError || e instanceof PrivateAddressError) return { ok: false, error: e.message, fieldErrors: { url: [e.message] } };
    throw e;
  }
});

/** Turns sending on or off. */
export const setWebhookEnabledAction = defineAction(
  "webhook.enable",
  "webhooks.manage",
  z.object({ id, enabled: z.enum(["true", "false"]).transform((v) => v === "true") }),
  async (input, { user }) => {
    const didChange = await setWebhookEnabled(db(), actorOf(user), input.id, input.enabled);
    changed();
    const message = didChange ? `${input.enabled ? "Enabled" : "Disabled"} webhook #${input.id}.` : "Nothing changed.";
    return { ok: true, data: { id: input.id, enabled: input.enabled, changed: didChange, message } };
  },
);

/** Removes a webhook with its deliveries. */
export const removeWebhookAction = defineAction("webhook.remove", "webhooks.manage", z.object({ id }), async (input, { user }) => {
  await removeWebhook(db(), actorOf(user), input.id);
  changed();
  return { ok: true, data: { id: input.id, message: `Removed webhook #${input.id}.` } };
});

/** Queues a ping and sends it now, so the admin sees at once whether the receiver accepts it. */
export const testWebhookAction = defineAction("webhook.test", "webhooks.manage", z.object({ id }), async (input, { user }) => {
  const database = db();
  const ping = await enqueuePing(database, actorOf(user), input.id);
  await sendDue(database, registryRoot(), { source: "web", only: [ping.id] });
  const d = await findDelivery(database, ping.id);
  changed();
  const delivered = d.state === "delivered";
  const message = delivered ? `Ping delivered (HTTP ${d.lastStatus}).` : `Ping not delivered: ${d.lastError ?? d.state}`;
  return { ok: true, data: { delivered, status: d.lastStatus, error: d.lastError, message } };
});

/** Sends a delivery again, as a new delivery with the same body. */
export const redeliverAction = defineAction(
  "webhook.redeliver",
  "webhooks.manage",
  z.object({ deliveryId: z.uuid("Not a delivery id.") }),
  async (input, { user }) => {
    const d = await redeliver(db(), actorOf(user), input.deliveryId);
    changed();
    return { ok: true, data: { id: d.id, message: `Queued redelivery ${d.id}.` } };
  },
);
