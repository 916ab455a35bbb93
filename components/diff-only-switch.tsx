"use client";

import { type ReactNode, useState } from "react";
import { useHydrated } from "./use-hydrated";

/**
 * A "differences only" switch around a server-rendered comparison: it only flips a data attribute that
 * CSS uses to hide identical rows, and mirrors the choice in the URL so the view can be shared.
 */
export function DiffOnlySwitch({ initial, children }: { initial: boolean; children: ReactNode }) {
  const [on, setOn] = useState(initial);
  const hydrated = useHydrated();
  const toggle = () => {
    const next = !on;
    setOn(next);
    const url = new URL(window.location.href);
    if (next) url.searchParams.set("diff", "1");
    else url.searchParams.delete("diff");
    // Native history keeps Next's router in sync without a server round trip.
    window.history.replaceState(null, "", url);
  };
  return (
    <div className="diff-scope" data-diff-only={on ? "true" : "false"}>
      <div className="switch-row">
        <button type="button" role="switch" aria-checked={on} onClick={toggle} className="switch" id="diff-only" disabled={!hydrated}>
          <span className="switch-track" aria-hidden="true">
            <span className="switch-thumb" />
          </span>
          Differences only
        </button>
      </div>
      {children}
    </div>
  );
}
