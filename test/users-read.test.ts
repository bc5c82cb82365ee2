import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase, type Database } from "../src/db/prisma.js";
import { UsersService } from "../src/users/users.service.js";
import { createTestDatabase, type TestDatabase } from "./helpers/database.js";
import { newAccount } from "./helpers/server.js";

let testDatabase: TestDatabase;
let database: Database;
beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = createDatabase(testDatabase.url, { poolSize: 2 });
});
afterAll(async () => {
  await database.$disconnect();
  await testDatabase.drop();
});

// The hot read bypasses Prisma: it must keep returning exactly what Prisma would.
it("reads users' public fields by id exactly as Prisma does, in order, null for unknown and malformed ids", async () => {
  const created = await Promise.all(
    [newAccount(), newAccount()].map(({ email, username }) =>
      database.user.create({ data: { email, username, usernameKey: username.toLowerCase(), passwordHash: "$argon2id$stored" } }),
    ),
  );
  const [first, second] = await Promise.all(
    created.map((user) =>
      database.user.findUniqueOrThrow({ where: { id: user.id }, select: { id: true, username: true, email: true, createdAt: true } }),
    ),
  );
  const read = await new UsersService(database).findByIds([second!.id, randomUUID(), first!.id.toUpperCase(), "not-a-uuid"]);
  expect(read).toStrictEqual([second, null, first, null]);
});
