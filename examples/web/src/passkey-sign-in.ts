import { mutate } from "./api";
import { BeginPasskeyLogin, FinishPasskeyLogin, type PasskeyChallenge, type Tokens } from "./operations";
import { usePasskey } from "./webauthn";

type RequestChallenge = PasskeyChallenge<PublicKeyCredentialRequestOptionsJSON>;

/**
 * A sign-in with a passkey: any passkey of this site the user picks (in a dialog, or with `autofill`
 * from the username field's suggestions), or with `mfaToken` one of the account's, to complete a
 * login waiting for its second factor. The tokens of the new session: in cookie mode, the refresh
 * token is in the cookie, never here.
 */
export async function passkeySignIn(input: { mfaToken?: string }, autofill = false): Promise<Tokens> {
  const { beginPasskeyLogin } = await mutate<{ beginPasskeyLogin: RequestChallenge }>(BeginPasskeyLogin, input);
  const response = await usePasskey(beginPasskeyLogin.options, autofill);
  const { challengeId } = beginPasskeyLogin;
  return (await mutate<{ finishPasskeyLogin: Tokens }>(FinishPasskeyLogin, { challengeId, response }))
    .finishPasskeyLogin;
}
