import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { DeleteAccountForm, ResetPasswordForm, RolesForm, StatusForm } from "@/components/account-admin-forms";
import { AccountStatus } from "@/components/account-status";
import { findAccount, ROLES, USERNAME } from "@/lib/auth";
import { db, requirePage } from "@/lib/server/session";
import { changeRolesAction, deleteAccountAction, resetPasswordAction, setDisabledAction } from "../actions";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ username: string }> };

/** The name from the URL, or a 404: a malformed name is "no such page", never a server error. */
async function nameOr404(props: Props): Promise<string> {
  let name: string;
  try {
    name = decodeURIComponent((await props.params).username);
  } catch {
    notFound();
  }
  if (!USERNAME.test(name)) notFound();
  return name;
}

export async function generateMetadata(props: Props): Promise<Metadata> {
  const name = USERNAME.test((await props.params).username) ? (await props.params).username : "Account";
  return { title: `${name} · Accounts` };
}

export default async function AccountPage(props: Props) {
  const name = await nameOr404(props);
  const me = await requirePage("users.manage", `/admin/users/${encodeURIComponent(name)}`);
  const account = await findAccount(db(), name);
  if (!account) notFound();
  const self = account.username === me.username;
  return (
    <>
      <div className="page-head">
        <p>
          <Link href="/admin/users">← Accounts</Link>
        </p>
        <h1>{account.username}</h1>
        <p className="muted">
          <AccountStatus account={account} /> Created {account.createdAt.slice(0, 10)} by {account.createdBy}
          {account.passwordChangedAt ? `; password last changed ${account.passwordChangedAt.slice(0, 10)}` : ""}.
        </p>
      </div>
      {account.deleted ? (
        <p className="card">
          This account was deleted on {account.deletedAt?.slice(0, 10)}. Its name stays reserved so that past events in the audit log keep
          naming one person; someone returning gets an account with another name.
        </p>
      ) : (
        <div className="two-col">
          <section className="card" aria-labelledby="roles-title">
            <h2 id="roles-title">Roles</h2>
            <p className="muted">Taking a role away signs {self ? "you" : "them"} out everywhere. The last admin keeps admin.</p>
            <RolesForm action={changeRolesAction} username={account.username} roles={ROLES} current={account.roles} />
          </section>
          <section className="card" aria-labelledby="status-title">
            <h2 id="status-title">Access</h2>
            <p className="muted">
              {account.disabled
                ? "Disabled: this account cannot sign in. Enabling it lets it sign in again with its password."
                : "Disabling ends every session of this account at once; nothing else about it changes."}
            </p>
            <StatusForm action={setDisabledAction} username={account.username} disabled={account.disabled} />
          </section>
          <section className="card" aria-labelledby="password-title">
            <h2 id="password-title">Password</h2>
            <p className="muted">
              A reset ends every session of this account; at the next sign-in the temporary password only opens the page to choose a new
              one.
            </p>
            <ResetPasswordForm action={resetPasswordAction} username={account.username} />
          </section>
          <section className="card" aria-labelledby="delete-title">
            <h2 id="delete-title">Delete</h2>
            <p className="muted">
              Deleting cannot be undone: the account loses its roles and password and its sessions end. Past events keep its name, and the
              name stays reserved. To keep the door open, disable instead.
            </p>
            <DeleteAccountForm action={deleteAccountAction} username={account.username} />
          </section>
        </div>
      )}
    </>
  );
}
