import type { Metadata } from "next";
import Link from "next/link";
import { CreateWebhookForm, WebhookButton } from "@/components/webhook-forms";
import "@/components/webhooks.css";
import { WEBHOOK_EVENTS } from "@/lib/audit";
import { db, requirePage } from "@/lib/server/session";
import { listWebhooks, type WebhookView } from "@/lib/webhooks";
import { createWebhookAction, removeWebhookAction, setWebhookEnabledAction, testWebhookAction } from "./actions";

export const metadata: Metadata = { title: "Webhooks" };
export const dynamic = "force-dynamic";

export default async function WebhooksPage() {
  await requirePage("webhooks.manage", "/admin/webhooks");
  const hooks = await listWebhooks(db());
  return (
    <>
      <div className="page-head">
        <h1>Webhooks</h1>
        <p className="muted">
          Receivers of signed events: each promotion, rollback or refusal is POSTed as JSON, signed with the webhook's secret, retried
          for about a day, and shown here with every attempt. Every change here is in the audit log.
        </p>
      </div>
      <div className="two-col">
        <section className="card" aria-labelledby="hooks-title">
          <h2 id="hooks-title">Receivers ({hooks.length})</h2>
          {hooks.length === 0 ? <p className="muted">No webhooks yet.</p> : <WebhookTable hooks={hooks} />}
        </section>
        <section aria-labelledby="new-hook-title">
          <h2 id="new-hook-title">New webhook</h2>
          <CreateWebhookForm action={createWebhookAction} events={WEBHOOK_EVENTS} />
        </section>
      </div>
    </>
  );
}

function WebhookTable({ hooks }: { hooks: WebhookView[] }) {
  return (
    <div className="table-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Webhook</th>
            <th scope="col">Events</th>
            <th scope="col">Deliveries</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {hooks.map((h) => (
            <tr key={h.id}>
              <td>
                <Link href={`/admin/webhooks/${h.id}`}>#{h.id}</Link> <span className="mono wrap">{h.url}</span>
                {h.enabled ? null : <span className="badge badge-muted">disabled</span>}
                <div className="muted">
                  {h.createdAt.slice(0, 10)} by {h.createdBy}
                </div>
              </td>
              <td>{h.events.join(", ")}</td>
              <td>
                <Link href={`/admin/webhooks/${h.id}`}>
                  {h.counts.delivered} delivered, {h.counts.pending} pending, {h.counts.failed} failed
                </Link>
              </td>
              <td>
                <WebhookButton action={testWebhookAction} fields={{ id: String(h.id) }} label="Send test" busy="Sending…" />
                <WebhookButton
                  action={setWebhookEnabledAction}
                  fields={{ id: String(h.id), enabled: h.enabled ? "false" : "true" }}
                  label={h.enabled ? "Disable" : "Enable"}
                  busy="Saving…"
                />
                <WebhookButton action={removeWebhookAction} fields={{ id: String(h.id) }} label="Remove" busy="Removing…" danger />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
