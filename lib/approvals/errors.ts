import { RegistryError } from "@/lib/registry/errors";

// One code per failure, as in lib/registry/errors.ts: the web shows the message, the CLI exits with the code.

/** No request with that id. */
export class UnknownRequestError extends RegistryError {
  override readonly code = "unknown_request";
  override readonly exitCode = 2;
  constructor(readonly id: number) {
    super(`No approval request #${id}. Run \`registry requests list\` to see the pending ones.`);
  }
}

/** The two-person rule refused a decision: the requester's own request, a closed or expired one. */
export class ApprovalRefusedError extends RegistryError {
  override readonly exitCode = 3;
  constructor(
    override readonly code: "self_approval" | "request_closed" | "request_expired",
    message: string,
  ) {
    super(message);
  }
}

/** Production or the target changed since the request: the approval applies nothing. */
export class RequestStaleError extends RegistryError {
  override readonly code = "request_stale";
  override readonly exitCode = 3;
}

/** With approvals required, the change needs an account (the CLI's --actor names nobody we can check). */
export class AccountRequiredError extends RegistryError {
  override readonly code = "account_required";
  override readonly exitCode = 2;
}

/** Wrong credentials, a locked-out account, or an account without the releaser role. */
export class NotAuthorisedError extends RegistryError {
  override readonly exitCode = 4;
  constructor(
    override readonly code: "unauthenticated" | "forbidden",
    message: string,
  ) {
    super(message);
  }
}
