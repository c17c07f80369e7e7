import {
  ConversationAlreadyExistsError,
  ConversationNotFoundError,
  describeValue,
  DomainError,
  InvalidMessageBodyError,
} from './domain-errors';

describe('DomainError', () => {
  it('carries a stable code, a kind for the edge and the class name', () => {
    const error = new InvalidMessageBodyError('body', 'body must be 1 to 4000 characters (got 0)');
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      code: 'MESSAGE.INVALID_BODY',
      kind: 'BAD_USER_INPUT',
      field: 'body',
      name: 'InvalidMessageBodyError',
      message: 'body must be 1 to 4000 characters (got 0)',
    });
  });

  it('reports an unknown or hidden conversation as NOT_FOUND', () => {
    expect(new ConversationNotFoundError('g_x')).toMatchObject({
      code: 'CONVERSATION.NOT_FOUND',
      kind: 'NOT_FOUND',
      message: 'conversation "g_x" was not found',
    });
  });

  it('reports a taken conversation id as CONFLICT', () => {
    expect(new ConversationAlreadyExistsError('g_x')).toMatchObject({
      code: 'CONVERSATION.ALREADY_EXISTS',
      kind: 'CONFLICT',
    });
  });
});

describe('describeValue', () => {
  it('quotes strings', () => {
    expect(describeValue('a"b')).toBe('"a\\"b"');
  });

  it('cuts strings after 80 code points so a huge input is not echoed back', () => {
    expect(describeValue('\u{1F600}'.repeat(81))).toBe(`"${'\u{1F600}'.repeat(80)}"…`);
    expect(describeValue('a'.repeat(80))).toBe(`"${'a'.repeat(80)}"`);
  });

  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    [12.5, '12.5'],
    [true, 'true'],
    [[1], 'an array'],
    [{}, 'a value of type object'],
  ])('describes %p as %s', (value, description) => {
    expect(describeValue(value)).toBe(description);
  });
});
