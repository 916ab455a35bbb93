/** Base of every error the registry core throws; `exitCode` is the CLI's contract for it. */
export class RegistryError extends Error {
  readonly code: string = "registry_error";
  readonly exitCode: number = 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A caller asked for something malformed: a bad version name, a bad flag value. */
export class InvalidInputError extends RegistryError {
  override readonly code = "invalid_input";
  override readonly exitCode = 2;
}

/** The version name is well formed but the registry holds no such version. */
export class UnknownVersionError extends RegistryError {
  override readonly code = "unknown_version";
  override readonly exitCode = 2;
  constructor(readonly stem: string) {
    super(`No version named "${stem}" in the registry. Run \`registry list\` to see the versions.`);
  }
}

/** A readiness check (or the absence of any candidate) refused the write. */
export class RefusedError extends RegistryError {
  override readonly code = "refused";
  override readonly exitCode = 3;
}

/** Production changed between planning and applying: nothing was written. */
export class ProductionChangedError extends RegistryError {
  override readonly code = "production_changed";
  override readonly exitCode = 3;
  constructor(
    readonly expectedSha256: string | null,
    readonly actualSha256: string | null,
  ) {
    super(
      "Production changed since this plan was made (someone else promoted or rolled back meanwhile). Nothing was written: review the new state and plan again.",
    );
  }
}

/** A source file changed or vanished between planning and applying. */
export class SourceChangedError extends RegistryError {
  override readonly code = "source_changed";
  override readonly exitCode = 3;
}

/** Another writer holds the registry lock for longer than we are willing to wait. */
export class LockTimeoutError extends RegistryError {
  override readonly code = "lock_timeout";
  override readonly exitCode = 1;
}

/** Writing the alias failed (disk full, read-only folder…); production was left as it was. */
/** The database that holds the promotion lock (PostgreSQL) cannot be reached: nothing was written. */
export class DatabaseUnavailableError extends RegistryError {
  override readonly code = "database_unavailable";
  override readonly exitCode = 1;
}

export class WriteFailedError extends RegistryError {
  override readonly code = "write_failed";
  override readonly exitCode = 1;
}

/**
 * A production alias path holds something a rename cannot (or must not) replace: a folder, a pipe, a
 * socket, a device. Nothing of ours removes it; a person moves it away.
 */
export class AliasBlockedError extends RegistryError {
  override readonly code = "alias_blocked";
  override readonly exitCode = 3;
}
