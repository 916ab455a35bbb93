import type { Metadata } from "next";
import { LoadCheckSettingForm } from "@/components/load-check-setting-form";
import { TrustAddForm, TrustRemoveForm } from "@/components/trust-list-forms";
import { limitsFromEnv } from "@/lib/load-check";
import { GENERATED_PROVENANCE } from "@/lib/inspect/allowlist-generated";
import { db, requirePage } from "@/lib/server/session";
import { listTrusted } from "@/lib/trust/trust-list";
import { readSettings, SETTINGS } from "@/lib/settings/settings";
import { loadCheckSettingAction, trustAddAction, trustRemoveAction } from "./actions";

export const metadata: Metadata = { title: "Registry settings" };
export const dynamic = "force-dynamic";

/** The registry's trust list (in-house classes an admin allows in model files) and the load-and-predict check. */
export default async function SettingsPage() {
  await requirePage("users.manage", "/admin/settings");
  const [trusted, settings] = await Promise.all([listTrusted(db()), readSettings(db())]);
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
        <LoadCheckCard setting={settings.loadCheck} />
      </div>
    </>
  );
}

/** Whether a candidate is loaded and asked to predict in a sandbox before it may go live, and where that is decided. */
function LoadCheckCard({ setting }: { setting: Awaited<ReturnType<typeof readSettings>>["loadCheck"] }) {
  const limits = limitsFromEnv();
  const from =
    setting.source === "env"
      ? `pinned by ${SETTINGS.loadCheck.env}`
      : setting.source === "database"
        ? `set by ${setting.updatedBy ?? "an admin"}, ${setting.updatedAt?.slice(0, 16).replace("T", " ")} UTC`
        : "the default";
  return (
    <section className="card" aria-labelledby="load-check-title">
      <h2 id="load-check-title">Load-and-predict check</h2>
      <p className="muted">
        Before a promotion, the candidate (only a file the inspector judged safe) is loaded with the serving Python (
        <code>REGISTRY_LOAD_PYTHON</code>, now <code>{process.env.REGISTRY_LOAD_PYTHON || "python3"}</code>) in a sandbox with no network,
        and asked to predict, within {limits.wallMs / 1000} s wall clock, {limits.cpuSeconds} s CPU and{" "}
        {Math.round(limits.memoryBytes / 1024 ** 2)} MiB. In force:{" "}
        <strong data-testid="load-check-mode">{SETTINGS.loadCheck.show(setting.value)}</strong> ({from}).
      </p>
      {setting.problem || setting.ignored ? <p className="alert alert-warn">{setting.problem ?? setting.ignored}</p> : null}
      <LoadCheckSettingForm
        action={loadCheckSettingAction}
        value={setting.value}
        pinnedBy={setting.source === "env" ? SETTINGS.loadCheck.env : null}
      />
    </section>
  );
}
