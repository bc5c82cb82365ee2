import type { CounterStore } from "./counter-store.js";
import type { RevocationStore } from "./revocation-store.js";
import type { SingleUseStore } from "./single-use-store.js";

/**
 * The one store behind the three roles, Redis or the in-process default, and the life of its
 * connection: the server opens it at start, checks it for readiness, closes it last.
 */
export interface Store extends RevocationStore, CounterStore, SingleUseStore {
  ping(): Promise<void>;
  close(): Promise<void>;
}
