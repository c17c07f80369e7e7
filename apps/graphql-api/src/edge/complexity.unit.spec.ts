import { buildSchema, parse, validate } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNotTooComplex, complexityOf, complexityRule, MAX_COMPLEXITY } from './complexity';

jest.mock('graphql-query-complexity', () => {
  const actual = jest.requireActual('graphql-query-complexity');
  return { ...actual, getComplexity: jest.fn(actual.getComplexity) };
});
const computed = getComplexity as jest.MockedFunction<typeof getComplexity>;

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

  describe('checked before execution (assertNotTooComplex), cached per document', () => {
    beforeEach(() => computed.mockClear());
    /** The cost on a fresh document, so never from the cache. */
    const fresh = (query: string, variables: Record<string, unknown>) => complexityOf(schema, parse(query), variables);
    const outcome = (run: () => number) => {
      try {
        return run();
      } catch (err) {
        return `${(err as Error).constructor.name}: ${(err as Error).message}`;
      }
    };

    it('gives the cost getComplexity gives, whatever the variables, and refuses the same operations', () => {
      const query = `query($n: Int, $ids: [ID!]!, $skip: Boolean! = false, $id: ID!, $c: Cursor) {
        conversation(id: $id, consistentWith: $c) { messages(last: $n) { edges { node { id } } } members @skip(if: $skip) { userId presence { online } } }
        inbox(first: 100) { edges { node { conversation { messages(first: $n) { edges { node { id body } } } } } } }
        presence(userIds: $ids) { userId }
      }`;
      const document = parse(query);
      const variants: Array<Record<string, unknown>> = [
        { n: 5, ids: ['a'], id: 'g_1' },
        { n: 5, ids: ['a'], id: 'g_2', c: 'x' },
        { n: 5, ids: ['a', 'b', 'c'], id: 'g_1' },
        { n: 5, ids: ['a'], id: 'g_1', skip: true },
        { n: null, ids: ['a'], id: 'g_1' },
        { ids: ['a'], id: 'g_1' },
        { n: 200, ids: ['a'], id: 'g_1' },
        { n: 5, ids: [], id: 'g_1' },
        { n: 'five', ids: ['a'], id: 'g_1' }, // does not coerce
        { n: 5, ids: ['a'] }, // $id missing
        { n: 5, ids: ['a'], id: null },
        { n: 5, ids: ['a'], id: 'g_1' },
      ];
      for (const round of [1, 2]) {
        for (const variables of variants) {
          expect([round, variables, outcome(() => complexityOf(schema, document, variables))]).toEqual([round, variables, outcome(() => fresh(query, variables))]);
          const refused = (vars: Record<string, unknown>, doc = document) => outcome(() => (assertNotTooComplex(schema, doc, vars), 0));
          expect(refused(variables)).toEqual(refused(variables, parse(query)));
        }
      }
      expect(outcome(() => complexityOf(schema, document, { n: 200, ids: ['a'], id: 'g_1' }))).toBeGreaterThan(MAX_COMPLEXITY);
    });

    it('computes once per document when only the values of other variables change (sendMessage)', () => {
      const document = parse('mutation($input: SendMessageInput!) { sendMessage(input: $input) { id cursor body } }');
      const costs = Array.from({ length: 5 }, (_, i) => complexityOf(schema, document, { input: { conversationId: 'g_1', body: `hello ${i}`, clientMessageId: `c-${i}` } }));
      expect(new Set(costs)).toEqual(new Set([4]));
      expect(computed).toHaveBeenCalledTimes(1);
      // Variables that do not coerce are never served from the cache: getComplexity refuses them each time.
      for (let i = 0; i < 2; i++) expect(() => complexityOf(schema, document, { input: { conversationId: 'g_1', body: 7 } })).toThrow(/got invalid value/);
      expect(computed).toHaveBeenCalledTimes(3);
    });

    it('computes once per document whose variables cannot change its cost', () => {
      const inbox = parse('{ inbox(first: 100) { edges { node { unreadCount } } } }');
      expect(complexityOf(schema, inbox, {})).toBe(complexityOf(schema, inbox, { unused: 1 }));
      const paged = parse('query($n: Int) { inbox(first: $n) { edges { node { unreadCount } } } }');
      expect([complexityOf(schema, paged, { n: 10 }), complexityOf(schema, paged, { n: 10 }), complexityOf(schema, paged, { n: 20 })]).toEqual([
        fresh('query($n: Int) { inbox(first: $n) { edges { node { unreadCount } } } }', { n: 10 }),
        fresh('query($n: Int) { inbox(first: $n) { edges { node { unreadCount } } } }', { n: 10 }),
        fresh('query($n: Int) { inbox(first: $n) { edges { node { unreadCount } } } }', { n: 20 }),
      ]);
      expect(computed).toHaveBeenCalledTimes(1 + 3 + 3); // a document whose variables set a page size is computed every time
    });
  });
});
