import { newAccount } from "../../harness/accounts.js";
import { mutations } from "../../harness/graphql.js";
import { bestOfAlternatingRounds, round, type Bench } from "../bench.js";
import { graphqlCall } from "../load.js";
import type { Figure } from "../report.js";

/** As many logins at once as the storm, registrations at the seeding's pace. */
const loginConnections = 8;
const registerConnections = 4;

/** The write paths against better-auth's: login against sign-in, register against sign-up. */
export async function peerWriteFigures(bench: Bench): Promise<Figure[]> {
  const { plan, peerRequest } = bench;
  const signIns = bench.peerUsers.map(peerRequest.signIn);
  const [loginRps = 0, signInRps = 0] = await bestOfAlternatingRounds(
    plan.throughputRounds,
    () =>
      bench.driveSubgraph({ calls: bench.calls.login, connections: loginConnections, durationSeconds: plan.writes }),
    () => bench.drivePeer({ calls: signIns, connections: loginConnections, durationSeconds: plan.writes }),
  );
  const register = () => graphqlCall({ query: mutations.register, variables: { input: newAccount("bench") } });
  const [registerRps = 0, signUpRps = 0] = await bestOfAlternatingRounds(
    plan.throughputRounds,
    () => bench.driveSubgraph({ calls: register, connections: registerConnections, durationSeconds: plan.writes }),
    () =>
      bench.drivePeer({ calls: peerRequest.signUp, connections: registerConnections, durationSeconds: plan.writes }),
  );
  const rate = (value: number) => `${Math.round(value)}`;
  return [
    {
      id: "loginVsPeer",
      label: "login req/s ÷ better-auth sign-in req/s",
      value: round(loginRps / signInRps),
      goal: { comparison: "≥", target: 1 },
      basis: `${rate(loginRps)} / ${rate(signInRps)} req/s, ${loginConnections} connections`,
    },
    {
      id: "registerVsPeer",
      label: "register req/s ÷ better-auth sign-up req/s",
      value: round(registerRps / signUpRps),
      goal: { comparison: "≥", target: 1 },
      basis: `${rate(registerRps)} / ${rate(signUpRps)} req/s, ${registerConnections} connections`,
    },
  ];
}
