import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Receipts, SubscriptionSpec, WorkerReply, WorkerRequest } from './subscriber-protocol';

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** Subscriber worker processes (bench/workers/subscriber.ts), the subscriptions dealt round-robin among them. */
export class SubscriberPool {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();

  private constructor(private readonly workers: readonly ChildProcess[]) {
    for (const worker of workers) {
      worker.on('message', (reply: WorkerReply) => {
        this.pending.get(reply.id)?.(reply);
        this.pending.delete(reply.id);
      });
    }
  }

  static start(processes: number): SubscriberPool {
    const script = join(__dirname, '../workers/subscriber.js');
    return new SubscriberPool(Array.from({ length: processes }, () => fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
  }

  get pids(): number[] {
    return this.workers.map((w) => w.pid!);
  }

  private ask(worker: ChildProcess, request: Request): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) => (reply.type === 'failed' ? reject(new Error(`subscriber worker: ${reply.error}`)) : resolve(reply)));
      worker.send({ ...request, id } as WorkerRequest);
    });
  }

  private askAll(request: Request): Promise<WorkerReply[]> {
    return Promise.all(this.workers.map((w) => this.ask(w, request)));
  }

  /** Opens every subscription (connection acknowledged; the subscription is live a moment later). */
  async open(specs: readonly SubscriptionSpec[]): Promise<{ connected: number; failed: number }> {
    const shares = this.workers.map((_, w) => specs.filter((_, i) => i % this.workers.length === w));
    const replies = await Promise.all(this.workers.map((worker, w) => this.ask(worker, { type: 'open', specs: shares[w] })));
    return replies.reduce(
      (sum, r) => (r.type === 'opened' ? { connected: sum.connected + r.connected, failed: sum.failed + r.failed } : sum),
      { connected: 0, failed: 0 },
    );
  }

  /** Receipts so far (one per subscriber and message) of messages whose clientMessageId starts with prefix; and subscription errors. */
  async count(prefix: string): Promise<{ receipts: number; errors: number; errorSamples: string[] }> {
    const replies = await this.askAll({ type: 'count', prefix });
    return replies.reduce(
      (sum, r) => (r.type === 'count' ? { receipts: sum.receipts + r.receipts, errors: sum.errors + r.errors, errorSamples: [...sum.errorSamples, ...r.errorSamples] } : sum),
      { receipts: 0, errors: 0, errorSamples: [] as string[] },
    );
  }

  /** Every receipt of messages whose clientMessageId starts with prefix, merged across workers (and forgotten there). */
  async collect(prefix: string): Promise<Receipts> {
    const merged: Receipts = {};
    for (const reply of await this.askAll({ type: 'collect', prefix })) {
      if (reply.type !== 'collected') continue;
      for (const [key, times] of Object.entries(reply.receipts)) (merged[key] ??= []).push(...times);
    }
    return merged;
  }

  async close(): Promise<void> {
    await Promise.race([this.askAll({ type: 'close' }), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    for (const worker of this.workers) worker.kill();
  }
}
