/** The account and session an access token speaks for, once it was checked. */
export interface Viewer {
  userId: string;
  sessionId: string;
  /** From the access token: the account's roles when it was issued (removing a role ends the sessions). */
  roles: string[];
}
