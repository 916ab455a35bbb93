import { parseRoles, type Role } from "./roles";

/**
 * Trusted reverse-proxy sign-in (oauth2-proxy and the like), off unless REGISTRY_AUTH_PROXY=1. The proxy
 * authenticates people and passes who they are in headers; groups map to roles through
 * REGISTRY_AUTH_PROXY_ROLES ("ml-release:releaser,ml-audit:auditor,*:viewer"). Only safe when the
 * dashboard is reachable through that proxy alone, and the proxy overwrites these headers on every request.
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
  return {
    userHeader: (env.REGISTRY_AUTH_PROXY_USER_HEADER ?? "x-forwarded-user").toLowerCase(),
    groupsHeader: (env.REGISTRY_AUTH_PROXY_GROUPS_HEADER ?? "x-forwarded-groups").toLowerCase(),
    roleMap,
  };
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
