import type { Metadata } from "next";
import { CreateTokenForm, RevokeTokenForm } from "@/components/api-token-forms";
import { ROLES } from "@/lib/auth";
import { listApiTokens } from "@/lib/auth/api-tokens";
import { db, requirePage } from "@/lib/server/session";
import { createTokenAction, revokeTokenAction } from "./actions";

export const metadata: Metadata = { title: "API tokens" };
export const dynamic = "force-dynamic";

export default async function TokensPage() {
  await requirePage("users.manage", "/admin/tokens");
  const tokens = await listApiTokens(db());
  return (
    <>
      <div className="page-head">
        <h1>API tokens</h1>
        <p className="muted">
          A token lets a pipeline use the HTTP API (<a href="/api/v1/openapi.json">/api/v1</a>) with one role, as
          <code> Authorization: Bearer …</code>. It is shown once when created; only its hash is kept. Every creation and revocation is in
          the audit log, and what a token does is logged under its name.
        </p>
      </div>
      <section className="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">Tokens ({tokens.filter((t) => t.state === "active").length} active)</h2>
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Token</th>
                <th scope="col">State</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="sr-only">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{t.role}</td>
                  <td className="mono">{t.prefix}…</td>
                  <td>{t.state === "revoked" ? `revoked by ${t.revokedBy}` : t.state}</td>
                  <td className="muted">{t.expiresAt?.slice(0, 16).replace("T", " ") ?? "never"}</td>
                  <td className="muted">{t.lastUsedAt?.slice(0, 16).replace("T", " ") ?? "never"}</td>
                  <td className="muted">
                    {t.createdAt.slice(0, 10)} by {t.createdBy}
                  </td>
                  <td>{t.state === "revoked" ? null : <RevokeTokenForm action={revokeTokenAction} id={t.id} name={t.name} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {tokens.length === 0 ? <p className="muted">No tokens yet.</p> : null}
      </section>
      <section aria-labelledby="new-token-title" className="section-gap">
        <h2 id="new-token-title">New token</h2>
        <CreateTokenForm action={createTokenAction} roles={ROLES} />
      </section>
    </>
  );
}
