import { type NextRequest, NextResponse } from "next/server";
import {
  ACTION_BODY_LIMIT,
  checkActionRequest,
  foreignOrigin,
  isActionRequest,
  isSafeMethod,
  MalformedRequest,
} from "@/lib/server/action-request";
import { literalPercents } from "@/lib/views/links";

// Runs before every route but static files (Next 16's name for middleware). It decides nothing about who
// may do what: every action and route checks that itself. It adds the security headers, with a fresh
// script nonce for each page, and stops two kinds of request before Next's action handler, which would
// answer them with a 500: unsafe requests from another origin (403, audited: lib/server/cross-origin-audit.ts)
// and server-action requests our pages could not have sent (400, or 413 when too large).
// The HTTP API (/api/v1) needs nothing more here: it reads bearer tokens only, never cookies, so a request
// carries no credential its sender did not put there. Pipelines and scripts send no Origin and pass; a web
// page on another site is still refused (the API offers no CORS), and the pages keep every protection.

/** The headers every answer carries; next.config.mjs sets the same on the static files this proxy skips. */
const STATIC_SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
};

/**
 * Scripts only from our own pages' nonce (and the chunks those load: 'strict-dynamic'), nothing framing us,
 * forms posting only to us. React's development build needs eval; the production build does not.
 */
function contentSecurityPolicy(nonce: string, dev = process.env.NODE_ENV === "development"): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export async function proxy(request: NextRequest): Promise<NextResponse> {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const csp = contentSecurityPolicy(nonce);
  const get = (name: string) => request.headers.get(name);

  if (!isSafeMethod(request.method)) {
    const origin = foreignOrigin(get);
    if (origin !== null) return harden(await refuseCrossOrigin(request, origin), csp);
    if (isActionRequest(request.method, get)) {
      try {
        await checkActionRequest(get, await bodyOf(request));
      } catch (e) {
        if (!(e instanceof MalformedRequest)) throw e;
        return harden(new NextResponse(e.message, { status: e.status, headers: { "content-type": "text/plain; charset=utf-8" } }), csp);
      }
    }
  }

  // Next reads the nonce from the request's policy and puts it on every script it renders.
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", csp);
  // A version URL with malformed percent-encoding (/versions/%ff) made Next's router fail to decode the
  // [stem] parameter and answer 500 before any of our code ran: such a segment is rewritten to its literal
  // text, which the page refuses as a name (404).
  const literal = request.nextUrl.pathname.startsWith("/versions/") ? literalPercents(request.nextUrl.pathname) : null;
  if (literal !== null) {
    const url = request.nextUrl.clone();
    url.pathname = literal;
    return harden(NextResponse.rewrite(url, { request: { headers } }), csp);
  }
  return harden(NextResponse.next({ request: { headers } }), csp);
}

/** 403, after recording the refusal (its code loads on the first one: most servers never need it). */
async function refuseCrossOrigin(request: NextRequest, origin: string): Promise<NextResponse> {
  try {
    const { auditCrossOrigin } = await import("@/lib/server/cross-origin-audit");
    await auditCrossOrigin(
      {
        method: request.method,
        path: request.nextUrl.pathname,
        header: (name) => request.headers.get(name),
        cookie: (name) => request.cookies.get(name)?.value,
      },
      origin,
    );
  } catch (e) {
    // The refusal stands even when it cannot be recorded; the server's log says why.
    console.error("could not audit a refused cross-origin request", e);
  }
  return NextResponse.json({ ok: false, error: "Requests from another site are refused." }, { status: 403 });
}

/** The body, refused unread when its declared length is over the limit. */
async function bodyOf(request: NextRequest): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > ACTION_BODY_LIMIT) throw new MalformedRequest("The request body is larger than a server action accepts.", 413);
  return new Uint8Array(await request.arrayBuffer());
}

function harden(response: NextResponse, csp: string): NextResponse {
  response.headers.set("Content-Security-Policy", csp);
  for (const [name, value] of Object.entries(STATIC_SECURITY_HEADERS)) response.headers.set(name, value);
  return response;
}

export const config = {
  // Static files are immutable and never HTML: next.config.mjs gives them the headers that matter.
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
