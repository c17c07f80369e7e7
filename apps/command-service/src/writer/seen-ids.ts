import { BloomFilter } from '@parley/projections';

const PER_FILTER = 100_000;

/** One filter of a SeenIds, stored: its place, how many ids it holds, its bits. */
export interface StoredFilter {
  readonly index: number;
  readonly ids: number;
  readonly bits: Uint8Array;
}

/**
 * Ids a partition writer has seen, summarised in Bloom filters (about 1.8 bytes an id, 0.1%
 * false positives): an id it cannot hold is certainly new. For message ids, a send in a long
 * conversation needs no read-model lookup (only a retry of an old message, or a rare false
 * positive, does); for the conversations it evicted, a new conversation needs no snapshot
 * lookup. Filters are added as they fill (the first with the first id).
 */
export class SeenIds {
  private readonly filters: BloomFilter[] = [];
  private inLast = 0;

  /** The ids of stored filters (see `filtersFrom`). */
  static from(stored: readonly StoredFilter[]): SeenIds {
    const ids = new SeenIds();
    for (const { bits, ids: count } of [...stored].sort((a, b) => a.index - b.index)) {
      ids.filters.push(new BloomFilter(PER_FILTER, bits));
      ids.inLast = count;
    }
    return ids;
  }

  /** How many filters it has (the last one filling). */
  get filterCount(): number {
    return this.filters.length;
  }

  /** Its filters from `index` on, to store: all but the last are full. */
  filtersFrom(index: number): StoredFilter[] {
    return this.filters.slice(index).map((filter, i) => ({
      index: index + i,
      ids: index + i === this.filters.length - 1 ? this.inLast : PER_FILTER,
      bits: filter.toBytes(),
    }));
  }

  add(id: string): void {
    if (this.filters.length === 0 || this.inLast >= PER_FILTER) {
      this.filters.push(new BloomFilter(PER_FILTER));
      this.inLast = 0;
    }
    this.filters.at(-1)!.add(id);
    this.inLast++;
  }

  mayHave(id: string): boolean {
    return this.filters.some((f) => f.mayHave(id));
  }
}
