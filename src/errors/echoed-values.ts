/**
 * graphql-js prints the offending input value into its coercion and validation messages; that
 * value may be a password (`Variable "$input" got invalid value { …, password: "…" }`). These
 * messages are rebuilt from the parts that are names only.
 */

// Reasons graphql-js gives after the value, reduced to the names they carry.
const namedReasons: [RegExp, (...names: string[]) => string][] = [
  [
    /Field "(\w+)" is not defined by type "(\w+)"\./,
    (field, type) => `Field "${field}" is not defined by type "${type}".`,
  ],
  [
    /Field "(\w+)" of required type "([\w![\]]+)" was not provided\./,
    (field, type) => `Field "${field}" of required type "${type}" was not provided.`,
  ],
  [
    /Expected non-nullable type "([\w![\]]+)" not to be null\./,
    (type) => `Expected non-nullable type "${type}" not to be null.`,
  ],
  [/Expected type "(\w+)" to be an object\./, (type) => `Expected type "${type}" to be an object.`],
  [/Expected type "(\w+)"\./, (type) => `Expected a value of type "${type}".`],
  [/\b(\w+) cannot represent\b/, (type) => `${type} cannot represent the value given.`],
];

function namedReason(text: string): string | undefined {
  for (const [pattern, render] of namedReasons) {
    const match = pattern.exec(text);
    if (match) return render(...match.slice(1));
  }
  return undefined;
}

/** The input path of a coercion message (`… at "input.email"; …`): names and indexes only. */
export function coercionPath(message: string): string | undefined {
  return /\bat "(\w+(?:\.\w+|\[\d+\])*)"; /.exec(message)?.[1];
}

/** A message of graphql-js with any input value it quoted taken out. */
export function withoutEchoedValues(message: string): string {
  const variable = /^Variable "\$(\w+)" got invalid value /.exec(message);
  if (variable) {
    const path = coercionPath(message);
    const reason = namedReason(message.slice(variable[0].length)) ?? "Expected a value of another type.";
    return `Variable "$${variable[1]}" got an invalid value${path ? ` at "${path}"` : ""}: ${reason}`;
  }
  const literal = /^Expected value of type "([\w![\]]+)", found /.exec(message);
  if (literal) return `Expected a value of type "${literal[1]}".`;
  if (/\bcannot represent\b/.test(message)) return namedReason(message)!;
  return message;
}
