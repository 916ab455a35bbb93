"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, useTransition } from "react";
import type { LoadCheckState } from "@/lib/load-check";
import { progressText } from "@/lib/load-check/progress";
import type { ActionResult } from "@/lib/server/action";
import { useHydrated } from "./use-hydrated";

type StatusAction = (prev: unknown, input: { version: string }) => Promise<ActionResult<LoadCheckState>>;
type Running = Extract<LoadCheckState, { state: "running" }>;

const POLL_MS = 1000;

/**
 * A running load check, followed by polling its status until it is answered (at most its wall-clock limit):
 * then `onDone`. The sandbox runs on the server, off every render; this only asks where it stands.
 */
export function LoadCheckProgress(props: { version: string; status: StatusAction; initial: Running; onDone: (s: LoadCheckState) => void }) {
  const { version, status, onDone } = props;
  const [running, setRunning] = useState<Running>(props.initial);
  const [problem, setProblem] = useState<string | null>(null);
  const done = useRef(onDone);
  done.current = onDone;
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      const r = await status(null, { version });
      if (stopped) return;
      if (!r.ok) setProblem(r.error);
      else if (r.data.state === "running") setRunning(r.data);
      else return done.current(r.data);
      timer = setTimeout(tick, POLL_MS);
    };
    let timer = setTimeout(tick, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [status, version]);
  return (
    <p className="load-check-progress" role="status" aria-live="polite" data-testid="load-check-running">
      {progressText(running)}
      {problem ? <span className="form-error"> ({problem})</span> : null}
    </p>
  );
}

/**
 * The version page's load check when it has no answer yet: "not checked yet" with a button for those who may
 * plan a promotion, or "running…" with its progress; when it is answered the page is refreshed to show the
 * result among the readiness checks.
 */
export function LoadCheckPanel(props: {
  version: string;
  initial: Exclude<LoadCheckState, { state: "done" }>;
  canStart: boolean;
  start: StatusAction;
  status: StatusAction;
}) {
  const router = useRouter();
  const hydrated = useHydrated();
  const [state, setState] = useState<LoadCheckState>(props.initial);
  const [error, setError] = useState<string | null>(null);
  const [starting, startTransition] = useTransition();
  const finish = (s: LoadCheckState) => {
    setState(s);
    router.refresh();
  };
  const begin = () =>
    startTransition(async () => {
      setError(null);
      const r = await props.start(null, { version: props.version });
      if (!r.ok) setError(r.error);
      else if (r.data.state === "done") finish(r.data);
      else setState(r.data);
    });
  return (
    <section className="card" aria-labelledby="load-check-title" data-testid="load-check-panel">
      <h2 id="load-check-title">Model loads and predicts</h2>
      {state.state === "running" ? (
        <LoadCheckProgress version={props.version} status={props.status} initial={state} onDone={finish} />
      ) : state.state === "done" ? (
        <p role="status" aria-live="polite">
          Answered: showing the result…
        </p>
      ) : (
        <>
          <p data-testid="load-check-unchecked">
            <span className="badge badge-muted">Not checked yet</span> This model has not been loaded and asked to predict in the sandbox
            with the serving Python. Nothing runs until someone asks: it takes a few seconds.
          </p>
          {props.canStart ? (
            <button type="button" className="btn btn-primary" onClick={begin} disabled={!hydrated || starting}>
              {starting ? "Starting…" : "Load and predict in the sandbox"}
            </button>
          ) : (
            <p className="muted">A release manager can start it; a promotion runs it in any case.</p>
          )}
        </>
      )}
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}
