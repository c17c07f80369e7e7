/**
 * Every environment variable Parley reads, with its default and meaning.
 * The README's configuration table and docker-compose.yml are checked against this list
 * by a unit test, so the three cannot drift apart.
 */
export interface EnvVarDoc {
  name: string;
  default: string;
  meaning: string;
}

export const ENV_VARS: readonly EnvVarDoc[] = [
  { name: 'KAFKA_BROKERS', default: '127.0.0.1:9092', meaning: 'Comma-separated Kafka bootstrap brokers.' },
  { name: 'KAFKA_CLIENT_ID', default: 'parley', meaning: 'Kafka client id prefix (the app name is appended).' },
  { name: 'EVENTS_TOPIC', default: 'parley.events.v1', meaning: 'The compacted Kafka topic holding every event.' },
  { name: 'EVENTS_TOPIC_PARTITIONS', default: '12', meaning: 'Partitions of the events topic when the project creates it.' },
  { name: 'CASSANDRA_CONTACT_POINTS', default: '127.0.0.1:9042', meaning: 'Comma-separated Cassandra host:port list.' },
  { name: 'CASSANDRA_LOCAL_DC', default: 'datacenter1', meaning: 'Local data centre for the Cassandra load-balancing policy.' },
  { name: 'CASSANDRA_KEYSPACE', default: 'parley', meaning: 'Keyspace of the read models.' },
  { name: 'CASSANDRA_REPLICATION_FACTOR', default: '1', meaning: 'Replication factor used when the project creates the keyspace.' },
  { name: 'REDIS_URL', default: 'redis://127.0.0.1:6379', meaning: 'Redis for presence views and live-update pub/sub.' },
  { name: 'COMMAND_SERVICE_GRPC_URL', default: '127.0.0.1:50051', meaning: 'Where the command service listens for gRPC (host:port); clients dial the same.' },
  { name: 'COMMAND_SERVICE_ADVERTISED_URL', default: '', meaning: 'Where other command-service instances reach this one to forward commands of its partitions (host:port); empty: COMMAND_SERVICE_GRPC_URL.' },
  { name: 'COMMAND_SERVICE_HTTP_PORT', default: '4101', meaning: 'Health and metrics port of the command service (on 127.0.0.1 unless HTTP_HOST says otherwise).' },
  { name: 'COMMAND_FENCING', default: 'lease', meaning: 'How a command-service instance that lost its partitions is stopped from appending (docs/adr/0008): lease (stops when its group membership goes unconfirmed; no cost per append) or transaction (a Kafka transaction per append; the broker fences; slower).' },
  { name: 'COMMAND_TIMEOUT_MS', default: '5000', meaning: 'How long a command may wait for its partition (read from the log after a rebalance, or a new owner) before it fails as UNAVAILABLE.' },
  { name: 'COMMAND_STATE_MAX_CONVERSATIONS', default: '1000', meaning: 'Conversations whose decision state a command-service instance keeps in memory per owned partition; beyond that the least recently used are saved as snapshots in Cassandra and dropped, and restored on their next command (docs/adr/0016).' },
  { name: 'COMMAND_CHECKPOINT_INTERVAL_MS', default: '30000', meaning: 'How often a command-service partition writer saves a checkpoint (the snapshots of the conversations changed since the last one, and the offset they hold through), when anything changed; a new owner of the partition reads the log from there (docs/adr/0016).' },
  { name: 'PROJECTOR_HTTP_PORT', default: '4102', meaning: 'Health, status and metrics port of the projector.' },
  { name: 'PROJECTOR_CHUNK_SIZE', default: '200', meaning: 'Events a projection applies and checkpoints at a time.' },
  { name: 'PROJECTOR_REBUILD_CHUNK_SIZE', default: '2000', meaning: 'Events a rebuild (a new version built from the start of the log) applies and checkpoints at a time.' },
  { name: 'API_PORT', default: '4000', meaning: 'Port of the GraphQL API (HTTP POST /graphql and graphql-ws on the same path).' },
  { name: 'PARLEY_MODE', default: 'production', meaning: 'production or development. Only in development does the API accept the public default JWT_SECRET (npm start sets development); in production it refuses to start with it.' },
  { name: 'JWT_SECRET', default: 'parley-dev-secret-change-me', meaning: 'HS256 secret (UTF-8, at least 16 characters) for tokens signed with a shared secret; empty: HS256 tokens are refused (set JWT_JWKS_URL). The default is public: refused unless PARLEY_MODE=development.' },
  { name: 'JWT_JWKS_URL', default: '', meaning: 'JSON Web Key Set of your OAuth 2.0 / OIDC provider (e.g. https://issuer/.well-known/jwks.json): RS/PS/ES256-512 and EdDSA tokens are verified against it (keys cached, fetched again for an unknown key id). Requires JWT_ISSUER.' },
  { name: 'JWT_ISSUER', default: '', meaning: 'Required `iss` claim of every token, when set (required with JWT_JWKS_URL).' },
  { name: 'JWT_AUDIENCE', default: '', meaning: 'Required `aud` claim of every token, when set.' },
  { name: 'JWT_LEEWAY_SECONDS', default: '30', meaning: 'Clock tolerance for token expiry (`exp`); a socket closes with 4401 this long after its token expires.' },
  { name: 'WS_MAX_PAYLOAD_BYTES', default: '65536', meaning: 'Largest graphql-ws frame the API accepts (before authentication too); a larger one closes the socket with 1009.' },
  { name: 'WS_MAX_OPERATIONS_PER_SOCKET', default: '100', meaning: 'Operations (subscriptions, queries) one graphql-ws socket may run at once; one more is answered RATE_LIMITED.' },
  { name: 'WS_MAX_SOCKETS_PER_USER', default: '20', meaning: 'graphql-ws sockets one user may hold open across all API instances; one more is closed with 4430.' },
  { name: 'SUBSCRIPTION_QUEUE_LIMIT', default: '1000', meaning: 'Messages that may wait for one slow messageSent subscriber; one more drops them and the subscription catches up from the timeline (nothing skipped, memory bounded).' },
  { name: 'CONSISTENCY_TIMEOUT_MS', default: '5000', meaning: 'How long a query with consistentWith waits for the projections before UNAVAILABLE.' },
  { name: 'RATE_LIMIT_PER_SECOND', default: '50', meaning: 'Mutations per second a user may make, sustained (shared by all API instances).' },
  { name: 'RATE_LIMIT_BURST', default: '200', meaning: 'Mutations a user may make at once before the per-second rate applies.' },
  { name: 'HTTP_HOST', default: '127.0.0.1', meaning: 'Interface the apps\' HTTP servers bind to (0.0.0.0 in containers).' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'What the command service, projector and API log: error, warn, info or debug, and everything more severe.' },
];

export const envDefault = (name: string): string => {
  const doc = ENV_VARS.find((v) => v.name === name);
  if (!doc) throw new Error(`Undocumented environment variable ${name}: add it to ENV_VARS`);
  return doc.default;
};
