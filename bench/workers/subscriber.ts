// A load-generator process holding graphql-ws subscriptions (messageSent or the bare server's
// equivalent) and recording when each message arrives. Driven over IPC by SubscriberPool.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { now } from '../lib/clock';
import type { Receipts, SubscriptionSpec, WorkerReply, WorkerRequest } from '../lib/subscriber-protocol';

const OPEN_CONCURRENCY = 100;
const clients: Client[] = [];
let receipts: Receipts = {};
let errors = 0;
const errorSamples = new Set<string>();

function failed(error: unknown): void {
  errors++;
  if (errorSamples.size < 5) errorSamples.add(error instanceof Error ? error.message : JSON.stringify(error).slice(0, 300));
}

function record(clientMessageId: string, at: number): void {
  (receipts[clientMessageId] ??= []).push(at);
}

/** Connects (waiting for connection_ack) and subscribes; the subscription itself is live once the server has run its resolver. */
function open(spec: SubscriptionSpec): Promise<boolean> {
  return new Promise((resolve) => {
    const client = createClient({
      url: spec.url,
      webSocketImpl: WebSocket,
      connectionParams: spec.authorization ? { authorization: spec.authorization } : {},
      lazy: false,
      retryAttempts: 0,
      keepAlive: 0,
      onNonLazyError: () => resolve(false),
      on: { connected: () => resolve(true), closed: () => resolve(false) },
    });
    clients.push(client);
    client.subscribe<{ messageSent: { clientMessageId: string } }>(
      { query: spec.query, variables: spec.variables },
      {
        next: (value) => {
          const at = now();
          if (value.data) record(value.data.messageSent.clientMessageId, at);
          else failed(value.errors);
        },
        error: failed,
        complete: () => undefined,
      },
    );
  });
}

async function openAll(specs: readonly SubscriptionSpec[]): Promise<{ connected: number; failed: number }> {
  let connected = 0;
  for (let i = 0; i < specs.length; i += OPEN_CONCURRENCY) {
    const results = await Promise.all(specs.slice(i, i + OPEN_CONCURRENCY).map(open));
    connected += results.filter(Boolean).length;
  }
  return { connected, failed: specs.length - connected };
}

function take(prefix: string): Receipts {
  const taken: Receipts = {};
  for (const key of Object.keys(receipts)) {
    if (key.startsWith(prefix)) {
      taken[key] = receipts[key];
      delete receipts[key];
    }
  }
  return taken;
}

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  switch (request.type) {
    case 'open':
      return { id: request.id, type: 'opened', ...(await openAll(request.specs)) };
    case 'count': {
      let n = 0;
      for (const key of Object.keys(receipts)) if (key.startsWith(request.prefix)) n += receipts[key].length;
      return { id: request.id, type: 'count', receipts: n, errors, errorSamples: [...errorSamples] };
    }
    case 'collect':
      return { id: request.id, type: 'collected', receipts: take(request.prefix) };
    case 'close':
      await Promise.all(clients.map((c) => c.dispose()));
      receipts = {};
      return { id: request.id, type: 'closed' };
    default: {
      const unknown: never = request;
      throw new Error(`Unknown request ${JSON.stringify(unknown)}`);
    }
  }
}

process.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (reply) => process.send!(reply),
    (err: unknown) => process.send!({ id: request.id, type: 'failed', error: String(err) } satisfies WorkerReply),
  );
});
// The parent went away (finished or killed): so do we.
process.on('disconnect', () => process.exit(0));
