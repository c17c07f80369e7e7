// The bare graphql-ws edge for the raw-part comparison: graphql-js, one process, no auth, no
// Kafka/Cassandra/Redis. sendMessage (HTTP POST) emits to an in-memory emitter; messageSent
// (graphql-ws) listens to it. Same field selection and message shape as the real API.
import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { randomUUID } from 'node:crypto';
import { EventEmitter, on } from 'node:events';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const typeDefs = `
  type Message { id: ID! clientMessageId: String! conversationId: ID! senderId: ID! body: String! sentAt: String! cursor: String! }
  input SendMessageInput { conversationId: ID! body: String! clientMessageId: String! }
  type Query { ok: Boolean! }
  type Mutation { sendMessage(input: SendMessageInput!): Message! }
  type Subscription { messageSent(conversationId: ID!): Message! }
`;

interface Message {
  id: string;
  clientMessageId: string;
  conversationId: string;
  senderId: string;
  body: string;
  sentAt: string;
  cursor: string;
}

const messages = new EventEmitter().setMaxListeners(0);
let offset = 0;

const schema = makeExecutableSchema({
  typeDefs,
  resolvers: {
    Query: { ok: () => true },
    Mutation: {
      sendMessage: (_: unknown, { input }: { input: { conversationId: string; body: string; clientMessageId: string } }): Message => {
        const message = { id: randomUUID(), ...input, senderId: 'bench', sentAt: new Date().toISOString(), cursor: String(offset++) };
        messages.emit(input.conversationId, message);
        return message;
      },
    },
    Subscription: {
      messageSent: {
        subscribe: (_: unknown, { conversationId }: { conversationId: string }) => on(messages, conversationId),
        resolve: ([message]: [Message]) => message,
      },
    },
  },
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: Record<string, unknown> };
    const result = await graphql({ schema, source: query, variableValues: variables });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  });
});
useServer({ schema }, new WebSocketServer({ server, path: '/graphql' }));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
