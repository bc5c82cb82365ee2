import { newAccount } from "../../harness/accounts.js";
import { errorCodes, mutations } from "../../harness/graphql.js";
import { grantAdmin } from "../../src/admin/bootstrap.js";
import type { TestServer } from "./server.js";

export interface SignedUp {
  account: ReturnType<typeof newAccount>;
  id: string;
  accessToken: string;
  refreshToken: string;
}

/** Registers a new account over HTTP. */
export async function signUp(
  server: TestServer,
  prefix = "user",
  headers: Record<string, string> = {},
): Promise<SignedUp> {
  const account = newAccount(prefix);
  const response = await server.request(mutations.register, { input: account }, { headers });
  if (response.errors) throw new Error(`register failed: ${errorCodes(response)}`);
  const { accessToken, refreshToken, user } = response.data!.register;
  return { account, id: user.id, accessToken, refreshToken };
}

/** Logs in over HTTP; the payload, or the error codes. */
export async function logIn(
  server: TestServer,
  account: { username: string; password: string },
  headers: Record<string, string> = {},
) {
  return server.request(
    mutations.login,
    { input: { usernameOrEmail: account.username, password: account.password } },
    { headers },
  );
}

/** A new account made admin the way an operator would (the command line's code), logged in again for a token that says so. */
export async function signUpAdmin(server: TestServer, prefix = "admin"): Promise<SignedUp> {
  const admin = await signUp(server, prefix);
  await grantAdmin(server.database, server.app.services.audit, admin.account.email, "test");
  const login = await logIn(server, admin.account);
  return { ...admin, accessToken: login.data!.login.accessToken, refreshToken: login.data!.login.refreshToken };
}

export const admin = {
  users: `query Users($first: Int, $after: String, $query: String) {
    users(first: $first, after: $after, query: $query) {
      edges { cursor node { id username email roles lockedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  lockUser: `mutation Lock($id: ID!, $reason: String) { lockUser(id: $id, reason: $reason) { id lockedAt } }`,
  unlockUser: `mutation Unlock($id: ID!) { unlockUser(id: $id) { id lockedAt } }`,
  setUserRoles: `mutation Roles($id: ID!, $roles: [String!]!) { setUserRoles(id: $id, roles: $roles) { id roles } }`,
  revokeUserSessions: `mutation Revoke($id: ID!) { revokeUserSessions(id: $id) }`,
  userSecurityEvents: `query Events($userId: ID!, $first: Int, $after: String) {
    userSecurityEvents(userId: $userId, first: $first, after: $after) {
      edges { cursor node { id kind at actorId ip userAgent } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  securityEvents: `query Events($first: Int, $after: String) {
    securityEvents(first: $first, after: $after) {
      edges { cursor node { id kind at actorId ip userAgent } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  userRoles: `query Roles($id: ID!) { user(id: $id) { id roles email } }`,
};
