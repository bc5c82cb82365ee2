/** The PostgreSQL and Redis servers tests use (`.ci/run` starts them); never mocks. */
export const testPostgresUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres:postgres@127.0.0.1:5432/postgres";
export const testRedisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
