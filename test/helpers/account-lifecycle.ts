/** The account-lifecycle operations, as an app sends them. */
export const lifecycleMutations = {
  requestEmailVerification: `mutation { requestEmailVerification }`,
  verifyEmail: `mutation($token: String!) { verifyEmail(token: $token) }`,
  requestPasswordReset: `mutation($email: String!) { requestPasswordReset(email: $email) }`,
  resetPassword: `mutation($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }`,
  changeUsername: `mutation($newUsername: String!) { changeUsername(newUsername: $newUsername) { id username email emailVerified } }`,
  changeEmail: `mutation($newEmail: String!, $currentPassword: String!) { changeEmail(newEmail: $newEmail, currentPassword: $currentPassword) }`,
  deleteAccount: `mutation($currentPassword: String!) { deleteAccount(currentPassword: $currentPassword) }`,
  meVerified: `query { me { id email emailVerified } }`,
};
