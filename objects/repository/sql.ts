/**
 * The object's SQLite access (STYLE.md "Durable Objects"): bound parameters only, rows read back
 * defensively and mapped to camelCase plain data by the module that owns their table, so nothing
 * else touches column names. Each concern keeps its statements beside its logic (packages.ts,
 * segments.ts, releases.ts, …) and reaches SQLite through this; multi-statement invariants are
 * the caller's `transactionSync`.
 */

export type Row = Record<string, SqlStorageValue>;

export const str = (v: SqlStorageValue | undefined): string => {
  if (typeof v !== "string") throw new Error(`expected a text column, got ${typeof v}`);
  return v;
};
export const num = (v: SqlStorageValue | undefined): number => {
  if (typeof v !== "number") throw new Error(`expected a number column, got ${typeof v}`);
  return v;
};
export const optStr = (v: SqlStorageValue | undefined): string | null =>
  v === null || v === undefined ? null : str(v);
export const optNum = (v: SqlStorageValue | undefined): number | null =>
  v === null || v === undefined ? null : num(v);

export class Sql {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  all(query: string, ...params: SqlStorageValue[]): Row[] {
    return this.#sql.exec(query, ...params).toArray();
  }

  /** Rows as arrays, in the order the query selects them: for hot queries of many rows. */
  raw(query: string, ...params: SqlStorageValue[]): SqlStorageValue[][] {
    return [...this.#sql.exec(query, ...params).raw()];
  }

  first(query: string, ...params: SqlStorageValue[]): Row | null {
    return this.#sql.exec(query, ...params).toArray()[0] ?? null;
  }

  run(query: string, ...params: SqlStorageValue[]): number {
    return this.#sql.exec(query, ...params).rowsWritten;
  }

  /**
   * `SELECT … IN (…)` over many values in as few statements as the Durable Object's limit of 100
   * bound parameters allows: each statement has a fixed cost that one query per value would pay
   * a thousand times over for a batch.
   */
  allIn(query: (marks: string) => string, values: readonly string[], ...before: SqlStorageValue[]): Row[] {
    const rows: Row[] = [];
    const per = 100 - before.length;
    for (let i = 0; i < values.length; i += per) {
      const chunk = values.slice(i, i + per);
      rows.push(...this.all(query(chunk.map(() => "?").join(", ")), ...before, ...chunk));
    }
    return rows;
  }
}
