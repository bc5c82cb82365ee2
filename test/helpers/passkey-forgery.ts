import { expect } from "vitest";
import type { Database } from "../../src/db/prisma.js";
import { ManualClock } from "./clock.js";
import { passkeySettings } from "./passkeys.js";
import { useTestServer } from "./test-server.js";
import { errorCodes, type GraphQLResponse } from "../../harness/graphql.js";

/** An authenticator's answer with its client data (base64url JSON) rewritten by `change`. */
export function withClientData<Answer extends { response: { clientDataJSON: string } }>(
  response: Answer,
  change: (clientData: Record<string, unknown>) => void,
): Answer {
  const decoded = Buffer.from(response.response.clientDataJSON, "base64url").toString();
  const clientData = JSON.parse(decoded) as Record<string, unknown>;
  change(clientData);
  return {
    ...response,
    response: { ...response.response, clientDataJSON: Buffer.from(JSON.stringify(clientData)).toString("base64url") },
  };
}

/** A base64url value with one bit flipped at `index`. */
export function flipped(value: string, index: number): string {
  const bytes = Buffer.from(value, "base64url");
  bytes[index % bytes.length]! ^= 0x01;
  return bytes.toString("base64url");
}

/** What an account holds, read from the database: its passkeys (with counters), sessions, refresh tokens and passkey events. */
export async function holdings(database: Database, userId: string) {
  const [passkeys, sessions, refreshTokens, added] = await Promise.all([
    database.passkey.findMany({
      where: { userId },
      select: { id: true, credentialId: true, signCount: true },
      orderBy: { id: "asc" },
    }),
    database.session.count({ where: { userId } }),
    database.refreshToken.count({ where: { session: { userId } } }),
    database.securityEvent.count({ where: { userId, kind: "passkey_added" } }),
  ]);
  return { passkeys, sessions, refreshTokens, added };
}

/** Refused with `code` alone, and no data. */
export function expectRefused(response: GraphQLResponse, code: string): void {
  expect(errorCodes(response)).toEqual([code]);
  expect(response.data ?? null).toBeNull();
}

/**
 * A server for forgery tests, with a clock they move past challenges' lifetime; sessions and their
 * recent sign-in outlast the file. `holdings` reads what an account holds from the database itself.
 */
export function useForgeryServer() {
  const clock = new ManualClock();
  const server = useTestServer({
    clock,
    config: { ...passkeySettings, ACCESS_TOKEN_TTL: "1d", REAUTHENTICATION_WINDOW: "1d" },
  });
  return { clock, server, holdings: (userId: string) => holdings(server().database, userId) };
}
