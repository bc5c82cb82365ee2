import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { concurrencyLimit, QueueFullError, type QueueBounds } from "../concurrency.js";
import { ServiceUnavailableError } from "../errors/errors.js";

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** A hash of no one's password, verified for unknown users so their timing matches real ones. */
  dummyHash(): Promise<string>;
}

export interface Argon2Parameters {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane. */
export const owaspArgon2id: Argon2Parameters = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

// `Algorithm` is a const enum, which isolated modules cannot read.
const argon2id = 2 as Algorithm.Argon2id;

/**
 * Hashing is pure CPU: more hashes at once than cores only slows every request. By default a
 * login storm may use all cores but one, which is left to the event loop (and the database).
 */
export const defaultHashingConcurrency = Math.max(1, availableParallelism() - 1);

/**
 * Hashes that may wait for a free slot, and for how long; past either a request fails fast with
 * SERVICE_UNAVAILABLE. The time bound holds also where hashing is slower than expected.
 */
export const defaultHashingQueue = { maxWaiting: 32, maxWaitMs: 1_000 } as const;

/** argon2id through a native binding that hashes on libuv's thread pool, off the event loop. */
export function createArgon2Hasher(
  parameters: Argon2Parameters = owaspArgon2id,
  concurrency = defaultHashingConcurrency,
  queueBounds: QueueBounds = defaultHashingQueue,
): PasswordHasher {
  const options = { algorithm: argon2id, ...parameters };
  const queue = concurrencyLimit(concurrency, queueBounds);
  const limited = <T>(task: () => Promise<T>): Promise<T> =>
    queue(task).catch((error: unknown) => {
      throw error instanceof QueueFullError ? new ServiceUnavailableError("password-hasher", error) : error;
    });
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => limited(() => hash(password, options)),
    verify: (passwordHash, password) =>
      limited(async () => {
        try {
          return await verify(passwordHash, password);
        } catch {
          return false; // a malformed stored hash matches nothing
        }
      }),
    dummyHash: () => (dummy ??= limited(() => hash(randomBytes(32).toString("base64url"), options))),
  };
}
