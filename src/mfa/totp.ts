import { loadOnFirstUse } from "../load-on-first-use.js";

const otp = loadOnFirstUse(() => import("otplib"));
const qrCodes = loadOnFirstUse(() => import("qrcode"));

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30-second steps. */
export const totpStepSeconds = 30;
const codeFormat = /^\d{6}$/;

/** 160 random bits in base32, as authenticator apps expect. */
export async function newTotpSecret(): Promise<string> {
  return (await otp()).generateSecret();
}

export interface TotpEnrollmentDetails {
  secret: string;
  otpauthUrl: string;
  qrCodeDataUrl: string;
}

export async function enrollmentDetails(
  secret: string,
  issuer: string,
  accountName: string,
): Promise<TotpEnrollmentDetails> {
  const [{ generateURI }, { default: QRCode }] = await Promise.all([otp(), qrCodes()]);
  const otpauthUrl = generateURI({ issuer, label: accountName, secret });
  return { secret, otpauthUrl, qrCodeDataUrl: await QRCode.toDataURL(otpauthUrl, { errorCorrectionLevel: "M" }) };
}

export function isTotpCode(code: string): boolean {
  return codeFormat.test(code);
}

/**
 * The time step of `code` when it is the secret's code for the step of `now` or one step either
 * side (clock drift); null for any other code. The caller makes each step usable once.
 */
export async function totpCodeStep(secret: string, code: string, now: Date): Promise<number | null> {
  if (!isTotpCode(code)) return null;
  const { verify } = await otp();
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: totpStepSeconds,
  });
  return result.valid && "timeStep" in result ? result.timeStep : null;
}
