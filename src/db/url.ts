/** host:port/database of a connection URL, never its credentials: for logs and messages. */
export function describeUrl(url: string): string {
  try {
    const { host, pathname } = new URL(url);
    return `${host}${pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}
