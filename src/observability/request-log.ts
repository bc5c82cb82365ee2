import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApolloServerPlugin } from "@apollo/server";
import type { Logger } from "./logger.js";
import { responseErrors } from "./response-errors.js";

/** What one request's log line says beyond HTTP: filled in by the GraphQL layer. */
export interface RequestRecord {
  id: string;
  operation?: string;
  /** The first error's `extensions.code`, or "OK". */
  outcome?: string;
}

const records = new WeakMap<IncomingMessage, RequestRecord>();

/** A caller's id is kept when it is a plain token (a UUID, a trace id…), so logs join up across services. */
const acceptableRequestId = /^[\w.:@+=/-]{1,128}$/;

/**
 * Gives the request its id (the client's or router's `x-request-id`, else a new one), echoes it in
 * the response, and logs one line when the response is done: id, method, path, status, duration,
 * GraphQL operation and outcome code, client address.
 */
export function logRequest(
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  logger: Logger,
): RequestRecord {
  const started = process.hrtime.bigint();
  const given = request.headers["x-request-id"];
  const record: RequestRecord = {
    id: typeof given === "string" && acceptableRequestId.test(given) ? given : randomUUID(),
  };
  records.set(request, record);
  response.setHeader("x-request-id", record.id);
  response.once("close", () => {
    const status = response.statusCode;
    logger.info(
      {
        requestId: record.id,
        method: request.method,
        path,
        status,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
        operation: record.operation,
        outcome: !response.writableFinished ? "ABORTED" : (record.outcome ?? (status < 400 ? "OK" : `HTTP_${status}`)),
        client: request.socket.remoteAddress,
      },
      "request",
    );
  });
  return record;
}

/** The record `logRequest` started for this request (a fresh one for a request it never saw). */
export function requestRecordOf(request: IncomingMessage): RequestRecord {
  let record = records.get(request);
  if (!record) {
    record = { id: randomUUID() };
    records.set(request, record);
  }
  return record;
}

/** Notes each GraphQL request's operation name and outcome code on its request record. */
export function requestLogPlugin<TContext extends { requestLog: RequestRecord }>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, operationName, response }) {
          contextValue.requestLog.operation = operationName ?? undefined;
          const errors = responseErrors(response);
          const code = errors?.[0]?.extensions?.code;
          contextValue.requestLog.outcome = typeof code === "string" ? code : errors?.length ? "ERROR" : "OK";
        },
      };
    },
  };
}
