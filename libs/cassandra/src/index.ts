export { CassandraConfig } from './cassandra.config';
export { createCassandraClient, ensureKeyspace, dropKeyspace } from './cassandra-client';
