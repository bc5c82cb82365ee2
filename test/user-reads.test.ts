import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mutations } from "../harness/graphql.js";
import { primaryOnly } from "../src/db/read-replicas.js";
import { UsersService } from "../src/users/users.service.js";
import { useTestDatabase } from "./helpers/database.js";
import { QueryLog } from "./helpers/query-log.js";
import { newAccount } from "./helpers/server.js";
import { useTestServer } from "./helpers/test-server.js";

/** Requests served at once share their reads of users: each must still get exactly its own, as fresh as if alone. */
describe("reads of users by id, shared by the requests of one moment", () => {
  const database = useTestDatabase();
  let queries: QueryLog;
  let users: UsersService;
  const ids: string[] = [];
  beforeAll(async () => {
    queries = new QueryLog(database().url);
    users = new UsersService(queries.database, primaryOnly(queries.database));
    for (let index = 0; index < 3; index++) {
      const { email, username } = newAccount();
      const user = await queries.database.user.create({
        data: { email, username, usernameKey: username.toLowerCase(), passwordHash: "$argon2id$stored" },
      });
      ids.push(user.id);
    }
  });
  afterAll(() => queries.close());

  it("answers every caller of the same turn its own ids, in order, with one statement; malformed ids only null", async () => {
    const [a, b, c] = ids as [string, string, string];
    const unknown = randomUUID();
    const asked = [[a], [b, "not-a-uuid", c], [c.toUpperCase()], [unknown, a], [""], []];
    const { result, statements } = await queries.during(() =>
      Promise.all(asked.map((batch) => users.findByIds(batch))),
    );
    expect(statements).toHaveLength(1);
    expect(result.map((answer) => answer.map((user) => user?.id ?? null))).toEqual([
      [a],
      [b, null, c],
      [c],
      [null, a],
      [null],
      [],
    ]);
  });

  it("answers random mixes of callers and ids, each caller exactly its own (200 trials)", async () => {
    const unknown = randomUUID();
    const candidates = [...ids, ...ids.map((id) => id.toUpperCase()), unknown, "", "x", `${ids[0]}'`, "\u0000"];
    const pick = () => candidates[Math.floor(Math.random() * candidates.length)]!;
    const expected = (id: string) => ids.find((known) => known === id.toLowerCase()) ?? null;
    for (let trial = 0; trial < 200; trial++) {
      const asked = Array.from({ length: 1 + Math.floor(Math.random() * 20) }, () =>
        Array.from({ length: Math.floor(Math.random() * 10) }, pick),
      );
      const answers = await Promise.all(asked.map((batch) => users.findByIds(batch)));
      expect(answers.map((answer) => answer.map((user) => user?.id ?? null))).toEqual(
        asked.map((batch) => batch.map(expected)),
      );
    }
  });

  it("caches nothing: each read after a change sees it", async () => {
    const [a] = ids as [string];
    for (let trial = 0; trial < 5; trial++) {
      const username = `renamed${trial}${randomUUID().slice(0, 8)}`;
      await queries.database.user.update({ where: { id: a }, data: { username, usernameKey: username } });
      const { result, statements } = await queries.during(() => users.findByIds([a]));
      expect(result[0]?.username).toBe(username);
      expect(statements).toHaveLength(1);
    }
  });

  it("splits more ids than one statement takes, and answers them all", async () => {
    const many = Array.from({ length: 2500 }, (_, index) => (index % 500 === 0 ? ids[0]! : randomUUID()));
    const { result, statements } = await queries.during(() =>
      Promise.all(Array.from({ length: 5 }, (_, part) => users.findByIds(many.slice(part * 500, part * 500 + 500)))),
    );
    expect(statements).toHaveLength(3);
    const found = result.flat().map((user, index) => [index, user?.id]);
    expect(found.filter(([, id]) => id !== undefined)).toEqual(
      [0, 500, 1000, 1500, 2000].map((index) => [index, ids[0]]),
    );
  });
});

describe("me, many clients at once", () => {
  const server = useTestServer();

  it("answers each request its own account, also for two requests of one account at once", async () => {
    const accounts = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const account = newAccount();
        const { user, accessToken } = await server().app.services.accounts.register(account);
        return { id: user.id, username: account.username, accessToken };
      }),
    );
    for (let round = 0; round < 10; round++) {
      const asking = [...accounts, ...accounts].sort(() => Math.random() - 0.5);
      const answers = await Promise.all(
        asking.map((account) => server().request(mutations.me, {}, { token: account.accessToken })),
      );
      expect(answers.map((answer) => answer.data?.me)).toEqual(
        asking.map(({ id, username }) => expect.objectContaining({ id, username })),
      );
    }
  });

  it("answers the username changed just before, while other accounts' requests are served", async () => {
    const register = () => server().app.services.accounts.register(newAccount());
    const [changing, ...others] = await Promise.all(Array.from({ length: 6 }, register));
    const meOf = (token: string) => server().request(mutations.me, {}, { token });
    for (let trial = 0; trial < 20; trial++) {
      const newUsername = `renamed${trial}x${randomUUID().slice(0, 8)}`;
      const background = Promise.all(others.map((other) => meOf(other.accessToken)));
      const changed = await server().request(
        `mutation($newUsername: String!) { changeUsername(newUsername: $newUsername) { username } }`,
        { newUsername },
        { token: changing!.accessToken },
      );
      expect(changed.errors).toBeUndefined();
      const [mine, ...theirs] = await Promise.all([
        meOf(changing!.accessToken),
        ...others.map((o) => meOf(o.accessToken)),
      ]);
      expect(mine.data?.me.username).toBe(newUsername);
      expect(theirs.map((answer) => answer.data?.me.id)).toEqual(others.map((other) => other.user.id));
      expect((await background).every((answer) => answer.errors === undefined)).toBe(true);
    }
  });
});
