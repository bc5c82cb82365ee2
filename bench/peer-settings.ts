// What the peer is configured with, shared by its server and by the bench that states it.

/** The subgraph's production parameters (OWASP's minimum for argon2id), for `@node-rs/argon2`. */
export const peerArgon2id = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
/** pg's default pool size, and the subgraph's. */
export const peerPoolSize = 10;
