import { buildSchema, parse, validate } from 'graphql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { complexityRule, MAX_COMPLEXITY } from './complexity';

const schema = buildSchema(readFileSync(join(__dirname, '../schema/parley.graphql'), 'utf8'));
const check = (query: string, variables: Record<string, unknown> = {}) => validate(schema, parse(query), [complexityRule(variables)]);

describe('query complexity limit', () => {
  it('lets an everyday inbox with members and presence through', () => {
    expect(check('{ inbox(first: 100) { edges { node { unreadCount conversation { id title members { userId presence { online } } } } } } }')).toEqual([]);
  });

  it('refuses pages of pages (100 conversations x 200 messages) with BAD_USER_INPUT and the cost', () => {
    const errors = check('{ inbox(first: 100) { edges { node { conversation { messages(last: 200) { edges { node { id body sentAt senderId } } } } } } } }');
    expect(errors).toHaveLength(1);
    expect(errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(errors[0].message).toMatch(new RegExp(`too complex \\(cost \\d+, at most ${MAX_COMPLEXITY}\\)`));
  });

  it('takes page sizes from variables', () => {
    const query = 'query($n: Int) { inbox(first: 100) { edges { node { conversation { messages(first: $n) { edges { node { id body sentAt } } } } } } } }';
    expect(check(query, { n: 10 })).toEqual([]);
    expect(check(query, { n: 200 })).toHaveLength(1);
  });

  it('counts presence by the number of users asked for', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `"u${i}"`).join(',');
    expect(check(`{ presence(userIds: [${ids}]) { userId online lastSeenAt } }`)).toEqual([]);
  });
});
