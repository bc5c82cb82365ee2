import type { CounterStore } from "./counter-store.js";
import type { RevocationStore } from "./revocation-store.js";

/**
 * The one store behind both roles, Redis or the in-process default, and the life of its
 * connection: the server opens it at start, checks it for readiness, closes it last.
 */
export interface Store extends RevocationStore, CounterStore {
  ping(): Promise<void>;
  close(): Promise<void>;
}
