import { randomBytes } from "node:crypto";

let counter = 0;

/** Registration input that no other test or bench run uses. */
export function newAccount(prefix = "user") {
  const id = `${prefix}${process.pid}x${++counter}x${randomBytes(3).toString("hex")}`;
  return { email: `${id}@example.com`, username: id, password: `correct horse ${id}` };
}
