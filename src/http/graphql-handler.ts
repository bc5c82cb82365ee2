import type { IncomingMessage, ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import { errorCodes, type ErrorCode } from "../errors/codes.js";
import { requestRecordOf } from "../observability/request-log.js";
import type { BrowserOrigins } from "./browser-origins.js";
import { requestedTransport, type SessionTransport } from "./session-cookie.js";

const maxBodyBytes = 1024 * 1024;

class RequestBodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The body, up to the limit. Past it (declared or as it arrives) reading stops with a 413; what
 * the client still sends is discarded rather than left unread in the socket, where it would be
 * taken for the next request.
 */
function readBody(request: IncomingMessage): Promise<string> {
  const tooLarge = () => new RequestBodyError(413, "Request body too large");
  if (Number(request.headers["content-length"]) > maxBodyBytes) {
    request.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBodyBytes) return void chunks.push(chunk);
      request.off("data", collect);
      // Still flowing with no listener: the rest is read and dropped.
      request.resume();
      reject(tooLarge());
    };
    request.on("data", collect);
    request.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.once("error", reject);
  });
}

async function parseBody(request: IncomingMessage): Promise<unknown> {
  if (request.method !== "POST") return undefined;
  const text = await readBody(request);
  const contentType = request.headers["content-type"] ?? "";
  if (!/^application\/(graphql-response\+)?json\b/i.test(contentType) || text === "") return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new RequestBodyError(400, "The request body is not valid JSON");
  }
}

function sendError(response: ServerResponse, status: number, message: string, code = "BAD_REQUEST"): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    // The connection still carries the unread rest of a body too large: no further request on it.
    ...(status === 413 ? { connection: "close" } : {}),
  });
  response.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

interface Refusal {
  status: number;
  code: ErrorCode | "BAD_REQUEST";
  message: string;
}

/** Why a browser-related header makes the request unacceptable, before its body is even read. */
function browserRefusal(request: IncomingMessage, origins: BrowserOrigins): Refusal | null {
  if (requestedTransport(request.headers) === null) {
    return { status: 400, code: "BAD_REQUEST", message: "X-Session-Transport must be cookie or bearer" };
  }
  if (origins.refuses(request)) return { status: 403, code: "FORBIDDEN_ORIGIN", message: errorCodes.FORBIDDEN_ORIGIN };
  return null;
}

/** Refuses before reading: the body is dropped, and the connection not reused. */
function refuse(request: IncomingMessage, response: ServerResponse, refusal: Refusal): void {
  request.resume();
  response.setHeader("connection", "close");
  requestRecordOf(request).outcome = refusal.code;
  sendError(response, refusal.status, refusal.message, refusal.code);
}

/**
 * Apollo Server on Node's own HTTP server: no framework between the socket and GraphQL. Browsers'
 * CORS preflights are answered here, and cookie-bearing requests from other origins refused. The
 * context's `responded` runs once the answer is written.
 */
export function createGraphQLHandler<TContext extends { responded(): void; transport: SessionTransport }>(
  apollo: ApolloServer<TContext>,
  contextFor: (request: IncomingMessage) => TContext,
  origins: BrowserOrigins,
) {
  return async (request: IncomingMessage, response: ServerResponse, search: string): Promise<void> => {
    if (request.method === "OPTIONS") return origins.answerPreflight(request, response);
    origins.allowResponse(request, response);
    const refusal = browserRefusal(request, origins);
    if (refusal) return refuse(request, response, refusal);
    let body: unknown;
    try {
      body = await parseBody(request);
    } catch (error) {
      if (error instanceof RequestBodyError) return sendError(response, error.status, error.message);
      throw error;
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    let context: TContext | undefined;
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method?.toUpperCase() ?? "GET", headers, search, body },
      context: async () => (context = contextFor(request)),
    });
    response.statusCode = result.status ?? 200;
    // Answers carry personal data (an e-mail address, tokens): no cache may keep them.
    response.setHeader("cache-control", "no-store");
    for (const [name, value] of result.headers) response.setHeader(name, value);
    const setCookie = context?.transport.setCookie;
    if (setCookie) response.setHeader("set-cookie", setCookie);
    if (result.body.kind === "complete") {
      response.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) response.write(chunk);
      response.end();
    }
    context?.responded();
  };
}
