import fc from "fast-check";

// Generated requests that are cheap to send and may be expensive to answer: fragments spreading
// one another, and every list argument of the schema as long as the request body allows.

const rootFields = {
  Query: [
    "__typename",
    "me { id }",
    "_service { sdl }",
    "_entities(representations: [{}]) { __typename }",
    'user(id: "x") { id username @include(if: true) }',
  ],
  Mutation: [
    "logout",
    'login(input: { usernameOrEmail: "nobody", password: "not a password" }) { accessToken }',
    "requestEmailVerification",
  ],
};

/** The fragments each fragment spreads: the next (chain), the next two (diamond), all later (wide), or any, unknown and cyclic ones included. */
function spreadTargets(shape: string, index: number, count: number, edges: [number, number][]): number[] {
  const later = (from: number, to: number) =>
    Array.from({ length: Math.max(0, Math.min(to, count) - from) }, (_, offset) => from + offset);
  if (shape === "chain") return later(index + 1, index + 2);
  if (shape === "diamond") return later(index + 1, index + 3);
  if (shape === "wide") return index === 0 ? later(1, count) : [];
  return edges.filter(([from]) => from === index).map(([, to]) => to);
}

/** Up to 60 fragments on one root type, each spread `copies` times where it is spread, under one operation. */
export const fragmentDocuments: fc.Arbitrary<string> = fc.integer({ min: 1, max: 60 }).chain((count) =>
  fc
    .record({
      type: fc.constantFrom("Query", "Mutation") as fc.Arbitrary<keyof typeof rootFields>,
      shape: fc.constantFrom("chain", "diamond", "wide", "any"),
      copies: fc.integer({ min: 1, max: 3 }),
      aliased: fc.boolean(),
      fields: fc.array(fc.option(fc.nat(), { freq: 3 }), { minLength: count, maxLength: count }),
      edges: fc.array(fc.tuple(fc.nat(count - 1), fc.nat(count)), { maxLength: 2 * count }),
    })
    .map(({ type, shape, copies, aliased, fields, edges }) => {
      const spreads = (targets: number[]) =>
        targets.flatMap((target) => Array.from({ length: copies }, () => `...F${target}`)).join(" ");
      const fragments = fields.map((field, index) => {
        const pool = rootFields[type];
        const selection = field === null ? "" : `${aliased ? `a${index}: ` : ""}${pool[field % pool.length]}`;
        const body = `${selection} ${spreads(spreadTargets(shape, index, count, edges))}`.trim() || "__typename";
        return `fragment F${index} on ${type} { ${body} }`;
      });
      const root = shape === "wide" ? spreads(Array.from({ length: count }, (_, index) => index)) : spreads([0]);
      return `${type === "Query" ? "query" : "mutation"} { ${root} } ${fragments.join(" ")}`;
    }),
);

const maxBodyBytes = 1024 * 1024;

/** Items made by `item`, as many as `count` asks, fewer when the JSON would pass `room` bytes. */
function listFitting(item: (index: number) => unknown, count: number, room: number): unknown[] {
  const list: unknown[] = [];
  let size = 2;
  for (let index = 0; index < count; index++) {
    const value = item(index);
    size += JSON.stringify(value).length + 1;
    if (size > room) break;
    list.push(value);
  }
  return list;
}

export interface ListRequest {
  body: string;
  /** Sent with the admin's access token. */
  asAdmin: boolean;
}

const lengths = fc.oneof(
  fc.constantFrom(0, 1, 100, 101, 999, 1000, 1001, 100_000, 340_000, 1_000_000),
  fc.nat(400_000),
);

/** Every list argument of the schema (and a scalar given a list), up to the body limit. */
export function listRequests(ids: { known: string; target: string }): fc.Arbitrary<ListRequest> {
  const representations = [
    () => ({}),
    () => ({ __typename: "User", id: ids.known }),
    (index: number) => ({ __typename: "User", id: `${index}` }),
    () => ({ __typename: "Query" }),
    () => null,
    () => 1,
    () => "User",
  ];
  const roles = [
    () => "admin",
    () => "user",
    (index: number) => `r${index.toString(36)}`,
    () => "",
    () => "Not A Role",
    () => 1,
    () => null,
  ];
  const aliased = (field: string) => Array.from({ length: 15 }, (_, index) => `a${index}: ${field}`).join(" ");
  const entitySelections = [
    "__typename ... on User { id username email }",
    `... on User { id username createdAt ${aliased("id")} }`,
    `... on User { id ${aliased("email")} roles lockedAt totpEnabled emailVerified }`,
  ];
  const requests = [
    ...entitySelections.map((selection) => ({
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`,
      items: representations,
      variables: (list: unknown[]) => ({ r: list }),
    })),
    {
      query: "mutation($id: ID!, $r: [String!]!) { setUserRoles(id: $id, roles: $r) { id roles } }",
      items: roles,
      variables: (list: unknown[]) => ({ id: ids.target, r: list }),
    },
    {
      query: "query($id: ID!) { user(id: $id) { id } }",
      items: representations,
      variables: (list: unknown[]) => ({ id: list }),
    },
  ];
  return fc
    .record({
      request: fc.nat(requests.length - 1),
      item: fc.nat(representations.length - 1),
      count: lengths,
      asAdmin: fc.boolean(),
      literal: fc.boolean(),
    })
    .map(({ request, item, count, asAdmin, literal }) => {
      const { query, items, variables } = requests[request]!;
      const make = items[item % items.length]!;
      if (literal && request < entitySelections.length) {
        // Written into the query, where the token limit bounds the list.
        const list = Array.from({ length: Math.min(count, 2_000) }, () => "{}").join(", ");
        return { body: JSON.stringify({ query: `{ _entities(representations: [${list}]) { __typename } }` }), asAdmin };
      }
      const room = maxBodyBytes - JSON.stringify({ query, variables: variables([]) }).length;
      return { body: JSON.stringify({ query, variables: variables(listFitting(make, count, room)) }), asAdmin };
    });
}
