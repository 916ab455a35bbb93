import { parseRoles, type Role } from "./roles";
import { identityHeaderNames } from "./vetted-request.mjs";

/**
 * Trusted reverse-proxy sign-in (oauth2-proxy and the like), off unless REGISTRY_AUTH_PROXY=1. The proxy
 * authenticates people and passes who they are in headers; groups map to roles through
 * REGISTRY_AUTH_PROXY_ROLES ("ml-release:releaser,ml-audit:auditor,*:viewer"). The headers are believed
 * only on a request our server (scripts/server.mjs, `npm start`) vetted: it removes them from every peer
 * not named in REGISTRY_TRUSTED_PROXIES and will not start in this mode without one. Under `next dev` or
 * a bare `next start` nobody is signed in this way (lib/server/session.ts). The proxy itself must
 * overwrite these headers on every request it forwards.
 */
export interface ProxyConfig {
  userHeader: string;
  groupsHeader: string;
  roleMap: [group: string, role: Role][];
}

/** The proxy configuration from the environment, or null when proxy sign-in is off. Pure over `env`. */
export function proxyConfig(env: Record<string, string | undefined> = process.env): ProxyConfig | null {
  if (env.REGISTRY_AUTH_PROXY !== "1") return null;
  const roleMap = (env.REGISTRY_AUTH_PROXY_ROLES ?? "")
    .split(",")
    .map((pair) => pair.trim().split(":"))
    .flatMap(([group, role]) => {
      const [valid] = parseRoles(role ?? "");
      return group && valid ? [[group.trim(), valid] as [string, Role]] : [];
    });
  const { user, groups } = identityHeaderNames(env);
  return { userHeader: user, groupsHeader: groups, roleMap };
}

/** The person the proxy vouches for, with the roles their groups map to; null without a usable user header. Pure. */
export function proxyIdentity(config: ProxyConfig, get: (header: string) => string | null): { username: string; roles: Role[] } | null {
  const username = get(config.userHeader)?.trim() ?? "";
  if (!/^[^\s\p{Cc}]{1,120}$/u.test(username)) return null;
  const groups = (get(config.groupsHeader) ?? "").split(/[,\s]+/).filter(Boolean);
  const roles = new Set<Role>();
  for (const [group, role] of config.roleMap) if (group === "*" || groups.includes(group)) roles.add(role);
  return { username, roles: [...roles] };
}
