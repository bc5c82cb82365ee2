/**
 * Redis Cluster's sharding, as the servers compute it: a key belongs to one of 16384 slots, and
 * only keys of one slot may meet in a transaction or a script. A key's hash tag — the text between
 * its first `{` and the next `}`, when not empty — is what is hashed in its place, so keys that
 * share a tag share a slot.
 */

export const slotCount = 16384;

/** CRC-16/XMODEM, the checksum Redis Cluster reduces to a slot. */
const crcTable = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ crcTable[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The slot Redis Cluster stores `key` in. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key);
  const open = bytes.indexOf(0x7b); // {
  const close = open === -1 ? -1 : bytes.indexOf(0x7d, open + 1); // }
  const hashed = close > open + 1 ? bytes.subarray(open + 1, close) : bytes;
  return crc16(hashed) % slotCount;
}

/**
 * `value` as a hash tag: keys that contain it land in one slot. Braces and `%` in the value are
 * escaped, so a value chosen by a client (a login name) cannot end the tag early; an empty value,
 * which Redis would not take as a tag, is written `%`, which no escaped value is.
 */
export function slotTag(value: string): string {
  const escaped = value.replace(/[%{}]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return `{${escaped || "%"}}`;
}

/** `items` grouped by the slot of their key, in their order. */
export function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = keySlot(keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return [...groups.values()];
}
