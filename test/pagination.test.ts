import { beforeAll, describe, expect, it } from "vitest";
import { admin, signUp, signUpAdmin, type SignedUp } from "./helpers/accounts.js";
import { errorCodes, type GraphQLResponse } from "../harness/graphql.js";
import { useTestServer } from "./helpers/test-server.js";

const server = useTestServer();
let root: SignedUp;
let user: SignedUp;
beforeAll(async () => {
  root = await signUpAdmin(server(), "root");
  user = await signUp(server());
});

const cursor = (text: string | Buffer) => Buffer.from(text).toString("base64url");
const expectRefusedOn = (response: GraphQLResponse, field: string) => {
  expect(errorCodes(response), JSON.stringify(response.errors)).toEqual(["BAD_USER_INPUT"]);
  expect(response.errors![0]!.extensions!.field).toBe(field);
};

/** Every list that pages, with the variables and token it needs besides `first` and `after`. */
const lists = () => [
  { name: "users", query: admin.users, variables: {}, token: root.accessToken },
  { name: "securityEvents", query: admin.securityEvents, variables: {}, token: user.accessToken },
  {
    name: "userSecurityEvents",
    query: admin.userSecurityEvents,
    variables: { userId: user.id },
    token: root.accessToken,
  },
];

describe("tampered cursors", () => {
  it("refuses an event id past PostgreSQL's bigint, as any signed-in user, on `after`", async () => {
    const response = await server().request(
      admin.securityEvents,
      { after: cursor("event:9999999999999999999") },
      { token: user.accessToken },
    );
    expectRefusedOn(response, "after");
  });

  it("refuses a username key holding a NUL character, as an admin, on `after`", async () => {
    expectRefusedOn(
      await server().request(admin.users, { after: cursor("user:\u0000") }, { token: root.accessToken }),
      "after",
    );
  });

  const eventCursors = [
    "event:9223372036854775808",
    "event:18446744073709551616",
    `event:${"9".repeat(300)}`,
    "event:0",
    "event:-1",
    "event:-9223372036854775808",
    "event:01",
    "event:+1",
    "event: 1",
    "event:1e3",
    "event:1.5",
    "event:0x10",
    "event:",
    "event:1\u0000",
    "user:alice",
    "event",
  ];
  const userCursors = [
    "user:\u0000",
    "user:ab\u0000c",
    "user:Alice",
    "user:ab",
    `user:${"a".repeat(33)}`,
    `user:${"a".repeat(300)}`,
    "user:al ice",
    "user:alice\n",
    "user:ａｌｉｃｅ",
    "user:",
    "user:-alice",
    "event:12",
    "user",
  ];
  const malformed = [
    cursor(Buffer.from([0x75, 0x73, 0x65, 0x72, 0x3a, 0x61, 0x6c, 0xff, 0xfe])),
    // "user:abc" with the unused low bits of its last character set: another string for the same bytes.
    `${cursor("user:abcd").slice(0, -1)}B`,
    `${cursor("user:abc")}==`,
    "dXNlcjphYmM+",
    "dXNlcjphYmM/",
    "a".repeat(401),
    "",
    "not a cursor",
  ];

  it.each(["users", "securityEvents", "userSecurityEvents"])(
    "refuses every tampered cursor of %s on `after`",
    async (name) => {
      const list = lists().find((entry) => entry.name === name)!;
      const tampered = [...(name === "users" ? userCursors : eventCursors).map((text) => cursor(text)), ...malformed];
      for (const after of tampered) {
        const response = await server().request(list.query, { ...list.variables, after }, { token: list.token });
        expectRefusedOn(response, "after");
      }
    },
  );

  it("pages from the extreme positions a cursor may hold", async () => {
    const newest = await server().request(
      admin.securityEvents,
      { after: cursor("event:9223372036854775807") },
      { token: user.accessToken },
    );
    expect(newest.errors).toBeUndefined();
    expect(newest.data!.securityEvents.edges.length).toBeGreaterThan(0);
    const oldest = await server().request(
      admin.securityEvents,
      { after: cursor("event:1") },
      { token: user.accessToken },
    );
    expect(oldest.data!.securityEvents).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    const first = await server().request(admin.users, { after: cursor("user:___") }, { token: root.accessToken });
    expect(first.errors).toBeUndefined();
    expect(first.data!.users.edges.length).toBeGreaterThan(0);
    const last = await server().request(
      admin.users,
      { after: cursor(`user:${"z".repeat(32)}`) },
      { token: root.accessToken },
    );
    expect(last.data!.users.edges).toEqual([]);
  });
});

describe("`first` beyond 1–100", () => {
  const outside = [101, 139, 140, 1000, 2 ** 31 - 1, 0, -1, -(2 ** 31)];
  const fields: Record<string, string> = {
    users:
      "users(first: FIRST) { edges { cursor node { id username email roles lockedAt } } pageInfo { hasNextPage endCursor } }",
    securityEvents:
      "securityEvents(first: FIRST) { edges { cursor node { id kind at actorId ip userAgent } } pageInfo { hasNextPage endCursor } }",
    userSecurityEvents: `userSecurityEvents(userId: "USER", first: FIRST) { edges { cursor node { id kind at actorId ip userAgent } } pageInfo { hasNextPage endCursor } }`,
  };

  it.each(Object.keys(fields))(
    "%s: BAD_USER_INPUT on `first`, written into the query or in a variable, never a cost refusal",
    async (name) => {
      const list = lists().find((entry) => entry.name === name)!;
      const field = fields[name]!.replace("USER", user.id);
      for (const first of outside) {
        const literal = await server().request(
          `{ ${field.replace("FIRST", String(first))} }`,
          {},
          { token: list.token },
        );
        expectRefusedOn(literal, "first");
        const throughFragment = await server().request(
          `{ ...Page } fragment Page on Query { ${field.replace("FIRST", String(first))} }`,
          {},
          { token: list.token },
        );
        expectRefusedOn(throughFragment, "first");
        expectRefusedOn(
          await server().request(list.query, { ...list.variables, first }, { token: list.token }),
          "first",
        );
      }
      const full = await server().request(`{ ${field.replace("FIRST", "100")} }`, {}, { token: list.token });
      expect(full.errors, JSON.stringify(full.errors)).toBeUndefined();
    },
  );
});
