import type { IncomingMessage } from "node:http";
import { isAdmin } from "../auth/roles.js";
import type { Viewer } from "../auth/viewer.js";
import { ForbiddenError, UnauthenticatedError } from "../errors/errors.js";
import type { TrustedProxies } from "../http/client-address.js";
import { clientInfo, type ClientInfo } from "../http/client-info.js";
import { SessionTransport } from "../http/session-cookie.js";
import { requestRecordOf, type RequestRecord } from "../observability/request-log.js";
import { ErrorBudget } from "./error-cap.js";

/** What one GraphQL request carries to its resolvers: who asks, and the request's own loaders and log. */
export interface RequestContext<Loaders extends object = object> {
  client: ClientInfo;
  /** This request's own loaders: batching and caching never cross requests. */
  loaders: Loaders;
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

/** Where a request's context comes from: the proxies to believe, how a token is checked, how loaders are made. */
export interface ContextSources<Loaders extends object> {
  proxies: TrustedProxies;
  /** The session cookie's lifetime, that of the refresh token it holds. */
  sessionCookieMaxAgeSeconds: number;
  /** The viewer an access token names; UNAUTHENTICATED when it names none. */
  authenticate(accessToken: string): Promise<Viewer>;
  loaders(): Loaders;
}

function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined || header === "") return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

export function createContext<Loaders extends object>(
  request: IncomingMessage,
  sources: ContextSources<Loaders>,
): RequestContext<Loaders> {
  const token = bearerToken(request.headers.authorization);
  let authentication: Promise<Viewer> | undefined;
  const authenticate = () => {
    authentication ??= token ? sources.authenticate(token) : Promise.reject(new UnauthenticatedError());
    return authentication;
  };
  const afterResponse: (() => void)[] = [];
  return {
    client: clientInfo(request, sources.proxies),
    loaders: sources.loaders(),
    transport: new SessionTransport(request.headers, sources.sessionCookieMaxAgeSeconds),
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
