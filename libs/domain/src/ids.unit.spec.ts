import { createHash } from 'node:crypto';
import {
  directConversationId,
  isClientMessageId,
  isConversationId,
  isDirectConversationId,
  isGroupConversationId,
  isMessageId,
  isUserId,
  messageIdFor,
} from './ids';

/** An independent RFC 4648 base32 of the digest, read bit by bit, to check the encoder against. */
function expectedDerivedId(prefix: string, parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\n')).digest();
  const bits = [...digest].map((byte) => byte.toString(2).padStart(8, '0')).join('');
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let encoded = '';
  for (let index = 0; index < 26; index++) encoded += alphabet[parseInt(bits.slice(index * 5, index * 5 + 5), 2)];
  return prefix + encoded;
}

describe('directConversationId', () => {
  it('is the same for both orders of the pair', () => {
    expect(directConversationId('alice', 'bob')).toBe(directConversationId('bob', 'alice'));
  });

  it('differs between pairs', () => {
    expect(directConversationId('alice', 'bob')).not.toBe(directConversationId('alice', 'carol'));
    expect(directConversationId('ab', 'c')).not.toBe(directConversationId('a', 'bc'));
  });

  it('is "d_" and the first 26 base32 characters of sha256 of the sorted ids joined by a newline', () => {
    expect(directConversationId('zed', 'amy')).toBe(expectedDerivedId('d_', ['amy', 'zed']));
    expect(directConversationId('Bob', 'alice')).toBe(expectedDerivedId('d_', ['Bob', 'alice']));
  });

  it('never changes, because ids are stored (value also computed with Python base64.b32encode)', () => {
    expect(directConversationId('alice', 'bob')).toBe('d_dsyviv6r3wvwbyqfyd7dzixwlu');
  });

  it('is a well-formed direct conversation id', () => {
    const id = directConversationId('user.1@example.com', 'user_2');
    expect(isDirectConversationId(id)).toBe(true);
    expect(isConversationId(id)).toBe(true);
  });
});

describe('messageIdFor', () => {
  const conversationId = directConversationId('alice', 'bob');

  it('is deterministic', () => {
    expect(messageIdFor(conversationId, 'alice', 'c-1')).toBe(messageIdFor(conversationId, 'alice', 'c-1'));
  });

  it('never changes, because ids are stored', () => {
    expect(messageIdFor(conversationId, 'alice', 'c-1')).toBe('m_qdmhlnlu4igbin4plwj3aftult');
  });

  it('is "m_" and 26 base32 characters of sha256 of conversation, sender and client id joined by newlines', () => {
    expect(messageIdFor('g_01jnfx3c9m8q2v7k4x6b5n1t0r', 'bob', 'x')).toBe(
      expectedDerivedId('m_', ['g_01jnfx3c9m8q2v7k4x6b5n1t0r', 'bob', 'x']),
    );
  });

  it('differs when any of its inputs differs', () => {
    const base = messageIdFor(conversationId, 'alice', 'c-1');
    expect(messageIdFor(directConversationId('alice', 'carol'), 'alice', 'c-1')).not.toBe(base);
    expect(messageIdFor(conversationId, 'bob', 'c-1')).not.toBe(base);
    expect(messageIdFor(conversationId, 'alice', 'c-2')).not.toBe(base);
  });

  it('is a well-formed message id', () => {
    expect(isMessageId(messageIdFor(conversationId, 'alice', 'c-1'))).toBe(true);
  });
});

describe('isConversationId', () => {
  it.each([
    ['a group id', 'g_01jnfx3c9m8q2v7k4x6b5n1t0r'],
    ['a group id of all digits', `g_${'0'.repeat(26)}`],
    ['a direct id', `d_${'a'.repeat(24)}27`],
  ])('accepts %s', (_case, id) => {
    expect(isConversationId(id)).toBe(true);
  });

  it.each([
    ['a group id with 25 characters', `g_${'a'.repeat(25)}`],
    ['a group id with 27 characters', `g_${'a'.repeat(27)}`],
    ['a group id in upper case', `g_${'A'.repeat(26)}`],
    ['a direct id with digits outside base32', `d_${'a'.repeat(25)}1`],
    ['an unknown prefix', `x_${'a'.repeat(26)}`],
    ['a message id', `m_${'a'.repeat(26)}`],
    ['surrounding white space', ` g_${'a'.repeat(26)}`],
    ['a trailing newline', `g_${'a'.repeat(26)}\n`],
    ['empty', ''],
    ['not a string', 42],
  ])('rejects %s', (_case, id) => {
    expect(isConversationId(id)).toBe(false);
  });

  it('tells group from direct ids', () => {
    expect(isGroupConversationId(`g_${'a'.repeat(26)}`)).toBe(true);
    expect(isGroupConversationId(`d_${'a'.repeat(26)}`)).toBe(false);
    expect(isDirectConversationId(`d_${'a'.repeat(26)}`)).toBe(true);
    expect(isDirectConversationId(`g_${'a'.repeat(26)}`)).toBe(false);
  });
});

describe('isUserId', () => {
  it.each(['a', 'a'.repeat(64), 'Alice.Smith@example.com', 'user_1-2'])('accepts %j', (id) => {
    expect(isUserId(id)).toBe(true);
  });

  it.each(['', 'a'.repeat(65), 'a b', 'a+b', 'a/b', 'ä', 'a\n', null])('rejects %j', (id) => {
    expect(isUserId(id)).toBe(false);
  });
});

describe('isClientMessageId', () => {
  it.each(['a', 'a'.repeat(64), 'Abc_09-xyz'])('accepts %j', (id) => {
    expect(isClientMessageId(id)).toBe(true);
  });

  it.each(['', 'a'.repeat(65), 'a.b', 'a@b', 'a b', undefined])('rejects %j', (id) => {
    expect(isClientMessageId(id)).toBe(false);
  });
});
