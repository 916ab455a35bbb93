import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { WebhookButton } from "@/components/webhook-forms";
import "@/components/webhooks.css";
import { db, requirePage } from "@/lib/server/session";
import { type DeliveryView, findWebhook, listDeliveries, UnknownWebhookError } from "@/lib/webhooks";
import { redeliverAction } from "../actions";

export const metadata: Metadata = { title: "Webhook deliveries" };
export const dynamic = "force-dynamic";

export default async function WebhookPage({ params }: { params: Promise<{ id: string }> }) {
  const { id: raw } = await params;
  await requirePage("webhooks.manage", `/admin/webhooks/${encodeURIComponent(raw)}`);
  if (!/^\d{1,9}$/.test(raw)) notFound();
  const id = Number(raw);
  const found = await load(id);
  if (!found) notFound();
  const { hook, deliveries } = found;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/admin/webhooks">Webhooks</Link> / #{hook.id}
      </nav>
      <div className="page-head">
        <h1>
          Webhook #{hook.id} {hook.enabled ? null : <span className="badge badge-muted">disabled</span>}
        </h1>
        <p className="mono wrap">{hook.url}</p>
        <p className="muted">
          {hook.events.join(", ")}. The latest 50 deliveries, newest first; a failed attempt is tried again after 3 minutes, then twice as
          long each time, ten attempts in all.
        </p>
      </div>
      <section className="card" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Deliveries ({deliveries.length})</h2>
        {deliveries.length === 0 ? <p className="muted">No deliveries yet.</p> : <DeliveryTable deliveries={deliveries} />}
      </section>
    </>
  );
}

async function load(id: number) {
  try {
    const [hook, deliveries] = await Promise.all([findWebhook(db(), id), listDeliveries(db(), id)]);
    return { hook, deliveries };
  } catch (e) {
    if (e instanceof UnknownWebhookError) return null;
    throw e;
  }
}

function DeliveryTable({ deliveries }: { deliveries: DeliveryView[] }) {
  return (
    <div className="table-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Delivery</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Redeliver</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => (
            <tr key={d.id} data-delivery={d.id}>
              <td>
                <span className="mono">{d.id}</span>
                <div className="muted">
                  {d.createdAt}
                  {d.redeliveryOf ? ` (again: ${d.redeliveryOf})` : ""}
                </div>
              </td>
              <td>
                {d.type}
                {d.auditSeq === null ? null : <div className="muted">audit event #{d.auditSeq}</div>}
              </td>
              <td>
                <span className={`badge ${d.state === "delivered" ? "badge-good" : d.state === "failed" ? "badge-bad" : "badge-warn"}`}>{d.state}</span>
                {d.nextAttemptAt ? <div className="muted">next attempt {d.nextAttemptAt}</div> : null}
              </td>
              <td>
                <ol className="attempts" aria-label={`${d.attempts} attempt(s)`}>
                  {d.attemptLog.map((a) => (
                    <li key={a.at}>
                      {a.at}: {a.error ?? `HTTP ${a.status}`} ({a.durationMs} ms)
                    </li>
                  ))}
                </ol>
              </td>
              <td>
                <WebhookButton action={redeliverAction} fields={{ deliveryId: d.id }} label="Redeliver" busy="Queuing…" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
