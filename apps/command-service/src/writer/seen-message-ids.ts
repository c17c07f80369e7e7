import { BloomFilter } from '@parley/projections';

const PER_FILTER = 100_000;

/**
 * Every message id a partition writer has seen, summarised in Bloom filters (about 1.8 bytes
 * an id, 0.1% false positives): an id it cannot hold is certainly new, so a send in a long
 * conversation needs no read-model lookup; only a retry of an old message (or a rare false
 * positive) does. Filters are added as they fill.
 */
export class SeenMessageIds {
  private readonly filters = [new BloomFilter(PER_FILTER)];
  private inLast = 0;

  add(messageId: string): void {
    if (this.inLast >= PER_FILTER) {
      this.filters.push(new BloomFilter(PER_FILTER));
      this.inLast = 0;
    }
    this.filters.at(-1)!.add(messageId);
    this.inLast++;
  }

  mayHave(messageId: string): boolean {
    return this.filters.some((f) => f.mayHave(messageId));
  }
}
