import { loadSnapshot } from "@/lib/server/registry";

export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  const snapshot = await loadSnapshot();
  return (
    <>
      <h1>Versions</h1>
      <p>
        Production: <strong>{snapshot.production.stem ?? "none"}</strong> ({snapshot.production.state}). Best:{" "}
        <strong>{snapshot.best ?? "none"}</strong>
      </p>
      <table>
        <thead>
          <tr>
            <th>Version</th>
            <th>Model type</th>
            <th>Trained at</th>
            <th className="num">Score</th>
            <th>Metric</th>
          </tr>
        </thead>
        <tbody>
          {snapshot.versions.map((v) => (
            <tr key={v.stem}>
              <td>{v.stem}</td>
              <td>{v.modelType}</td>
              <td>{v.timestamp}</td>
              <td className="num">{v.metric === "unknown" ? "—" : v.score.toFixed(4)}</td>
              <td>{v.metric}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
