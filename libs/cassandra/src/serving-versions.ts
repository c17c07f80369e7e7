import type { ProjectionCatalog } from './projection-catalog';

export interface Versions {
  readonly timeline: number;
  readonly inbox: number;
  readonly presence: number;
}

/**
 * Which version of each projection serves reads, from the durable catalog (so every API
 * instance follows the same switch), re-read at most every `ttlMs`. A rebuild's old version
 * is dropped only seconds after the switch, so a read that started just before it finishes.
 */
export class ServingVersions {
  private cached?: { readonly at: number; readonly versions: Promise<Versions> };

  constructor(
    private readonly catalog: ProjectionCatalog,
    private readonly ttlMs = 250,
  ) {}

  get(): Promise<Versions> {
    if (!this.cached || Date.now() - this.cached.at >= this.ttlMs) {
      const versions = this.catalog.versions().then((rows) => {
        const serving = (name: string) => rows.find((r) => r.name === name)?.serving ?? 1;
        return { timeline: serving('timeline'), inbox: serving('inbox'), presence: serving('presence') };
      });
      versions.catch(() => (this.cached = undefined));
      this.cached = { at: Date.now(), versions };
    }
    return this.cached.versions;
  }

  /** Forget the cached versions (a read hit a table dropped after a switch). */
  invalidate(): void {
    this.cached = undefined;
  }
}
