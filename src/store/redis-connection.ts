import { Cluster, Redis, type RedisOptions } from "ioredis";

export interface HostAndPort {
  host: string;
  port: number;
}

/**
 * Where Redis is: one server (`url`), a Redis Cluster (some of its nodes: the client discovers the
 * rest), or the master a group of Sentinels names. With nodes or Sentinels, `url` only lends its
 * user name, password and scheme (`rediss:` for TLS) to every Redis server.
 */
export interface RedisTarget {
  url?: string;
  clusterNodes?: readonly HostAndPort[];
  sentinels?: { nodes: readonly HostAndPort[]; name: string };
}

export type RedisClient = Redis | Cluster;

/** Waits between reconnection attempts: quick at first, at most 2 s. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2_000);

/** Every wait bounded; commands fail at once while no server can take them rather than queue. */
function serverOptions(timeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  };
}

function credentialsOf(url: string | undefined): RedisOptions {
  if (!url) return {};
  const parsed = new URL(url);
  return {
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    tls: parsed.protocol === "rediss:" ? {} : undefined,
  };
}

/** A client of the Redis `target` names, not yet connected (`lazyConnect`): every wait bounded by `timeoutMs`. */
export function createRedisClient(target: RedisTarget, timeoutMs: number): RedisClient {
  const options = { ...serverOptions(timeoutMs), ...credentialsOf(target.url) };
  if (target.clusterNodes) {
    return new Cluster([...target.clusterNodes], {
      lazyConnect: true,
      enableOfflineQueue: false,
      redisOptions: options,
      clusterRetryStrategy: reconnectDelay,
      slotsRefreshTimeout: timeoutMs,
      // A command refused by a node that is failing over is tried again this much later, a few times.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      retryDelayOnTryAgain: 200,
      maxRedirections: 6,
    });
  }
  if (target.sentinels) {
    return new Redis({
      ...options,
      sentinels: target.sentinels.nodes.map((node) => ({ ...node })),
      name: target.sentinels.name,
      enableOfflineQueue: false,
      retryStrategy: reconnectDelay,
      sentinelRetryStrategy: reconnectDelay,
      sentinelCommandTimeout: timeoutMs,
      // No failoverDetector: its announcement, arriving while the client reconnects after its master
      // died, aborts that reconnection for good. A dead master closes the connection anyway, and
      // a write refused by a demoted one reconnects: the Sentinels name the new master.
      reconnectOnError: (error) => error.message.startsWith("READONLY"),
    });
  }
  return new Redis(target.url!, {
    ...serverOptions(timeoutMs),
    enableOfflineQueue: false,
    retryStrategy: reconnectDelay,
  });
}

/**
 * A connected client, or the error that kept it from connecting in time (a Cluster that cannot be
 * reached retries for ever otherwise): connecting takes a few round trips, each bounded by
 * `timeoutMs`. Later connection errors surface on the commands that need Redis; the client keeps
 * reconnecting.
 */
export async function connectRedis(target: RedisTarget, timeoutMs: number): Promise<RedisClient> {
  const client = createRedisClient(target, timeoutMs);
  let lastError: Error | undefined;
  client.on("error", (error: Error) => (lastError = error));
  const connecting = client.connect();
  connecting.catch(() => {}); // answered below, or abandoned after the deadline
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no Redis server answered in time")), 3 * timeoutMs);
  });
  try {
    await Promise.race([connecting, deadline]);
    return client;
  } catch (error) {
    client.disconnect();
    // "Connection is closed." says less than the error that closed it (ECONNREFUSED, NOAUTH…).
    throw lastError ?? error;
  } finally {
    clearTimeout(timer);
  }
}
