import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/observability/logger.js";

/** A real logger whose JSON lines are kept for the test to read. */
export function capturingLogger(level = "info"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger(level, destination), lines };
}
