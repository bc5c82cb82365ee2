/**
 * A module loaded when it is first needed instead of as the server starts: the code of a feature
 * no request has used yet (passkeys, authenticator apps, mail, identity providers) takes no memory.
 * Every later call gets the first one's promise.
 */
export function loadOnFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}
