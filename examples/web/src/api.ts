import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  type DocumentNode,
} from "@apollo/client";
import { from, mergeMap } from "rxjs";
import { RefreshSession, type Tokens } from "./operations";

const graphqlUrl: string = import.meta.env.VITE_GRAPHQL_URL ?? "http://localhost:4000/graphql";

/** The access token lives in memory only; the refresh token is in an HttpOnly cookie that script cannot read. */
let access: { token: string; expiresAt: number } | null = null;
let refreshing: Promise<boolean> | null = null;

/** An error the API answered, with its stable code (`INVALID_CREDENTIALS`, `MFA_REQUIRED`…) and a message safe to show. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

// Each request carries the access token, refreshed first when it is about to expire.
const authLink = new ApolloLink((operation, forward) =>
  from(operation.operationName === "RefreshSession" ? Promise.resolve(null) : currentAccessToken()).pipe(
    mergeMap((token) => {
      if (token) operation.setContext(({ headers }) => ({ headers: { ...headers, authorization: `Bearer ${token}` } }));
      return forward(operation);
    }),
  ),
);

const client = new ApolloClient({
  link: ApolloLink.from([
    authLink,
    // Cookie mode, and the cookie sent along (the gateway is on another origin of the same site).
    new HttpLink({ uri: graphqlUrl, credentials: "include", headers: { "x-session-transport": "cookie" } }),
  ]),
  cache: new InMemoryCache(),
  defaultOptions: { query: { fetchPolicy: "no-cache" }, mutate: { fetchPolicy: "no-cache" } },
});

function apiError(error: unknown): ApiError {
  if (CombinedGraphQLErrors.is(error)) {
    const [first] = error.errors;
    return new ApiError(
      String(first?.extensions?.code ?? "ERROR"),
      first?.message ?? "Something went wrong.",
      first?.extensions ?? {},
    );
  }
  return new ApiError("NETWORK_ERROR", "The server cannot be reached. Try again.");
}

export async function mutate<T>(mutation: DocumentNode, variables: Record<string, unknown> = {}): Promise<T> {
  try {
    return (await client.mutate({ mutation, variables })).data as T;
  } catch (error) {
    throw apiError(error);
  }
}

export async function query<T>(document: DocumentNode): Promise<T> {
  try {
    return (await client.query({ query: document })).data as T;
  } catch (error) {
    throw apiError(error);
  }
}

export function startSession(tokens: Tokens): void {
  access = { token: tokens.accessToken, expiresAt: Date.parse(tokens.accessTokenExpiresAt) };
}

export function endSession(): void {
  access = null;
}

export function isSignedIn(): boolean {
  return access !== null;
}

/** A new access token from the cookie (after a reload, or before the current one expires); false without a live session. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= mutate<{ refreshSession: Tokens }>(RefreshSession)
    .then(
      (data) => {
        startSession(data.refreshSession);
        return true;
      },
      (error: ApiError) => {
        if (error.code !== "INVALID_REFRESH_TOKEN" && error.code !== "REFRESH_TOKEN_REUSED") throw error;
        endSession();
        return false;
      },
    )
    .finally(() => (refreshing = null));
  return refreshing;
}

async function currentAccessToken(): Promise<string | null> {
  if (access && access.expiresAt - Date.now() < 60_000) await refreshSession();
  return access?.token ?? null;
}
