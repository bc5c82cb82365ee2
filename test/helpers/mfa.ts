import { generate } from "otplib";
import { expect } from "vitest";
import { errorCodes, mutations, type GraphQLResponse } from "../../harness/graphql.js";
import type { Clock } from "../../src/clock.js";
import type { ManualClock } from "./clock.js";
import { newAccount, type TestServer } from "./server.js";

export const mfaDocuments = {
  enroll: `mutation Enroll($currentPassword: String!) { enrollTotp(currentPassword: $currentPassword) { secret otpauthUrl qrCodeDataUrl } }`,
  confirm: `mutation Confirm($code: String!) { confirmTotp(code: $code) }`,
  regenerate: `mutation Regenerate($code: String!) { regenerateRecoveryCodes(code: $code) }`,
  disable: `mutation Disable($currentPassword: String!, $code: String!) { disableTotp(currentPassword: $currentPassword, code: $code) }`,
  complete: `mutation Complete($mfaToken: String!, $code: String!) {
    completeLogin(mfaToken: $mfaToken, code: $code) { accessToken refreshToken user { id email totpEnabled } }
  }`,
  totpEnabled: `query { me { id totpEnabled } }`,
};

/** What an authenticator app shows for `secret`, `steps` time steps (30 s) from the clock's now. */
export function authenticatorCode(secret: string, clock: Clock, steps = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) + steps * 30 });
}

export interface MfaAccount {
  account: ReturnType<typeof newAccount>;
  userId: string;
  accessToken: string;
  refreshToken: string;
  secret: string;
  recoveryCodes: string[];
}

/** A client of one test server: the steps a user takes, over real HTTP. */
export function mfaClient(server: () => TestServer, clock: ManualClock) {
  const request = (query: string, variables: Record<string, unknown> = {}, token?: string) =>
    server().request(query, variables, token ? { token } : {});

  const login = (account: { username: string; password: string }) =>
    request(mutations.login, { input: { usernameOrEmail: account.username, password: account.password } });

  /** The mfaToken of a login that answered MFA_REQUIRED. */
  async function mfaToken(account: { username: string; password: string }): Promise<string> {
    const response = await login(account);
    expect(errorCodes(response)).toEqual(["MFA_REQUIRED"]);
    const token = response.errors![0]!.extensions!.mfaToken;
    expect(token).toEqual(expect.any(String));
    return token as string;
  }

  const complete = (token: string, code: string) => request(mfaDocuments.complete, { mfaToken: token, code });

  async function register() {
    const account = newAccount("mfa");
    const response = await request(mutations.register, { input: account });
    expect(response.errors).toBeUndefined();
    const { accessToken, refreshToken, user } = response.data!.register;
    return {
      account,
      userId: user.id as string,
      accessToken: accessToken as string,
      refreshToken: refreshToken as string,
    };
  }

  /** A new account with MFA on; the clock is then moved past the step of the code that confirmed it. */
  async function registerWithMfa(): Promise<MfaAccount> {
    const registered = await register();
    const enrolled = await request(
      mfaDocuments.enroll,
      { currentPassword: registered.account.password },
      registered.accessToken,
    );
    expect(enrolled.errors).toBeUndefined();
    const { secret } = enrolled.data!.enrollTotp;
    const confirmed = await request(
      mfaDocuments.confirm,
      { code: await authenticatorCode(secret, clock) },
      registered.accessToken,
    );
    expect(confirmed.errors).toBeUndefined();
    nextStep();
    return { ...registered, secret, recoveryCodes: confirmed.data!.confirmTotp };
  }

  /** Moves the clock one time step on, so that a fresh code exists. */
  function nextStep(): void {
    clock.advance(30);
  }

  return { request, login, mfaToken, complete, register, registerWithMfa, nextStep };
}

export function expectCodes(response: GraphQLResponse, codes: string[]): void {
  expect(errorCodes(response)).toEqual(codes);
}
