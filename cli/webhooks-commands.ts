import { type Actor, openAudit } from "@/lib/audit";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import {
  addWebhook,
  checkSecret,
  checkTargetUrl,
  type DeliveryView,
  enqueuePing,
  findDelivery,
  listDeliveries,
  listWebhooks,
  PrivateAddressError,
  parseEvents,
  redeliver,
  removeWebhook,
  sendAllDue,
  sendDue,
  setWebhookEnabled,
  type WebhookView,
} from "@/lib/webhooks";
import { common, type Out, parse } from "./args";

const USAGE =
  "Usage: registry webhooks add URL --secret-stdin --events E[,E…] | list | remove ID | disable ID | enable ID | deliveries ID | redeliver DELIVERY_ID | test ID | send";

/**
 * `registry webhooks …`: receivers of signed events from a shell. Every change is audited with the OS user
 * as the actor (source "cli"); the secret is read from standard input only, and never printed again.
 * `send` flushes the outbox where no server runs; `test` queues a ping and sends it now.
 */
export async function webhooksCommand(args: string[], io: Out, osUser: string): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { ...common, "secret-stdin": { type: "boolean" }, events: { type: "string", multiple: true } }, 1);
  for (const flag of ["secret-stdin", "events"] as const) {
    if (values[flag] !== undefined && sub !== "add") throw new InvalidInputError(`registry webhooks ${sub ?? ""} takes no --${flag}. ${USAGE}`);
  }
  const root = resolveRoot(values.root);
  const who: Actor = { name: osUser, role: "cli", source: "cli" };
  const arg = positionals[0];
  switch (sub) {
    case "add": {
      if (!arg) throw new InvalidInputError(`registry webhooks add needs a URL. ${USAGE}`);
      if (!values["secret-stdin"]) throw new InvalidInputError("--secret-stdin is required: the secret is read from standard input, never from a flag.");
      if (!values.events?.length) throw new InvalidInputError("--events is required, e.g. --events model.promoted,model.rolled_back.");
      const secret = (await (io.stdin ?? readStdin)()).replace(/\r?\n$/, "");
      // Bad usage writes nothing, not even a database; a private address is a refusal, recorded by addWebhook.
      parseEvents(values.events);
      checkSecret(secret);
      try {
        checkTargetUrl(arg.trim());
      } catch (e) {
        if (!(e instanceof PrivateAddressError)) throw e;
      }
      const hook = await addWebhook(openAudit(root), root, who, { url: arg, secret, events: values.events });
      if (io.json) io.printJson(hook);
      else io.print(`Added webhook #${hook.id}: ${hook.url} for ${hook.events.join(", ")}. The secret is stored encrypted and will not be shown again.`);
      return 0;
    }
    case "list": {
      none(arg);
      const hooks = await listWebhooks(openAudit(root));
      if (io.json) io.printJson({ webhooks: hooks });
      else if (hooks.length === 0) io.print("No webhooks. Add one with `registry webhooks add URL --secret-stdin --events …`.");
      else for (const h of hooks) io.print(line(h));
      return 0;
    }
    case "remove":
    case "disable":
    case "enable": {
      const id = webhookId(arg);
      const db = openAudit(root);
      if (sub === "remove") await removeWebhook(db, who, id);
      const changed = sub === "remove" ? true : await setWebhookEnabled(db, who, id, sub === "enable");
      if (io.json) io.printJson({ id, [sub === "remove" ? "removed" : "enabled"]: sub === "remove" ? true : sub === "enable", changed });
      else io.print(changed ? `${sub === "remove" ? "Removed" : sub === "enable" ? "Enabled" : "Disabled"} webhook #${id}.` : `Webhook #${id} was already ${sub}d.`);
      return 0;
    }
    case "deliveries": {
      const id = webhookId(arg);
      const deliveries = await listDeliveries(openAudit(root), id);
      if (io.json) io.printJson({ deliveries });
      else if (deliveries.length === 0) io.print("No deliveries yet.");
      else for (const d of deliveries) io.print(deliveryLine(d));
      return 0;
    }
    case "redeliver": {
      if (!arg) throw new InvalidInputError(`registry webhooks redeliver needs a DELIVERY_ID. ${USAGE}`);
      const d = await redeliver(openAudit(root), who, arg);
      if (io.json) io.printJson(d);
      else io.print(`Queued redelivery ${d.id} of ${arg}: the server sends it, or run \`registry webhooks send\`.`);
      return 0;
    }
    case "test": {
      const id = webhookId(arg);
      const db = openAudit(root);
      const ping = await enqueuePing(db, who, id);
      await sendDue(db, root, { source: "cli", only: [ping.id] });
      const d = await findDelivery(db, ping.id);
      if (io.json) io.printJson(d);
      else io.print(d.state === "delivered" ? `Ping ${d.id} delivered (${d.lastStatus}).` : `Ping ${d.id} not delivered: ${d.lastError ?? d.state}`);
      return d.state === "delivered" ? 0 : 3;
    }
    case "send": {
      none(arg);
      const report = await sendAllDue(openAudit(root), root, { source: "cli" });
      if (io.json) io.printJson(report);
      else io.print(`Delivered ${report.delivered}, to retry ${report.retrying}, given up ${report.failed}.`);
      return 0;
    }
    default:
      throw new InvalidInputError(USAGE);
  }
}

function webhookId(arg: string | undefined): number {
  if (!arg || !/^\d{1,9}$/.test(arg)) throw new InvalidInputError(`A webhook ID is a number (see \`registry webhooks list\`). ${USAGE}`);
  return Number(arg);
}

function none(arg: string | undefined): void {
  if (arg !== undefined) throw new InvalidInputError(`Unexpected argument "${arg.slice(0, 80)}". ${USAGE}`);
}

function line(h: WebhookView): string {
  const c = h.counts;
  return `#${h.id} ${h.enabled ? "" : "(disabled) "}${h.url}  ${h.events.join(",")}  delivered ${c.delivered}, pending ${c.pending}, failed ${c.failed}`;
}

function deliveryLine(d: DeliveryView): string {
  const last = d.lastError ?? (d.lastStatus === null ? "" : `HTTP ${d.lastStatus}`);
  const next = d.nextAttemptAt ? `, next ${d.nextAttemptAt}` : "";
  return `${d.id}  ${d.type.padEnd(18)} ${d.state.padEnd(9)} ${d.attempts} attempt(s)${next}${last ? `  ${last}` : ""}`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
