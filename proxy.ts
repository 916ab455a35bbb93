import { type NextRequest, NextResponse } from "next/server";
import { literalPercents } from "@/lib/views/links";

/**
 * Runs before the router matches a request. A version URL with malformed percent-encoding (/versions/%ff)
 * made Next's router fail to decode the [stem] parameter and answer 500 before any of our code ran:
 * such a segment is rewritten to its literal text, which the page refuses as a name (404). Everything
 * else passes through untouched. Authorisation is not done here: every page and route checks it itself.
 */
export function proxy(request: NextRequest): NextResponse {
  const literal = literalPercents(request.nextUrl.pathname);
  if (literal === null) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = literal;
  return NextResponse.rewrite(url);
}

export const config = { matcher: "/versions/:path*" };
