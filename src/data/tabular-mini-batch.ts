import type { Table } from 'apache-arrow';

/**
 * What run() receives for tabular input: an array of row objects (so `miniBatch.length`,
 * `for … of` and `map` just work) that also carries the column names, the partition key
 * value and a columnar form. The Arrow table is built on first use: scripts that only read
 * rows never pay for it, and apache-arrow is only loaded by those that ask.
 */
export interface TabularMiniBatch extends Array<Record<string, unknown>> {
  /** Column names in order. */
  readonly columns: readonly string[];
  /** Set when the input is split by partition_keys. */
  readonly partitionKeyValue: Readonly<Record<string, unknown>> | undefined;
  /** The rows as an Apache Arrow table (columnar). */
  toArrow(): Promise<Table>;
  /** The rows column by column: `{ price: [1.5, 2, …], store: ['a', …] }`. */
  toColumns(): Record<string, unknown[]>;
}

export function tabularMiniBatch(rows: Record<string, unknown>[], columns: string[], partitionKeyValue: Record<string, unknown> | undefined): TabularMiniBatch {
  const batch = rows as TabularMiniBatch;
  let arrow: Promise<Table> | undefined;
  Object.defineProperties(batch, {
    columns: { value: Object.freeze([...columns]), enumerable: false },
    partitionKeyValue: { value: partitionKeyValue ? Object.freeze({ ...partitionKeyValue }) : undefined, enumerable: false },
    toColumns: {
      enumerable: false,
      value: () => Object.fromEntries(columns.map((name) => [name, rows.map((row) => row[name] ?? null)])),
    },
    toArrow: {
      enumerable: false,
      value: () => {
        arrow ??= import('apache-arrow').then(({ tableFromJSON }) => tableFromJSON(rows.map((row) => Object.fromEntries(columns.map((name) => [name, row[name] ?? null])))));
        return arrow;
      },
    },
  });
  return batch;
}
