import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { Algorithm } from "@node-rs/argon2";
import { QueueFullError, type QueueBounds } from "../concurrency.js";
import { ServiceUnavailableError } from "../errors/errors.js";
import { HashingPool, type HashingJob } from "./hashing-pool.js";

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** A hash of no one's password, verified for unknown users so their timing matches real ones. */
  dummyHash(): Promise<string>;
  /** Whether a stored hash was made otherwise than `hash` makes one now (older parameters): hash its password again once it is known. */
  isOutdated(passwordHash: string): boolean;
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

/** The start of every hash made with `parameters`, in the PHC string format argon2 writes (version 19). */
function hashPrefix({ memoryCost, timeCost, parallelism }: Argon2Parameters): string {
  return `$argon2id$v=19$m=${memoryCost},t=${timeCost},p=${parallelism}$`;
}

/**
 * Hashing is pure CPU: more hashes at once than cores only slows every request. A login storm may
 * use every core, because the hashing threads yield to the event loop (`npm run bench` measures
 * `me`'s p99 during such a storm against its p99 at rest).
 */
export const defaultHashingConcurrency = availableParallelism();

/**
 * Hashes that may wait for a free thread, and for how long; past either a request fails fast with
 * SERVICE_UNAVAILABLE. The time bound holds also where hashing is slower than expected.
 */
export const defaultHashingQueue = { maxWaiting: 32, maxWaitMs: 1_000 } as const;

const hashingThreads = { idleMs: 5_000, niceness: 10 };

/** argon2id on a pool of threads of its own, off the event loop and off libuv's shared pool. */
export function createArgon2Hasher(
  parameters: Argon2Parameters = owaspArgon2id,
  concurrency = defaultHashingConcurrency,
  queueBounds: QueueBounds = defaultHashingQueue,
): PasswordHasher {
  const options = { algorithm: argon2id, ...parameters };
  const pool = new HashingPool({ size: concurrency, queue: queueBounds, ...hashingThreads });
  const run = <T extends string | boolean>(job: HashingJob): Promise<T> =>
    pool.run(job).then(
      (value) => value as T,
      (error: unknown) => {
        throw error instanceof QueueFullError ? new ServiceUnavailableError("password-hasher", error) : error;
      },
    );
  const hash = (password: string) => run<string>({ operation: "hash", password, options });
  let dummy: Promise<string> | undefined;
  return {
    hash,
    verify: (passwordHash, password) => run<boolean>({ operation: "verify", passwordHash, password }),
    dummyHash: () => (dummy ??= hash(randomBytes(32).toString("base64url"))),
    isOutdated: (passwordHash) => !passwordHash.startsWith(hashPrefix(parameters)),
  };
}
