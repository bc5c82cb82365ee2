// What the peer is configured with, shared by its server and by the bench that states it.

/** The subgraph's production parameters (OWASP's minimum for argon2id), for `@node-rs/argon2`. */
export const peerArgon2id = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
/** pg's default pool size, and the subgraph's. */
export const peerPoolSize = 10;

export const peerDescription =
  `better-auth ${"1.7.25"}: email + password on a pg Pool (max ${peerPoolSize}) over the same PostgreSQL, a database of its own; ` +
  `argon2id m=${peerArgon2id.memoryCost} KiB, t=${peerArgon2id.timeCost}, p=${peerArgon2id.parallelism} through @node-rs/argon2 (libuv's pool); ` +
  "rate limiter off, cookie cache off (every get-session reads the database)";
