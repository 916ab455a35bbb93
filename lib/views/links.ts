// Every link to a version is built here, so a name round-trips through its URL: encoded on the way out,
// decoded by the router on the way in (and only ever looked up as a validated name, never used as a path).

/** The version page of `stem`. Pure. */
export function versionHref(stem: string): string {
  return `/versions/${encodeURIComponent(stem)}`;
}

/** The download of `stem`'s metrics file, as it is on disk. Pure. */
export function metricsHref(stem: string): string {
  return `${versionHref(stem)}/metrics.json`;
}

/** The compare page with these versions, in this order. Pure. */
export function compareHref(stems: readonly string[]): string {
  return `/compare${stems.length ? `?${stems.map((s) => `v=${encodeURIComponent(s)}`).join("&")}` : ""}`;
}

/**
 * The path with each segment that is not valid percent-encoded UTF-8 ("%ff", "%", "%E0%A4%A") made
 * literal (its "%" written "%25"), or null when every segment decodes. The router then hands the page
 * the text as it was typed, which no version is named, instead of failing to decode it (a 500). Pure.
 */
export function literalPercents(pathname: string): string | null {
  if (!pathname.includes("%")) return null;
  let changed = false;
  const segments = pathname.split("/").map((segment) => {
    try {
      decodeURIComponent(segment);
      return segment;
    } catch {
      changed = true;
      return segment.replaceAll("%", "%25");
    }
  });
  return changed ? segments.join("/") : null;
}
