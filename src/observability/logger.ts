import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * JSON logs. Nothing secret is ever passed to the logger; the redaction is the second line of
 * defence should a header or an input object reach it by mistake.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "users-subgraph" },
      redact: {
        paths: [
          "*.authorization",
          "*.headers.authorization",
          "*.password",
          "*.currentPassword",
          "*.newPassword",
          "*.passwordHash",
          "*.accessToken",
          "*.refreshToken",
          "*.variables",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
