import { makeExecutableSchema } from '@graphql-tools/schema';
import type { INestApplication } from '@nestjs/common';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticate, contextFor, type Authentication } from './api-context';
import type { ApiService } from './api.service';
import { GraphQLError } from 'graphql';
import { apiError, publicError } from './errors';
import { apiMetrics } from './metrics/api-metrics';
import { Operations } from './edge/operations';
import { buildResolvers } from './resolvers';

type SocketExtra = {
  presenceField?: string;
  expiry?: NodeJS.Timeout;
  /** Who the connection_init token named (verified once per socket; the socket closes when it expires). */
  auth?: Authentication;
};

/** Close code: the user holds WS_MAX_SOCKETS_PER_USER sockets already (this one is counted, then closed). */
export const TOO_MANY_SOCKETS = 4430;

/** The longest delay a Node timer keeps (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Closes the socket with 4401 once `at` (epoch ms) has passed, however far off that is. */
function closeWhenExpired(extra: SocketExtra & { socket: WebSocket }, at: number): void {
  const delay = Math.max(0, at - Date.now());
  extra.expiry = setTimeout(() => (delay > MAX_TIMER_MS ? closeWhenExpired(extra, at) : extra.socket.close(CloseCode.Unauthorized, 'Token expired')), Math.min(delay, MAX_TIMER_MS));
}

/**
 * graphql-ws on the same path as HTTP, on the schema Nest built. The token travels in the
 * connection_init payload; a missing, bad or expired one closes the socket with 4401.
 */
export function attachGraphqlWs(app: INestApplication, api: ApiService, schemaPath: string): WebSocketServer {
  // The contract's SDL with the same resolvers as HTTP, built directly: the schema Nest merges
  // for Mercurius leaves subscription fields without a callable resolver.
  const schema = makeExecutableSchema({ typeDefs: readFileSync(schemaPath, 'utf8'), resolvers: buildResolvers(api) });
  const limits = api.settings.api;
  // Frames above the limit close the socket (1009) before they are buffered whole, authenticated or not.
  const wss = new WebSocketServer({ server: app.getHttpServer() as Server, path: '/graphql', maxPayload: limits.wsMaxPayloadBytes });
  const operations = new Operations(schema);
  useServer<Record<string, unknown>, SocketExtra>(
    {
      schema,
      onSubscribe: (ctx, _id, { query, variables, operationName }) => {
        // This operation is counted already.
        if (Object.keys(ctx.subscriptions).length > limits.wsMaxOperationsPerSocket) {
          return [apiError('RATE_LIMITED', `At most ${limits.wsMaxOperationsPerSocket} operations may run at once on one socket (WS_MAX_OPERATIONS_PER_SOCKET): complete one first`)];
        }
        const errors = operations.check(query, variables ?? undefined, operationName ?? undefined);
        if (errors.length > 0) return errors;
        // A context per operation: its DataLoaders cache for that operation only, never for the socket's lifetime.
        const contextValue = contextFor(api, ctx.extra.auth!);
        return { schema, document: operations.prepare(query).document!, operationName, variableValues: variables, contextValue };
      },
      execute: operations.execute,
      subscribe: operations.subscribe,
      // As over HTTP: contract codes, and no internal failure's message (a driver's) reaches the client.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors?.length ? { ...result, errors: result.errors.map((e) => (e instanceof GraphQLError ? publicError(e).toJSON() : e)) } : undefined,
      onConnect: async (ctx) => {
        const auth = await authenticate(api, ctx.connectionParams?.authorization);
        const viewer = auth.viewer;
        if (!viewer) {
          // 1013 (try again later) when the token could not be checked at all.
          ctx.extra.socket.close(auth.authCode === 'UNAVAILABLE' ? 1013 : CloseCode.Unauthorized, auth.authError ?? 'Unauthorized');
          return false;
        }
        ctx.extra.auth = auth;
        // The upgrade request (its headers, its socket's parser state) is not needed again: not kept for the socket's lifetime.
        delete (ctx.extra as { request?: unknown }).request;
        const socket = ctx.extra.socket;
        const field = await api.presence.connected(viewer.userId);
        if (socket.readyState !== socket.OPEN) {
          // Closed while it was being accepted: onClose has run already and found nothing to undo.
          await api.presence.disconnected(field).catch(() => undefined);
          return false;
        }
        ctx.extra.presenceField = field;
        apiMetrics.socketsOpen.inc();
        const sockets = await api.presence.socketCount(viewer.userId);
        if (socket.readyState !== socket.OPEN) return false; // closed meanwhile: onClose undid the above
        if (sockets > limits.wsMaxSocketsPerUser) {
          socket.close(TOO_MANY_SOCKETS, `At most ${limits.wsMaxSocketsPerUser} sockets per user (WS_MAX_SOCKETS_PER_USER)`);
          return false;
        }
        if (viewer.expiresAt !== undefined) closeWhenExpired(ctx.extra, viewer.expiresAt + api.settings.api.jwtLeewaySeconds * 1000);
        return true;
      },
      onClose: async (ctx) => {
        clearTimeout(ctx.extra.expiry);
        if (ctx.extra.presenceField) {
          apiMetrics.socketsOpen.dec();
          // During shutdown Redis may be gone already: the socket's field then lapses by itself.
          await api.presence.disconnected(ctx.extra.presenceField).catch(() => undefined);
        }
      },
    },
    wss,
    12_000, // keep-alive pings
  );
  return wss;
}
