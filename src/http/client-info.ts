import type { IncomingMessage } from "node:http";
import type { TrustedProxies } from "./client-address.js";

/** Who is asking, as far as a request tells. */
export interface ClientInfo {
  userAgent?: string;
  ip?: string;
}

const userAgentMaxLength = 512;

/**
 * Who is asking: the client address (behind trusted proxies, the first untrusted hop) and the
 * user agent, which a router propagating the client's `user-agent` header passes on as is.
 */
export function clientInfo(request: IncomingMessage, proxies: TrustedProxies): ClientInfo {
  const userAgent = request.headers["user-agent"];
  return {
    userAgent: userAgent || undefined,
    ip: proxies.clientAddress(request.socket.remoteAddress, request.headers),
  };
}

/** The user agent as stored beside a session or an event: its first 512 characters, null when there is none. */
export function truncateUserAgent(userAgent: string | undefined): string | null {
  return userAgent?.slice(0, userAgentMaxLength) ?? null;
}
