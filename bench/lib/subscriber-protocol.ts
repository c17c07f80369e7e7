/** One graphql-ws connection holding one subscription, opened by a subscriber worker process. */
export interface SubscriptionSpec {
  /** ws://host:port/graphql */
  readonly url: string;
  readonly authorization?: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
}

/** Receive times (ms, clock.now) by clientMessageId, one per subscriber that received it. */
export type Receipts = Record<string, number[]>;

export type WorkerRequest =
  | { readonly id: number; readonly type: 'open'; readonly specs: readonly SubscriptionSpec[] }
  /** Receipts so far of messages whose clientMessageId starts with prefix. */
  | { readonly id: number; readonly type: 'count'; readonly prefix: string }
  /** Hands over (and forgets) the receipts of messages whose clientMessageId starts with prefix. */
  | { readonly id: number; readonly type: 'collect'; readonly prefix: string }
  | { readonly id: number; readonly type: 'close' };

export type WorkerReply =
  | { readonly id: number; readonly type: 'opened'; readonly connected: number; readonly failed: number }
  /** errors: subscriptions ended by an error (or a payload with errors), with a few of the messages. */
  | { readonly id: number; readonly type: 'count'; readonly receipts: number; readonly errors: number; readonly errorSamples: readonly string[] }
  | { readonly id: number; readonly type: 'collected'; readonly receipts: Receipts }
  | { readonly id: number; readonly type: 'closed' }
  | { readonly id: number; readonly type: 'failed'; readonly error: string };
