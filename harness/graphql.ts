/**
 * The `data` of a response whose caller names no type: the fields its document selected, a shape
 * the document knows and the compiler cannot see. Tests read it as their document wrote it.
 */
// biome-ignore lint/suspicious/noExplicitAny: JSON shaped by a GraphQL document the compiler cannot read
export type UntypedData = Record<string, any>;

export interface GraphQLResponse<T = UntypedData> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

/** One GraphQL request over real HTTP. */
export async function graphql<T = UntypedData>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, "status">;
  return { status: response.status, ...body };
}

/** Fragment F0 spreads F1 twice, F1 spreads F2 twice, and so on: 2^(count-1) paths to the last one. */
export function doublingFragments(count: number, type: string, fields: (index: number) => string): string {
  return Array.from({ length: count }, (_, index) => {
    const spreads = index < count - 1 ? ` ...F${index + 1} ...F${index + 1}` : "";
    return `fragment F${index} on ${type} { ${fields(index)}${spreads} }`;
  }).join(" ");
}

export function errorCodes(response: GraphQLResponse): string[] {
  return (response.errors ?? []).map((error) => String(error.extensions?.code));
}

export const mutations = {
  register: `mutation Register($input: RegisterInput!) {
    register(input: $input) {
      accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
      user { id username email createdAt }
    }
  }`,
  login: `mutation Login($input: LoginInput!) {
    login(input: $input) {
      accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
      user { id username email createdAt }
    }
  }`,
  me: `query Me { me { id username email createdAt } }`,
};

export const sessionMutations = {
  refresh: `mutation Refresh($refreshToken: String!) {
    refreshSession(refreshToken: $refreshToken) {
      accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt user { id username }
    }
  }`,
  logout: `mutation { logout }`,
  logoutAll: `mutation { logoutAll }`,
  revokeSession: `mutation Revoke($id: ID!) { revokeSession(id: $id) }`,
  sessions: `query { sessions { id createdAt lastUsedAt userAgent current } }`,
  changePassword: `mutation Change($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {
      accessToken refreshToken user { id email }
    }
  }`,
};
