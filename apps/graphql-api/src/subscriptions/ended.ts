import { apiError } from '../errors';

/** A subscription's last payload: its field's resolver throws the error (graphql-ws then completes it). */
export type Ended = { readonly ended: Error };

/** Resolves a payload, or throws the error that ends the subscription. */
export const payloadOrEnd =
  <P, K extends keyof P>(field: K) =>
  (payload: P | Ended): P[K] => {
    if ('ended' in (payload as object)) throw (payload as Ended).ended;
    return (payload as P)[field];
  };

export const noLongerMember = (conversationId: string) =>
  apiError('FORBIDDEN', `You are no longer a member of conversation ${conversationId}; this subscription has ended`);
