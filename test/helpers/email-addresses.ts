import fc from "fast-check";

// Generated e-mail addresses: the bare ones the server must accept (and mail exactly), and the
// hostile shapes it must refuse. The grammar they test is described in docs/api.md.

const isAscii = (text: string) => /^[\x00-\x7f]*$/.test(text);

const asciiAtext = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"];
const asciiSpecials = [..."!#$%&'*+-/=?^_`{|}~"];
/** Letters, letters with marks, and digits of several scripts that NFKC and lower-casing keep as they are. */
const unicodeUnits = [..."äöüßçñéøåæœłžšđıαβωσдэжяאבעابع日本語中文한글ไทย١٢३४", "हि", "न्", "क्ष", "ê̄"].filter(
  (unit) => unit.normalize("NFKC") === unit && unit.toLowerCase() === unit,
);

const atom = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...asciiAtext) },
      { weight: 2, arbitrary: fc.constantFrom(...asciiSpecials) },
      { weight: 3, arbitrary: fc.constantFrom(...unicodeUnits) },
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((units) => units.join(""));

const localPart = fc
  .array(atom, { minLength: 1, maxLength: 3 })
  .map((atoms) => atoms.join("."))
  .filter((local) => Buffer.byteLength(local) <= 64);

const hostLabel = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/).filter((label) => !/^..--/.test(label));
/** Internationalized domain names as their A-labels: only with an ASCII local part. */
const aLabels = ["xn--bcher-kva", "xn--mnchen-3ya", "xn--80ak6aa92e"];
const tlds = ["com", "org", "example", "io", "museum", "co.uk", "xn--p1ai"];

let counter = 0;

/**
 * A bare address as a person might type it (ASCII letters in any case, maybe surrounded by
 * whitespace), each one unique: a label of its own in the domain.
 */
export const acceptedAddress: fc.Arbitrary<string> = localPart.chain((local) =>
  fc
    .record({
      labels: fc.array(isAscii(local) ? fc.oneof(hostLabel, fc.constantFrom(...aLabels)) : hostLabel, { maxLength: 2 }),
      tld: fc.constantFrom(...tlds.filter((tld) => isAscii(local) || !tld.includes("xn--"))),
      upperCase: fc.boolean(),
      padding: fc.constantFrom("", " ", "\u3000", "\t"),
    })
    .map(({ labels, tld, upperCase, padding }) => {
      const address = `${local}@${[...labels, `u${process.pid}x${++counter}`, tld].join(".")}`;
      return `${padding}${upperCase ? address.replace(/[a-z]/g, (letter) => letter.toUpperCase()) : address}${padding}`;
    }),
);

const bareBase = fc.constantFrom(
  "x@example.com",
  "ada.lovelace@example.org",
  "ü.ñ@example.com",
  "o'brien+tag@mail.example.co.uk",
);
const other = "evil@evil.example";

/** Characters no address may hold, anywhere inside it: controls (C0, DEL, C1 with NEL), separators, spaces, invisible ones. */
export const forbiddenCharacters = [
  ...Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(code)),
  "\u007f",
  ...Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(0x80 + code)),
  " ",
  "\u00a0",
  "\u2028",
  "\u2029",
  "\u200b",
  "\u200d",
  "\u2060",
  "\ufeff",
  "\u00ad",
  "\u202e",
  "\ufe0f",
];

/** `character` somewhere strictly inside `text`, where no trimming removes it. */
const inside = (text: string, character: string, position: number) => {
  const index = 1 + (position % (text.length - 1));
  return text.slice(0, index) + character + text.slice(index);
};

/** Display names, comments, groups, lists, angle brackets, quotes, routes, literals, and forbidden characters. */
export const hostileAddress: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      bareBase,
      fc.constantFrom(
        (a: string) => `X<${a}>`,
        (a: string) => `X <${a}>`,
        (a: string) => `"X" <${a}>`,
        (a: string) => `<${a}>`,
        (a: string) => `${a}>`,
        (a: string) => `<${a}`,
        (a: string) => `${a} (comment)`,
        (a: string) => `(comment)${a}`,
        (a: string) => a.replace("@", "(comment)@"),
        (a: string) => `group: ${a};`,
        (a: string) => `X:${a}`,
        (a: string) => `${a},${other}`,
        (a: string) => `${a};${other}`,
        (a: string) => `${a},evil`,
        (a: string) => `${a};evil`,
        (a: string) => `${a}, `,
        (a: string) => `"${a.split("@")[0]}"@${a.split("@")[1]}`,
        (a: string) => `"${other}"@${a.split("@")[1]}`,
        (a: string) => a.replace("@", '\\"@'),
        (a: string) => a.replace("@", "\\@x@"),
        (a: string) => `@relay.example:${a}`,
        (a: string) => `${a}@evil.example`,
        (a: string) => `${a}.`,
        (a: string) => `.${a}`,
        (a: string) => a.replace("@", "..@"),
        (a: string) => a.replace(/@.*/, "@[127.0.0.1]"),
        (a: string) => a.replace(/@.*/, "@127.0.0.1"),
        (a: string) => a.replace(/@.*/, "@0x7f.1"),
        (a: string) => a.replace(/@.*/, "@localhost"),
        (a: string) => a.replace(/@.*/, "@-example.com"),
        (a: string) => a.replace(/@.*/, "@xn--abc.com"),
        (a: string) => a.replace(/@.*/, "@bücher.de"),
        (a: string) => a.replace("@", ""),
      ),
    )
    .map(([address, shape]) => shape(address)),
  fc
    .tuple(bareBase, fc.constantFrom(...forbiddenCharacters), fc.nat())
    .map(([address, character, position]) => inside(address, character, position)),
);
