import { describe, expect, it } from "vitest";
import {
  AccountRequiredError,
  ApprovalRefusedError,
  NotAuthorisedError,
  RequestStaleError,
  UnknownRequestError,
} from "@/lib/approvals/errors";
import { TokenInputError, UnknownTokenError } from "@/lib/auth/api-tokens";
import {
  AliasBlockedError,
  InvalidInputError,
  LockTimeoutError,
  ProductionChangedError,
  RefusedError,
  RegistryError,
  SourceChangedError,
  UnknownVersionError,
  WriteFailedError,
} from "@/lib/registry/errors";
import { RegistryNotFoundError } from "@/lib/registry/scan";
import { exitCodeOf, statusOf } from "./errors";

// `registry --server` promises the local command's exit code: every error the core throws must come back
// from its HTTP status as the exit code it carries, and the statuses the issue names must hold.
const ERRORS: RegistryError[] = [
  new RegistryError("x"),
  new InvalidInputError("x"),
  new UnknownVersionError("a_20250101T000000Z"),
  new RefusedError("x"),
  new ProductionChangedError(null, "a"),
  new SourceChangedError("x"),
  new LockTimeoutError("x"),
  new WriteFailedError("x"),
  new AliasBlockedError("x"),
  new RegistryNotFoundError("x"),
  new UnknownRequestError(1),
  new ApprovalRefusedError("self_approval", "x"),
  new RequestStaleError("x"),
  new AccountRequiredError("x"),
  new NotAuthorisedError("unauthenticated", "x"),
  new NotAuthorisedError("forbidden", "x"),
  new TokenInputError("x"),
  new UnknownTokenError("x"),
];

describe("statuses of registry errors", () => {
  it.each(ERRORS.map((e) => [e.code, e] as const))("%s comes back as its own exit code", (_, e) => {
    expect(exitCodeOf(statusOf(e))).toBe(e.exitCode);
  });

  it("answers the statuses the API promises", () => {
    expect(statusOf(new InvalidInputError("x"))).toBe(400);
    expect(statusOf(new UnknownVersionError("a_20250101T000000Z"))).toBe(404);
    expect(statusOf(new ProductionChangedError(null, "a"))).toBe(409);
    expect(statusOf(new RefusedError("x"))).toBe(422);
    expect(statusOf(new NotAuthorisedError("forbidden", "x"))).toBe(403);
    expect(exitCodeOf(429)).toBe(1);
  });
});
