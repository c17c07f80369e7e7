import { GraphQLError } from 'graphql';
import { apiError, fromCommandError, publicError } from './errors';

describe('what a client sees of an error', () => {
  it('keeps a contract error as it is', () => {
    const error = apiError('NOT_FOUND', 'No conversation c1');
    expect(publicError(error)).toBe(error);
  });

  it("shows GraphQL's own errors (parse, validation, variables) as BAD_USER_INPUT with their message", () => {
    const shown = publicError(new GraphQLError('Variable "$id" of required type "ID!" was not provided.'));
    expect(shown.message).toBe('Variable "$id" of required type "ID!" was not provided.');
    expect(shown.extensions.code).toBe('BAD_USER_INPUT');
  });

  it("hides an internal failure's message behind a correlation id that the log carries with the cause", () => {
    const logged: string[] = [];
    const driver = new Error('All host(s) tried for query failed. First host tried, 10.0.0.7:9042: Host considered as DOWN');
    const shown = publicError(new GraphQLError(driver.message, { path: ['conversation'], originalError: driver }), (m) => logged.push(m));
    const { code, correlationId } = shown.extensions as { code: string; correlationId: string };
    expect(code).toBe('INTERNAL');
    expect(shown.message).toBe(`Internal error (correlation id ${correlationId})`);
    expect(shown.message).not.toContain('10.0.0.7');
    expect(shown.path).toEqual(['conversation']);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(correlationId);
    expect(logged[0]).toContain('Host considered as DOWN');
    expect(logged[0]).toContain('conversation');
  });

  it('treats a command-service failure without a gRPC status as internal, never showing its message', () => {
    const shown = fromCommandError(new Error('Cannot read properties of undefined (reading "x")'));
    expect(shown.extensions.code).toBe('INTERNAL');
    expect(shown.message).toMatch(/^Internal error \(correlation id [0-9a-f-]{36}\)$/);
  });
});
