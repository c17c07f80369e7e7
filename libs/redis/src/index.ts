export { RedisConfig } from './redis.config';
export { createRedis, type RedisClient } from './redis-client';
export { RedisPresenceMembersStore, presenceKeys, isTransientRedisError } from './redis-presence-members.store';
export { RedisChangePublisher, changesChannel, type ChangeNotification } from './change-publisher';
export { RedisRateLimiter, type RateLimitDecision } from './rate-limiter';
export {
  RedisConversationChannels,
  LiveTimelineRows,
  conversationChannel,
  type ConversationNotification,
  type LiveMessage,
  type PartitionNotifications,
} from './conversation-channel';
