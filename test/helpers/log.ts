import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/observability/logger.js";

/** A real logger whose lines (JSON, one per entry) are kept in `lines` for the test to read. */
export function capturedLogger(level = "info"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger(level, destination), lines };
}
