import type { IncomingMessage } from "node:http";
import type DataLoader from "dataloader";
import { isAdmin } from "../admin/roles.js";
import { ForbiddenError, UnauthenticatedError } from "../errors/errors.js";
import type { TrustedProxies } from "../http/client-address.js";
import { requestRecordOf, type RequestRecord } from "../observability/request-log.js";
import { ErrorBudget } from "./error-cap.js";
import { createUserLoader } from "../users/user.loader.js";
import type { Services } from "../services.js";
import type { ClientInfo, Viewer } from "../sessions/session-lifecycle.js";
import { SessionTransport } from "../sessions/session-cookie.js";
import type { UserRecord } from "../users/users.service.js";

export interface Context {
  services: Services;
  client: ClientInfo;
  loaders: { userById: DataLoader<string, UserRecord | null> };
  /** Where this request's refresh tokens travel (the body, or the HttpOnly cookie), and the cookie its answer sets. */
  transport: SessionTransport;
  /** Users this request has just issued tokens to (register, login…): they see their own e-mail. */
  tokensIssuedTo: Set<string>;
  /** The authenticated viewer, or null without a (valid) token. Checked once per request. */
  viewer(): Promise<Viewer | null>;
  /** The viewer, or UNAUTHENTICATED with the reason the token was refused. */
  requireViewer(): Promise<Viewer>;
  /** A viewer whose token carries the `admin` role, else FORBIDDEN (UNAUTHENTICATED without a token). */
  requireAdmin(): Promise<Viewer>;
  /** Work to start once the answer is written, so that it cannot change how long the answer took. */
  afterResponse(task: () => void): void;
  /** Starts the work `afterResponse` queued; the HTTP handler calls it once the answer is written. */
  responded(): void;
  /** This request's log line: its operation and outcome. */
  requestLog: RequestRecord;
  /** How many more per-entry errors (a forbidden field of each entity…) are worth making. */
  errorBudget: ErrorBudget;
}

function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined || header === "") return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/**
 * Who is asking: the client address (behind trusted proxies, the first untrusted hop) and the
 * user agent, which a router propagating the client's `user-agent` header passes on as is.
 */
export function clientInfo(request: IncomingMessage, proxies: TrustedProxies): ClientInfo {
  const userAgent = request.headers["user-agent"];
  return { userAgent: userAgent || undefined, ip: proxies.clientAddress(request.socket.remoteAddress, request.headers) };
}

export function createContext(services: Services, request: IncomingMessage, proxies: TrustedProxies, refreshTokenTtlSeconds: number): Context {
  const token = bearerToken(request.headers.authorization);
  let authentication: Promise<Viewer> | undefined;
  const authenticate = () => {
    authentication ??= token ? services.sessions.authenticate(token) : Promise.reject(new UnauthenticatedError());
    return authentication;
  };
  const afterResponse: (() => void)[] = [];
  return {
    services,
    client: clientInfo(request, proxies),
    loaders: { userById: createUserLoader(services.users) },
    transport: new SessionTransport(request.headers, refreshTokenTtlSeconds),
    tokensIssuedTo: new Set(),
    requestLog: requestRecordOf(request),
    errorBudget: new ErrorBudget(),
    requireViewer: authenticate,
    viewer: async () => {
      if (token === undefined) return null;
      try {
        return await authenticate();
      } catch (error) {
        if (error instanceof UnauthenticatedError) return null;
        throw error;
      }
    },
    requireAdmin: async () => {
      const admin = await authenticate();
      if (!isAdmin(admin.roles)) throw new ForbiddenError("Only admins can do this.");
      return admin;
    },
    afterResponse: (task) => afterResponse.push(task),
    responded: () => {
      for (const task of afterResponse.splice(0)) task();
    },
  };
}
