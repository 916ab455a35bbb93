"use client";

import { useSyncExternalStore } from "react";

const never = () => () => {};

/**
 * False in the server's HTML and during hydration, true once React runs the page in the browser. Controls
 * that only work with their script are disabled until then: a click before hydration would be lost, so
 * neither a person on a slow machine nor a test can press a button that does nothing yet.
 */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    never,
    () => true,
    () => false,
  );
}
