import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import { errorCodes, mutations, sessionMutations, type GraphQLResponse } from "../../harness/graphql.js";
import { newAccount, type TestServer } from "./server.js";

/** A signed-in session of the load: its token, and when its logout was first sent and answered true. */
interface LoadSession {
  accessToken: string;
  logoutSentAt?: number;
  loggedOutAt?: number;
}

interface Answer {
  operation: "me" | "logout";
  session: LoadSession;
  sentAt: number;
  /** The first error code, or "OK". */
  outcome: string;
}

export interface FailoverReport {
  answers: number;
  byOutcome: Record<string, number>;
  /** `me` answered for a session after its logout had been answered: must stay 0. */
  acceptedAfterLogout: number;
  /** Sessions logged out, of those meant to be. */
  loggedOut: number;
  toLogOut: number;
  /** Once the stream ended: logged-out tokens accepted (must be 0), live ones served. */
  finallyAccepted: number;
  finallyServed: number;
  live: number;
}

const outcomeOf = (response: GraphQLResponse) => errorCodes(response)[0] ?? "OK";

async function signIn(server: TestServer): Promise<LoadSession> {
  const response = await server.request(mutations.register, { input: newAccount("failover") });
  expect(response.errors).toBeUndefined();
  return { accessToken: response.data!.register.accessToken };
}

/** `me` for a session, asked again while the service refuses: what it finally answers. */
async function settledOutcome(server: TestServer, session: LoadSession): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const outcome = outcomeOf(await server.request(mutations.me, {}, { token: session.accessToken }));
    if (outcome !== "SERVICE_UNAVAILABLE" || attempt === 100) return outcome;
    await sleep(200);
  }
}

/**
 * A stream of `me` calls from `workers` clients at once, on `sessions` sessions of which two
 * thirds get logged out, one every `logoutEveryMs` (a logout refused is tried again later), while
 * `disturb` runs (a failover) half a second in. The stream goes on until every logout went through and a live session was served
 * again since (the service recovered by itself), at most `recoveryMs` after `disturb` returned.
 */
export async function failoverUnderLoad(
  server: () => TestServer,
  disturb: () => Promise<void>,
  { sessions: sessionCount = 90, workers = 6, logoutEveryMs = 80, recoveryMs = 60_000 } = {},
): Promise<FailoverReport> {
  const sessions = await Promise.all(Array.from({ length: sessionCount }, () => signIn(server())));
  const toLogOut = sessions.slice(0, Math.floor((sessionCount * 2) / 3));
  const live = sessions.slice(toLogOut.length);
  const pending = [...toLogOut];
  const answers: Answer[] = [];
  let disturbed = false;
  let loggingOut = 0;
  let recoveredAt: number | undefined;
  let nextLogoutAt = 0;

  const send = async (operation: Answer["operation"], session: LoadSession) => {
    const sentAt = performance.now();
    if (operation === "logout") session.logoutSentAt ??= sentAt;
    const document = operation === "me" ? mutations.me : sessionMutations.logout;
    const outcome = outcomeOf(await server().request(document, {}, { token: session.accessToken }));
    answers.push({ operation, session, sentAt, outcome });
    if (operation === "logout" && outcome === "OK") session.loggedOutAt ??= performance.now();
    if (operation === "logout" && outcome !== "OK") pending.push(session);
    const allLoggedOut = pending.length === 0 && loggingOut === 0;
    if (disturbed && operation === "me" && outcome === "OK" && live.includes(session) && allLoggedOut) {
      recoveredAt ??= performance.now();
    }
  };

  const worker = async (index: number) => {
    for (let step = index; recoveredAt === undefined || performance.now() - recoveredAt < 1_000; step++) {
      // Logouts are spread over the whole stream, the failover included.
      const next = performance.now() >= nextLogoutAt ? pending.shift() : undefined;
      if (next) {
        nextLogoutAt = performance.now() + logoutEveryMs;
        loggingOut++;
        await send("logout", next).finally(() => loggingOut--);
      } else await send("me", sessions[(step * 7 + index) % sessions.length]!);
      // Paces the stream while the service refuses, so that the answers stay countable.
      if (answers.at(-1)!.outcome !== "OK") await sleep(20);
    }
  };

  const running = Promise.all(Array.from({ length: workers }, (_, index) => worker(index)));
  await sleep(500);
  await disturb();
  disturbed = true;
  const deadline = sleep(recoveryMs).then(() => "timed out" as const);
  expect(await Promise.race([running.then(() => "recovered" as const), deadline])).toBe("recovered");
  const finalLoggedOut = await Promise.all(toLogOut.map((session) => settledOutcome(server(), session)));
  const finalLive = await Promise.all(live.map((session) => settledOutcome(server(), session)));
  return {
    ...tally(answers),
    loggedOut: toLogOut.filter((session) => session.loggedOutAt !== undefined).length,
    toLogOut: toLogOut.length,
    finallyAccepted: finalLoggedOut.filter((outcome) => outcome === "OK").length,
    finallyServed: finalLive.filter((outcome) => outcome === "OK").length,
    live: live.length,
  };
}

/** Checks every answer of the stream: only successes, refusals, and UNAUTHENTICATED after a logout. */
function tally(answers: Answer[]): Pick<FailoverReport, "answers" | "byOutcome" | "acceptedAfterLogout"> {
  const byOutcome: Record<string, number> = {};
  for (const { operation, outcome, session } of answers) {
    const name = `${operation} ${outcome}`;
    byOutcome[name] = (byOutcome[name] ?? 0) + 1;
    const afterLogout = operation === "me" && session.logoutSentAt !== undefined;
    const allowed = ["OK", "SERVICE_UNAVAILABLE", ...(afterLogout ? ["UNAUTHENTICATED"] : [])];
    expect(allowed, name).toContain(outcome);
  }
  const acceptedAfterLogout = answers.filter(
    ({ operation, outcome, session, sentAt }) =>
      operation === "me" && outcome === "OK" && session.loggedOutAt !== undefined && sentAt > session.loggedOutAt,
  ).length;
  return { answers: answers.length, byOutcome, acceptedAfterLogout };
}

/** What every failover must leave: nothing revoked accepted, every logout through, live sessions served. */
export function expectNothingLost(report: FailoverReport): void {
  expect(report.acceptedAfterLogout).toBe(0);
  expect(report.finallyAccepted).toBe(0);
  expect(report.loggedOut).toBe(report.toLogOut);
  expect(report.finallyServed).toBe(report.live);
}
