import type { Database } from "../db/prisma.js";
import { foldIdentifier, isEmailAddress } from "../users/identity.js";

export interface NonBareEmail {
  id: string;
  username: string;
  email: string;
  /** Why the server would not store it now. */
  problem: "not a bare address" | "not folded";
}

const pageSize = 1_000;

/**
 * The accounts whose stored address the server would refuse today (stored by an older version, or
 * by SQL): not a bare address, or not in its folded form (a login cannot name it). Mail is never
 * sent to them (`Mailer.send`); an operator decides what each should be. Reads page by page, by id.
 */
export async function findNonBareEmails(database: Database): Promise<NonBareEmail[]> {
  const found: NonBareEmail[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await database.user.findMany({
      where: after ? { id: { gt: after } } : {},
      orderBy: { id: "asc" },
      take: pageSize,
      select: { id: true, username: true, email: true },
    });
    for (const user of page) {
      if (!isEmailAddress(user.email)) found.push({ ...user, problem: "not a bare address" });
      else if (foldIdentifier(user.email) !== user.email) found.push({ ...user, problem: "not folded" });
    }
    if (page.length < pageSize) return found;
    after = page.at(-1)!.id;
  }
}
