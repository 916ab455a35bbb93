import { RegistryError } from "@/lib/registry/errors";

/** A webhook URL that is not an http(s) URL we will call: bad usage. */
export class WebhookUrlError extends RegistryError {
  override readonly code = "invalid_webhook_url";
  override readonly exitCode = 2;
}

/** A target that is, or resolves to, a private, loopback or otherwise internal address while those are refused. */
export class PrivateAddressError extends RegistryError {
  override readonly code = "private_address";
  override readonly exitCode = 3;
}

export class UnknownWebhookError extends RegistryError {
  override readonly code = "unknown_webhook";
  override readonly exitCode = 2;
  constructor(id: string | number) {
    super(`No webhook with id ${id}. Run \`registry webhooks list\` to see them.`);
  }
}

export class UnknownDeliveryError extends RegistryError {
  override readonly code = "unknown_delivery";
  override readonly exitCode = 2;
  constructor(id: string) {
    super(`No delivery with id ${JSON.stringify(id.slice(0, 80))}. Run \`registry webhooks deliveries WEBHOOK_ID\` to see them.`);
  }
}
