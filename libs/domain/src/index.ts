export * from './log-position';
export * from './ids';
export * from './domain-errors';
export * from './validation';
export * from './decider';
export * from './conversation.events';
export * from './conversation.commands';
export * from './conversation.state';
export { MessageHistory, RECENT_MESSAGES } from './message-history';
export { snapshotOf, restoreConversation, type ConversationSnapshot } from './conversation.snapshot';
export {
  conversationDecider,
  decide as decideConversation,
  evolve as evolveConversation,
  initialState as initialConversationState,
} from './conversation.decider';
