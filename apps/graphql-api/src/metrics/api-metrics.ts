import { Counter, Gauge, Histogram, register } from 'prom-client';

/** Prometheus metrics of the API (GET /metrics). */
export const apiMetrics = {
  requests: new Counter({ name: 'parley_graphql_requests_total', help: 'GraphQL HTTP requests', labelNames: ['transport'] as const }),
  errors: new Counter({ name: 'parley_graphql_errors_total', help: 'GraphQL errors by contract code', labelNames: ['code'] as const }),
  subscriptionsOpen: new Gauge({ name: 'parley_subscriptions_open', help: 'Open subscription streams on this instance' }),
  slowConsumerOverflows: new Counter({
    name: 'parley_subscription_overflows_total',
    help: 'Subscriptions that fell too far behind: their queued messages were dropped and they caught up from the timeline',
  }),
  socketsOpen: new Gauge({ name: 'parley_graphql_ws_sockets_open', help: 'Acknowledged graphql-ws connections on this instance' }),
  deliveryLatency: new Histogram({
    name: 'parley_delivery_latency_seconds',
    help: 'From a message being decided (sentAt) to its push to local subscribers',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }),
};

export const metricsText = () => register.metrics();
export const METRICS_CONTENT_TYPE = register.contentType;
