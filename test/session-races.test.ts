import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { errorCodes, mutations, sessionMutations, type GraphQLResponse } from "../harness/graphql.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

/** The session id (`sid`) an access token names. */
function sessionIdOf(accessToken: string): string {
  return JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString()).sid;
}

/** Runs `trial` for 0…count−1, at most `parallel` at a time. */
async function trials<T>(count: number, parallel: number, trial: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await trial(index);
      }
    }),
  );
  return results;
}

const jitter = (maxMs: number) => sleep(Math.floor(Math.random() * maxMs));

describe("changePassword racing logins with the old password", () => {
  const server = useTestServer({ store: "redis" });
  const trialCount = 5;
  const loginsPerTrial = 50;

  it(`leaves none of their sessions usable (${trialCount} trials × ${loginsPerTrial} logins)`, async () => {
    let succeeded = 0;
    let usable = 0;
    for (let trial = 0; trial < trialCount; trial++) {
      const account = newAccount("race");
      const owner = (await server().request(mutations.register, { input: account })).data!.register;
      const login = async () => {
        await jitter(40);
        const response = await server().request(mutations.login, {
          input: { usernameOrEmail: account.username, password: account.password },
        });
        if (response.errors) expect(errorCodes(response)).toEqual(["INVALID_CREDENTIALS"]);
        return response.data?.login as { accessToken: string; refreshToken: string } | undefined;
      };
      const change = async () => {
        await jitter(20);
        const response = await server().request(
          sessionMutations.changePassword,
          { currentPassword: account.password, newPassword: `${account.password} renewed` },
          { token: owner.accessToken },
        );
        expect(response.errors).toBeUndefined();
      };
      const [, ...logins] = await Promise.all([change(), ...Array.from({ length: loginsPerTrial }, login)]);
      for (const session of logins.filter((entry) => entry !== undefined)) {
        succeeded++;
        const me = await server().request(mutations.me, {}, { token: session.accessToken });
        const refreshed = await server().request(sessionMutations.refresh, { refreshToken: session.refreshToken });
        if (!me.errors || !refreshed.errors) usable++;
        expect(errorCodes(me)).toEqual(["UNAUTHENTICATED"]);
        expect(refreshed.data).toBeNull();
      }
    }
    console.info(
      `changePassword vs logins: ${trialCount} trials × ${loginsPerTrial}, ${succeeded} logins succeeded, ${usable} usable afterwards`,
    );
    expect(usable).toBe(0);
    // Some logins won the race: the race was real.
    expect(succeeded).toBeGreaterThan(0);
  }, 120_000);
});

describe("refreshSession racing an operation that ends its session", () => {
  // Short-lived access tokens, and sessions last used a while before the race: a revocation kept
  // for the session's last use instead of its newest token would lapse before that token expires.
  const accessTokenTtlSeconds = 10;
  const ageSeconds = 5;
  const trialCount = 40;
  const server = useTestServer({ store: "redis", config: { ACCESS_TOKEN_TTL: `${accessTokenTtlSeconds}s` } });

  type Tokens = { accessToken: string; refreshToken: string; user: { id: string } };
  const endings: Record<string, (ended: Tokens, other: Tokens, password: string) => Promise<GraphQLResponse>> = {
    logout: (ended) => server().request(sessionMutations.logout, {}, { token: ended.accessToken }),
    logoutAll: (_ended, other) => server().request(sessionMutations.logoutAll, {}, { token: other.accessToken }),
    revokeSession: (ended, other) =>
      server().request(
        sessionMutations.revokeSession,
        { id: sessionIdOf(ended.accessToken) },
        { token: other.accessToken },
      ),
    changePassword: (_ended, other, password) =>
      server().request(
        sessionMutations.changePassword,
        { currentPassword: password, newPassword: `${password} renewed` },
        { token: other.accessToken },
      ),
  };

  it.each(Object.keys(endings))(
    `issues no token that works after %s returned, at any later time (${trialCount} trials, two refreshes each)`,
    async (ending) => {
      // The races run a few at a time (the server's pool has 5 connections); the late checks, which
      // only wait, all at once.
      const lateChecks: Promise<number>[] = [];
      const outcomes = await trials(trialCount, 8, async () => {
        const account = newAccount("ending");
        const ended = (await server().request(mutations.register, { input: account })).data!.register as Tokens;
        const other = (
          await server().request(mutations.login, {
            input: { usernameOrEmail: account.username, password: account.password },
          })
        ).data!.login as Tokens;
        await server().database.$executeRaw`UPDATE sessions
          SET created_at = created_at - make_interval(secs => ${ageSeconds}), last_used_at = last_used_at - make_interval(secs => ${ageSeconds})
          WHERE id = ${sessionIdOf(ended.accessToken)}`;

        // Two refreshes of the same token, as two tabs would (the second may get the reuse
        // interval's answer), racing the ending.
        const refresh = () =>
          jitter(30).then(() => server().request(sessionMutations.refresh, { refreshToken: ended.refreshToken }));
        const [endingResponse, ...refreshes] = await Promise.all([
          jitter(15).then(() => endings[ending]!(ended, other, account.password)),
          refresh(),
          refresh(),
        ]);
        expect(endingResponse.errors).toBeUndefined();
        const issued = refreshes.map(
          (response) => response.data?.refreshSession as (Tokens & { accessTokenExpiresAt: string }) | undefined,
        );
        let count = 0;
        for (const pair of issued.filter((pair) => pair !== undefined)) {
          const accepted = async () => {
            const me = await server().request(mutations.me, {}, { token: pair.accessToken });
            return me.errors ? 0 : 1;
          };
          count += await accepted();
          const refreshAgain = await server().request(sessionMutations.refresh, { refreshToken: pair.refreshToken });
          if (!refreshAgain.errors) count++;
          // Shortly before the issued access token expires: its revocation must still be remembered.
          lateChecks.push(
            sleep(Math.max(0, Date.parse(pair.accessTokenExpiresAt) - Date.now() - 2_000)).then(accepted),
          );
        }
        return { issued: issued.filter((pair) => pair !== undefined).length, accepted: count };
      });
      const late = await Promise.all(lateChecks);
      const issued = outcomes.reduce((sum, outcome) => sum + outcome.issued, 0);
      console.info(
        `2 refreshes vs ${ending}: ${trialCount} trials, ${issued} token pairs issued, ${lateChecks.length} checked again before expiry`,
      );
      expect(outcomes.reduce((sum, outcome) => sum + outcome.accepted, 0)).toBe(0);
      expect(late.reduce((sum, accepted) => sum + accepted, 0)).toBe(0);
    },
    120_000,
  );
});
