import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface AttackerSite {
  port: number;
  close(): Promise<void>;
}

const refresh = "mutation { refreshSession { accessToken } }";
const login = "mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }";

/**
 * A page of another origin that tries to use the victim's session: credentialed fetches in cookie
 * mode (refresh, and signing the browser in to the attacker's own account), the same without a
 * preflight (`no-cors`), and forms posted to the router and straight to the subgraph. Its results
 * land in `window.attacks`, the forms' answers in the frames `routed` and `direct`.
 */
function attackPage(gatewayUrl: string, subgraphUrl: string, attacker: { username: string; password: string }): string {
  const input = { usernameOrEmail: attacker.username, password: attacker.password };
  return `<!doctype html>
<meta charset="utf-8">
<title>another site</title>
<iframe name="routed"></iframe><iframe name="direct"></iframe>
<form id="routed" method="POST" target="routed" action="${gatewayUrl}"><input name="query" value="${refresh}"></form>
<form id="direct" method="POST" target="direct" action="${subgraphUrl}"><input name="query" value="${refresh}"></form>
<script>
  const cookieMode = { "content-type": "application/json", "x-session-transport": "cookie" };
  const refresh = JSON.stringify({ query: ${JSON.stringify(refresh)} });
  const login = JSON.stringify({ query: ${JSON.stringify(login)}, variables: { input: ${JSON.stringify(input)} } });
  async function attempt(init) {
    try {
      const response = await fetch(${JSON.stringify(gatewayUrl)}, { method: "POST", credentials: "include", ...init });
      return { status: response.status, type: response.type, body: response.type === "opaque" ? null : await response.text() };
    } catch (error) {
      return { blocked: String(error) };
    }
  }
  window.attacks = (async () => ({
    refresh: await attempt({ headers: cookieMode, body: refresh }),
    login: await attempt({ headers: cookieMode, body: login }),
    refreshWithoutPreflight: await attempt({ mode: "no-cors", headers: { "content-type": "text/plain" }, body: refresh }),
    loginWithoutPreflight: await attempt({ mode: "no-cors", headers: { "content-type": "text/plain" }, body: login }),
  }))();
</script>`;
}

/** The attacker's site on a loopback port of its own, reachable as http://localhost:<port> and http://127.0.0.1:<port>. */
export async function startAttackerSite(
  gatewayUrl: string,
  subgraphUrl: string,
  attacker: { username: string; password: string },
): Promise<AttackerSite> {
  const page = attackPage(gatewayUrl, subgraphUrl, attacker);
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
