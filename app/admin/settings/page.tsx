import type { Metadata } from "next";
import { TrustAddForm, TrustRemoveForm } from "@/components/trust-list-forms";
import { GENERATED_PROVENANCE } from "@/lib/inspect/allowlist-generated";
import { db, requirePage } from "@/lib/server/session";
import { listTrusted } from "@/lib/trust/trust-list";
import { trustAddAction, trustRemoveAction } from "./actions";

export const metadata: Metadata = { title: "Registry settings" };
export const dynamic = "force-dynamic";

/** The registry's trust list: in-house classes an admin allows in model files beyond the built-in allowlist. */
export default async function SettingsPage() {
  await requirePage("users.manage", "/admin/settings");
  const trusted = await listTrusted(db());
  const v = GENERATED_PROVENANCE.versions;
  return (
    <>
      <div className="page-head">
        <h1>Registry settings</h1>
        <p className="muted">
          The model file inspector allows the classes of scikit-learn {v["scikit-learn"]}, XGBoost {v.xgboost}, numpy, scipy and joblib
          (generated from {GENERATED_PROVENANCE.models} fitted models) and a short list of pure numeric functions. Everything else makes a
          model unsafe, unless it is trusted here.
        </p>
      </div>
      <div className="settings-stack">
        <section className="card" aria-labelledby="trust-title">
          <h2 id="trust-title">Trusted by registry policy ({trusted.length})</h2>
          {trusted.length === 0 ? (
            <p className="muted">Nothing is trusted beyond the built-in allowlist.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Module.name</th>
                  <th scope="col">Trusted by</th>
                  <th scope="col">Why</th>
                  <th scope="col">Stop trusting</th>
                </tr>
              </thead>
              <tbody>
                {trusted.map((t) => (
                  <tr key={t.path}>
                    <td className="mono">{t.path}</td>
                    <td className="muted">
                      {t.addedBy}, {t.addedAt.slice(0, 16).replace("T", " ")} UTC
                    </td>
                    <td>{t.reason}</td>
                    <td>
                      <TrustRemoveForm action={trustRemoveAction} path={t.path} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="muted">Removing a name makes every model that imports it unsafe again at once. Every change is in the audit log.</p>
        </section>
        <section className="card" aria-labelledby="trust-add-title">
          <h2 id="trust-add-title">Trust a class</h2>
          <TrustAddForm action={trustAddAction} />
        </section>
      </div>
    </>
  );
}
