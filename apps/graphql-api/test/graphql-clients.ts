import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphqlResponse<T> {
  readonly data: T;
  readonly errors?: Array<{ message: string; extensions: { code: string } }>;
}

/** GraphQL over HTTP POST to the API at `url` (host:port) as the bearer of `token`. */
export async function postGraphql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphqlResponse<T>> {
  const response = await fetch(`http://${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphqlResponse<T>;
}

/**
 * A graphql-ws socket to the API at `url` as the bearer of `token`, kept open between operations
 * (a lazy client closes it with 1000 when idle); `state` says whether it was acknowledged and how it closed.
 */
export function openSocket(url: string, token: string): { client: Client; state: { connected: boolean; closedWith?: number } } {
  const state: { connected: boolean; closedWith?: number } = { connected: false };
  const client = createClient({
    url: `ws://${url}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: { connected: () => (state.connected = true), closed: (event) => (state.closedWith = (event as { code: number }).code) },
  });
  return { client, state };
}

/** Starts one operation on a socket; its results and its error arrive in the returned object. */
export function run(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const outcome: { results: unknown[]; error?: unknown; dispose: () => void } = { results: [], dispose: () => undefined };
  outcome.dispose = client.subscribe({ query, variables }, { next: (r) => outcome.results.push(r), error: (e) => (outcome.error = e), complete: () => undefined });
  return outcome;
}
