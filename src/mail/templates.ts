/** What every account mail is made of; `Mailer` adds sender and recipient. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

interface Layout {
  subject: string;
  greeting: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  footer: string;
}

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => escapes[character]!);
}

/** One layout for every mail: the plain-text and HTML bodies say the same. */
function compose({ subject, greeting, paragraphs, action, footer }: Layout): MailContent {
  const blocks = [greeting, ...paragraphs, ...(action ? [`${action.label}:\n${action.url}`] : []), footer];
  const text = `${blocks.join("\n\n")}\n`;
  const button = action
    ? `<p><a href="${escapeHtml(action.url)}" style="display:inline-block;padding:10px 18px;background:#1f6feb;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(action.label)}</a></p>
<p style="font-size:12px;color:#555">Or open this address: <a href="${escapeHtml(action.url)}">${escapeHtml(action.url)}</a></p>`
    : "";
  const html = `<!doctype html>
<html><body style="font-family:sans-serif;line-height:1.5;color:#111">
<p>${escapeHtml(greeting)}</p>
${paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`).join("\n")}
${button}
<p style="font-size:12px;color:#555">${escapeHtml(footer)}</p>
</body></html>
`;
  return { subject, text, html };
}

/** "24 hours", "1 hour", "30 minutes". */
export function describeDuration(seconds: number): string {
  const [count, unit] = seconds % 3600 === 0 ? [seconds / 3600, "hour"] : [Math.ceil(seconds / 60), "minute"];
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

const notYou = "If you did not ask for this, ignore this mail: nothing changes.";

/**
 * What the owner of an account does first when a change was not theirs: change the password, or,
 * for an account that has none (made by signing in with a provider), set one through a reset link.
 * Either signs out every device.
 */
function secureTheAccount(hasPassword: boolean): string {
  return hasPassword ? "change your password" : "set a password with a password reset link";
}

export const templates = {
  verifyEmail: (input: { username: string; link: string; validForSeconds: number }) =>
    compose({
      subject: "Confirm your e-mail address",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        `Confirm that this is your e-mail address. The link works once, for ${describeDuration(input.validForSeconds)}.`,
      ],
      action: { label: "Confirm e-mail address", url: input.link },
      footer: notYou,
    }),

  confirmNewEmail: (input: { username: string; link: string; validForSeconds: number }) =>
    compose({
      subject: "Confirm your new e-mail address",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        `You asked to use this address for your account. It takes effect when you confirm; the link works once, for ${describeDuration(input.validForSeconds)}.`,
      ],
      action: { label: "Confirm new e-mail address", url: input.link },
      footer: notYou,
    }),

  emailChangeRequested: (input: { username: string; newEmail: string }) =>
    compose({
      subject: "Your e-mail address is about to change",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        `Someone signed in to your account asked to change its e-mail address to ${input.newEmail}. Nothing changes unless that address is confirmed from its own mailbox.`,
        "If this was not you, change your password now: that also signs out every device.",
      ],
      footer: "This notice goes to the address the account has now.",
    }),

  /** To the owner of an address another account asked to change to: nothing happens, and only the owner hears of it. */
  emailAlreadyInUse: (input: { username: string }) =>
    compose({
      subject: "Someone tried to use your e-mail address",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        "Someone signed in to another account asked to use this e-mail address for that account. Nothing changed: the address stays with your account, and no link was sent.",
        "If it was you, you already have an account with this address: sign in to it. If it was not, you need not do anything.",
      ],
      footer: "This notice goes to the address that was asked for.",
    }),

  resetPassword: (input: { username: string; link: string; validForSeconds: number }) =>
    compose({
      subject: "Reset your password",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        `Choose a new password with this link. It works once, for ${describeDuration(input.validForSeconds)}.`,
      ],
      action: { label: "Choose a new password", url: input.link },
      footer: `${notYou} Your password stays as it is.`,
    }),

  mfaEnabled: (input: { username: string }) =>
    compose({
      subject: "Two-factor authentication is on",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        "Two-factor authentication was just turned on for your account: signing in now also takes a code from your authenticator app, or one of your recovery codes. Every other device was signed out.",
        "If this was not you, reset your password right away.",
      ],
      footer: "This notice is sent whenever two-factor authentication is turned on or off.",
    }),

  mfaDisabled: (input: { username: string }) =>
    compose({
      subject: "Two-factor authentication is off",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        "Two-factor authentication was just turned off for your account: signing in now takes only your password. Every other device was signed out.",
        "If this was not you, reset your password right away and turn two-factor authentication back on.",
      ],
      footer: "This notice is sent whenever two-factor authentication is turned on or off.",
    }),

  passkeyAdded: (input: { username: string; passkeyName: string; hasPassword: boolean }) =>
    compose({
      subject: "A passkey was added to your account",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        `The passkey "${input.passkeyName}" was just added to your account: it can now sign in to it.`,
        `If this was not you, remove it from your account's passkeys and ${secureTheAccount(input.hasPassword)} right away.`,
      ],
      footer: "This notice is sent whenever a passkey is added or removed.",
    }),

  passkeyRemoved: (input: { username: string; passkeyName: string; hasPassword: boolean }) =>
    compose({
      subject: "A passkey was removed from your account",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        `The passkey "${input.passkeyName}" was just removed from your account: it can no longer sign in.`,
        `If this was not you, ${secureTheAccount(input.hasPassword)} right away.`,
      ],
      footer: "This notice is sent whenever a passkey is added or removed.",
    }),

  identityLinked: (input: { username: string; provider: string; hasPassword: boolean }) =>
    compose({
      subject: `Signing in with ${input.provider} is now linked to your account`,
      greeting: `Hello ${input.username},`,
      paragraphs: [
        `An identity at ${input.provider} was just linked to your account: signing in there now signs in to this account.`,
        `If this was not you, unlink it from your account's settings and ${secureTheAccount(input.hasPassword)} right away.`,
      ],
      footer: "This notice is sent whenever an identity provider is linked to or unlinked from your account.",
    }),

  identityUnlinked: (input: { username: string; provider: string }) =>
    compose({
      subject: `Signing in with ${input.provider} was unlinked from your account`,
      greeting: `Hello ${input.username},`,
      paragraphs: [
        `An identity at ${input.provider} was just unlinked from your account: signing in there no longer signs in to it. Every other device was signed out.`,
        "If this was not you, reset your password right away.",
      ],
      footer: "This notice is sent whenever an identity provider is linked to or unlinked from your account.",
    }),

  passwordWasReset: (input: { username: string }) =>
    compose({
      subject: "Your password was changed",
      greeting: `Hello ${input.username},`,
      paragraphs: [
        "The password of your account was just reset with a link sent to this address, and every device was signed out.",
        "If this was not you, reset it again right away and check the security of this mailbox.",
      ],
      footer: "This notice is sent after every password reset.",
    }),
};
