import type { Metadata } from "next";
import Link from "next/link";
import { AccountStatus } from "@/components/account-status";
import { CreateUserForm } from "@/components/create-user-form";
import { PersonForm } from "@/components/person-form";
import { personsByAccount } from "@/lib/approvals";
import { listAccounts, ROLES } from "@/lib/auth";
import { db, requirePage } from "@/lib/server/session";
import { createUserAction } from "./actions";
import { setPersonAction } from "./person-actions";
import { ScrollBox } from "@/components/scroll-box";

export const metadata: Metadata = { title: "Accounts" };
export const dynamic = "force-dynamic";

export default async function UsersPage() {
  await requirePage("users.manage", "/admin/users");
  const [accounts, persons] = await Promise.all([listAccounts(db()), personsByAccount(db())]);
  const live = accounts.filter((a) => !a.deleted);
  const deleted = accounts.filter((a) => a.deleted);
  return (
    <>
      <div className="page-head">
        <h1>Accounts</h1>
        <p className="muted">
          Viewers read; releasers promote and roll back; auditors read and export the audit log; admins manage accounts. Every change here
          is in the audit log.
        </p>
      </div>
      <div className="two-col">
        <section className="card" aria-labelledby="users-title">
          <h2 id="users-title">People ({live.length})</h2>
          <ScrollBox label="Accounts">
            <table>
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Person</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {live.map((u) => (
                  <tr key={u.id}>
                    <td>
                      <Link href={`/admin/users/${encodeURIComponent(u.username)}`}>{u.username}</Link>
                    </td>
                    <td>{u.roles.join(", ")}</td>
                    <td>{persons.get(u.id) ?? <span className="muted">(username)</span>}</td>
                    <td>
                      <AccountStatus account={u} />
                    </td>
                    <td className="muted">
                      {u.createdAt.slice(0, 10)} by {u.createdBy}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
          {deleted.length ? (
            <p className="muted">
              Deleted (their names stay reserved, so past events keep naming one person): {deleted.map((d) => d.username).join(", ")}.
            </p>
          ) : null}
        </section>
        <div>
          <section aria-labelledby="new-user-title">
            <h2 id="new-user-title">New account</h2>
            <CreateUserForm action={createUserAction} roles={ROLES} />
          </section>
          <section aria-labelledby="person-title" className="section-gap">
            <h2 id="person-title">Person behind an account</h2>
            <p className="muted">The two-person rule treats two accounts of one person as one: the requester can approve with neither.</p>
            <PersonForm usernames={live.map((u) => u.username)} action={setPersonAction} />
          </section>
        </div>
      </div>
    </>
  );
}
