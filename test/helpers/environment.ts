import { inject } from "vitest";

/** The PostgreSQL and Redis servers tests use, real ones (see global-setup.ts); never mocks. */
export const testPostgresUrl = inject("testPostgresUrl");
export const testRedisUrl = inject("testRedisUrl");
