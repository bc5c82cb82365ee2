import type { TestServer } from "./server.js";

/**
 * Sends a request and, once the server has received it, asks /health/live too: a request that
 * blocked the event loop would leave the probe unanswered as long as it runs. Both answers.
 */
export async function withLivenessProbe<T>(
  server: TestServer,
  send: () => Promise<T>,
): Promise<{ answer: T; liveStatus: number }> {
  const arrived = new Promise<void>((resolve) => server.app.httpServer.once("request", () => resolve()));
  const answer = send();
  await arrived;
  const liveStatus = fetch(`${server.baseUrl}/health/live`).then((response) => response.status);
  return { answer: await answer, liveStatus: await liveStatus };
}
