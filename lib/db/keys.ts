// PostgreSQL advisory lock keys (64-bit), one per purpose, the same in every replica and the CLI. One
// database holds one registry, so the keys need not name a folder (whose path differs between machines).
export const LOCK_KEYS = {
  /** The promotion lock: plan check, copy, journal, renames, completion (lib/registry/lock-postgres.ts). */
  promotion: 0x5245_4731, // "REG1"
  /** Appends to the audit chain (lib/audit/log.ts), per transaction. */
  auditAppend: 0x5245_4732,
  /** Changes to accounts that check other accounts first (first admin, last admin). */
  accounts: 0x5245_4733,
  /** Sign-in throttle counting (lib/auth/throttle.ts), per statement. */
  throttle: 0x5245_4735,
  /** Applying migrations. */
  migrate: 0x5245_4734,
} as const;
