import { graphql, type UntypedData } from "../harness/graphql.js";
import { TestAuthenticator } from "../harness/test-authenticator.js";

/** The origin the bench server accepts passkey answers from: `APP_URL`'s default, as it runs with none set. */
const origin = "http://localhost:3000";

const documents = {
  beginRegistration: `mutation($p: String) { beginPasskeyRegistration(currentPassword: $p) { challengeId options } }`,
  finishRegistration: `mutation($c: ID!, $r: JSONObject!) { finishPasskeyRegistration(challengeId: $c, response: $r) { id } }`,
  beginLogin: `mutation($u: String) { beginPasskeyLogin(usernameOrEmail: $u) { challengeId options } }`,
  finishLogin: `mutation($c: ID!, $r: JSONObject!) { finishPasskeyLogin(challengeId: $c, response: $r) { accessToken } }`,
};

async function call(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<UntypedData> {
  const response = await graphql(url, query, variables, token ? { token } : {});
  if (response.errors) throw new Error(`passkey bench: ${JSON.stringify(response.errors)}`);
  return response.data!;
}

/**
 * Milliseconds of `samples` passkey sign-ins of one account, one after the other: the server's two
 * round trips (`beginPasskeyLogin`, `finishPasskeyLogin`), not the authenticator's signing between
 * them, which happens on the user's device. Sorted.
 */
export async function passkeySignInMilliseconds(
  url: string,
  account: { usernameOrEmail: string; password: string; accessToken: string },
  samples: number,
): Promise<number[]> {
  const authenticator = new TestAuthenticator();
  const registration = (await call(url, documents.beginRegistration, { p: account.password }, account.accessToken))
    .beginPasskeyRegistration;
  const response = authenticator.create(registration.options, origin);
  await call(url, documents.finishRegistration, { c: registration.challengeId, r: response }, account.accessToken);
  const durations: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    const began = performance.now();
    const { challengeId, options } = (await call(url, documents.beginLogin, { u: account.usernameOrEmail }))
      .beginPasskeyLogin;
    const answered = performance.now();
    const answer = authenticator.get(options, origin);
    const finishing = performance.now();
    await call(url, documents.finishLogin, { c: challengeId, r: answer });
    durations.push(answered - began + (performance.now() - finishing));
  }
  return durations.sort((a, b) => a - b);
}
