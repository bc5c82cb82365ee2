import type { RedisClient } from "./redis-connection.js";

/**
 * Sets `server` to the run id of the Redis server that runs the script: a new one with every
 * start, and every server of a replication group has its own. Read inside the scripts that need
 * it, so that the answer and the data it judges come from the same server. A server that is a
 * replica now (a master demoted by a failover, still reached by an old connection) answers
 * READONLY, as it does to writes: the client then reconnects to the master the Sentinels name.
 */
const serverIdentity = `local info = redis.call('INFO', 'server', 'replication')
if not string.find(info, 'role:master', 1, true) then return redis.error_reply('READONLY a replica does not answer revocations') end
local server = string.match(info, 'run_id:(%w+)')`;

/**
 * The Lua scripts of the store, each touching the keys of one slot only. Run through ioredis's
 * script commands: EVALSHA, with the script sent again to a server that does not know it yet.
 */
const scripts = {
  /**
   * KEYS: the shard's mark, the session's key. "unknown" unless the mark names this very server:
   * a server that restarted (even from a snapshot), or a replica promoted in a failover, has
   * another run id than the one the rebuild marked, and FLUSHALL deletes the mark.
   */
  sessionRevocation: `${serverIdentity}
if redis.call('GET', KEYS[1]) ~= server then return 'unknown' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'revoked' end
return 'live'`,

  /** KEYS: the shard's rebuild ticket. ARGV: the rebuild's id. Expires, so that a rebuild whose process died leaves nothing behind. */
  beginRebuild: `${serverIdentity}
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. server, 'EX', 600)
return 1`,

  /**
   * KEYS: the shard's ticket, its mark, then the sessions ended. ARGV: the rebuild's id, then each
   * session's TTL. Writes and marks the shard current only if its ticket is still this rebuild's
   * and still on the server it was left on (no FLUSHALL, no restart, no failover meanwhile).
   */
  completeRebuild: `${serverIdentity}
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ':' .. server then return 0 end
for i = 3, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[i - 1]) end
redis.call('SET', KEYS[2], server)
redis.call('DEL', KEYS[1])
return 1`,

  /**
   * KEYS: the counters, then their waivers. ARGV: the window, then per counter its limit and the
   * position of its waiver in KEYS (0 for none). Answers {position, ttl} pairs of the limits
   * reached, empty when every counter took its hit.
   */
  hitUnlessLimited: `local counters = (#ARGV - 1) / 2
local reached = {}
for i = 1, counters do
  local waiver = tonumber(ARGV[2 * i + 1])
  local waived = waiver > 0 and tonumber(redis.call('GET', KEYS[waiver]) or '0') > 0
  if not waived and tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[2 * i]) then
    table.insert(reached, i)
    table.insert(reached, redis.call('TTL', KEYS[i]))
  end
end
if #reached > 0 then return reached end
for i = 1, counters do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[1], 'NX')
end
return reached`,

  /**
   * KEYS: the counters to forget, those to take a hit back from (DECR alone would create a key
   * without TTL when it has expired meanwhile), then the one to hit if any. ARGV: how many to
   * forget, how many to take back, the hit's window (0 for no hit).
   */
  settle: `local forget, unhit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, forget do redis.call('DEL', KEYS[i]) end
for i = forget + 1, forget + unhit do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECR', KEYS[i]) end
end
if window > 0 then
  local key = KEYS[forget + unhit + 1]
  redis.call('INCR', key)
  redis.call('EXPIRE', key, window, 'NX')
end
return 0`,
};

/** Runs a script: the number of keys, the keys, then the arguments. */
export type ScriptCall = (keyCount: number, ...keysThenArguments: (string | number)[]) => Promise<unknown>;

export type StoreScripts = Record<keyof typeof scripts, ScriptCall>;

/** The scripts as commands of `client`, named apart from Redis's own. */
export function defineScripts(client: RedisClient): StoreScripts {
  const commands = client as unknown as Record<string, ScriptCall>;
  const entries = Object.entries(scripts).map(([name, lua]) => {
    const command = `usersSubgraph_${name}`;
    client.defineCommand(command, { lua });
    return [name, (...args: Parameters<ScriptCall>) => commands[command]!(...args)] as const;
  });
  return Object.fromEntries(entries) as StoreScripts;
}
