import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { createErrorFormatter } from "../src/graphql/format-error.js";
import { InvalidCredentialsError } from "../src/errors/errors.js";
import { capturedLogger } from "./helpers/log.js";

function formatterWithLog() {
  const { logger, lines } = capturedLogger();
  const codes: string[] = [];
  return { format: createErrorFormatter(logger, (code) => codes.push(code)), lines, codes };
}

/** As graphql-js hands a resolver's error to Apollo: wrapped, with the original attached. */
function fromResolver(original: Error) {
  const located = new GraphQLError(original.message, { path: ["me"], originalError: original });
  return {
    formatted: {
      message: located.message,
      path: ["me"],
      extensions: { code: "INTERNAL_SERVER_ERROR", stacktrace: ["at x.js"] },
    },
    located,
  };
}

describe("what clients see of an error", () => {
  it("hides a bug behind INTERNAL_SERVER_ERROR, without message or stack, and logs it for us", () => {
    const { format, lines, codes } = formatterWithLog();
    const { formatted, located } = fromResolver(
      new TypeError("Cannot read properties of undefined (reading 'secretThing')"),
    );
    const shown = format(formatted, located);
    expect(shown).toEqual({
      message: "Internal server error.",
      path: ["me"],
      locations: undefined,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
    expect(lines.join("")).toContain("secretThing");
    expect(codes).toEqual(["INTERNAL_SERVER_ERROR"]);
  });

  it("passes our coded errors through unchanged, minus any stack trace", () => {
    const { format, lines } = formatterWithLog();
    const error = new InvalidCredentialsError();
    const shown = format(
      { message: error.message, extensions: { code: "INVALID_CREDENTIALS", stacktrace: ["at y.js"] } },
      error,
    );
    expect(shown).toEqual({
      message: "Invalid username, e-mail or password.",
      extensions: { code: "INVALID_CREDENTIALS" },
    });
    expect(lines).toEqual([]);
  });
});
