import { describe, expect, it } from "vitest";
import { ManualClock } from "./helpers/clock.js";
import { errorCodes, mutations, sessionMutations, type GraphQLResponse } from "../harness/graphql.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

interface Pair {
  accessToken: string;
  refreshToken: string;
}

const trialCount = 25;

describe("the refresh reuse interval", () => {
  const clock = new ManualClock();
  const server = useTestServer({ store: "redis", clock, config: { REFRESH_REUSE_INTERVAL: "10s" } });

  const browser = { headers: { "user-agent": "browser/1" } };
  const refresh = (refreshToken: string, options = browser) =>
    server().request(sessionMutations.refresh, { refreshToken }, options);
  const works = async (pair: Pair) => !(await server().request(mutations.me, {}, { token: pair.accessToken })).errors;
  const pairOf = (response: GraphQLResponse) => response.data!.refreshSession as Pair;

  async function signUp(): Promise<Pair> {
    return (await server().request(mutations.register, { input: newAccount("tabs") }, browser)).data!.register;
  }

  it(`answers two concurrent refreshes of one token by one client with working tokens for both (${trialCount} trials)`, async () => {
    for (let trial = 0; trial < trialCount; trial++) {
      const session = await signUp();
      const [first, second] = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);
      expect(first!.errors).toBeUndefined();
      expect(second!.errors).toBeUndefined();
      // One rotation: the same successor for both tabs, each with an access token that works.
      expect(pairOf(second!).refreshToken).toBe(pairOf(first!).refreshToken);
      expect(await works(pairOf(first!))).toBe(true);
      expect(await works(pairOf(second!))).toBe(true);
      // Either tab rotates the successor next, as usual.
      const next = await refresh(pairOf(second!).refreshToken);
      expect(next.errors).toBeUndefined();
      expect(await works(pairOf(next))).toBe(true);
    }
  });

  it(`ends the session on a replay after the interval: REFRESH_TOKEN_REUSED, and every token of it dies (${trialCount} trials)`, async () => {
    for (let trial = 0; trial < trialCount; trial++) {
      const session = await signUp();
      const rotated = pairOf(await refresh(session.refreshToken));
      clock.advance(11);
      expect(errorCodes(await refresh(session.refreshToken))).toEqual(["REFRESH_TOKEN_REUSED"]);
      expect(errorCodes(await refresh(rotated.refreshToken))).toEqual(["INVALID_REFRESH_TOKEN"]);
      expect(await works(rotated)).toBe(false);
      expect(await works(session)).toBe(false);
    }
  });

  it("treats a copy presented within the interval as stolen when another client presents it, or the successor was used", async () => {
    const stolen = await signUp();
    const rotated = pairOf(await refresh(stolen.refreshToken));
    expect(errorCodes(await refresh(stolen.refreshToken, { headers: { "user-agent": "thief/1" } }))).toEqual([
      "REFRESH_TOKEN_REUSED",
    ]);
    expect(await works(rotated)).toBe(false);

    const moved = await signUp();
    const successor = pairOf(await refresh(moved.refreshToken));
    const afterwards = pairOf(await refresh(successor.refreshToken));
    expect(errorCodes(await refresh(moved.refreshToken))).toEqual(["REFRESH_TOKEN_REUSED"]);
    expect(await works(afterwards)).toBe(false);
  });

  it("never revives an ended session", async () => {
    const session = await signUp();
    const rotated = pairOf(await refresh(session.refreshToken));
    expect((await server().request(sessionMutations.logout, {}, { token: rotated.accessToken })).data).toEqual({
      logout: true,
    });
    const retry = await refresh(session.refreshToken);
    expect(retry.data).toBeNull();
    expect(errorCodes(await refresh(rotated.refreshToken))).toEqual(["INVALID_REFRESH_TOKEN"]);
    expect(await works(rotated)).toBe(false);
  });
});
