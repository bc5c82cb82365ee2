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

/**
 * The process's logger: readable lines (pino-pretty) for a person at a terminal, one JSON object
 * per line for everything else (log collectors, pipes, files). `format` overrides the choice.
 */
export async function createProcessLogger(
  level: string,
  format: "json" | "pretty" | undefined,
  production: boolean,
): Promise<Logger> {
  const terminal = Boolean(process.stdout.isTTY);
  if ((format ?? (terminal && !production ? "pretty" : "json")) === "json") return createLogger(level);
  const { default: pretty } = await import("pino-pretty");
  return createLogger(
    level,
    pretty({ colorize: terminal, ignore: "pid,hostname,service", translateTime: "SYS:HH:MM:ss.l" }),
  );
}
