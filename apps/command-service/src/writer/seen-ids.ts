import { BloomFilter } from '@parley/projections';

const PER_FILTER = 100_000;

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
