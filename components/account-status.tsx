import type { Account } from "@/lib/auth";

/** An account's state in a word or two, for the table and the account page. */
export function AccountStatus({ account }: { account: Account }) {
  if (account.deleted) return <span className="badge badge-muted">deleted</span>;
  return (
    <span className="badges">
      {account.disabled ? <span className="badge badge-bad">disabled</span> : <span className="badge badge-good">active</span>}
      {account.mustChangePassword ? <span className="badge badge-warn">must change password</span> : null}
    </span>
  );
}
