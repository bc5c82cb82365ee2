import { createDatabase, onQuery, type Database } from "../../src/db/prisma.js";
import { patientDatabaseTimeouts } from "./server.js";

/** A database client that records every SQL statement it sends, so tests can count them. */
export class QueryLog {
  readonly database: Database;
  private statements: string[] = [];

  constructor(databaseUrl: string) {
    this.database = createDatabase(databaseUrl, {
      emitQueryEvents: true,
      poolSize: 5,
      timeouts: patientDatabaseTimeouts,
    });
    onQuery(this.database, (event) => this.statements.push(event.query));
  }

  /** The statements sent while `work` ran (nothing else may use the client meanwhile). */
  async during<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
    this.statements = [];
    const result = await work();
    return { result, statements: this.statements };
  }

  close(): Promise<void> {
    return this.database.$disconnect();
  }
}
