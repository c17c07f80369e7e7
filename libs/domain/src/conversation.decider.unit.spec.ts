import { conversationDecider } from './conversation.decider';
import type { ConversationCommand } from './conversation.commands';
import {
  ConversationAlreadyExistsError,
  ConversationNotFoundError,
  DirectConversationIdMismatchError,
  DirectConversationMembersError,
  DirectConversationTitleError,
  DirectConversationWithSelfError,
  DomainError,
  InvalidClientConversationIdError,
  InvalidClientMessageIdError,
  InvalidConversationIdError,
  InvalidConversationKindError,
  InvalidLogPositionError,
  InvalidMemberIdsError,
  InvalidMessageBodyError,
  InvalidTitleError,
  InvalidUserIdError,
  NotAGroupConversationError,
  ReadMarkerOutOfRangeError,
} from './domain-errors';
import { directConversationId, groupConversationIdFor, messageIdFor } from './ids';
import type { LogPosition } from './log-position';
import { RECENT_MESSAGES } from './message-history';
import {
  ALICE,
  ALICE_BOB_ID,
  at,
  BOB,
  CAROL,
  conversationCreated,
  createConversation,
  DAVE,
  directBetween,
  GROUP_ID,
  groupWith,
  joinConversation,
  LATER,
  leaveConversation,
  markRead,
  messageSent,
  NOW,
  offset,
  OTHER_GROUP_ID,
  readMarkerMoved,
  sendMessage,
  untyped,
  userJoined,
  userLeft,
} from './testing/conversation-fixtures';
import { DeciderSpecification } from './testing/decider-spec';

const spec = DeciderSpecification.for(conversationDecider);

const SMILE = '\u{1F600}'; // one code point, two UTF-16 code units

function expectField(field: string, messagePart?: string) {
  return (error: DomainError & { field?: string }) => {
    expect(error.kind).toBe('BAD_USER_INPUT');
    expect(error.field).toBe(field);
    expect(error.message).toContain(field.replace(/\[\d+\]$/, ''));
    if (messagePart !== undefined) expect(error.message).toContain(messagePart);
  };
}

function expectNotFound(conversationId: string) {
  return (error: ConversationNotFoundError) => {
    expect(error.kind).toBe('NOT_FOUND');
    expect(error.code).toBe('CONVERSATION.NOT_FOUND');
    expect(error.conversationId).toBe(conversationId);
  };
}

describe('CreateConversation', () => {
  describe('GROUP', () => {
    it('records the conversation, then the creator joining, then each member in the given order', () => {
      spec
        .given([])
        .when(createConversation({ title: 'Launch', memberIds: [BOB, CAROL] }))
        .then([
          {
            type: 'ConversationCreated',
            data: {
              conversationId: GROUP_ID,
              kind: 'GROUP',
              title: 'Launch',
              createdBy: ALICE,
              memberIds: [BOB, CAROL],
              createdAt: NOW,
            },
          },
          userJoined(ALICE),
          userJoined(BOB),
          userJoined(CAROL),
        ]);
    });

    it('drops duplicates and the creator from memberIds, keeping first occurrences in order', () => {
      spec
        .given([])
        .when(createConversation({ memberIds: [CAROL, BOB, CAROL, ALICE, DAVE, BOB] }))
        .then([
          conversationCreated({ memberIds: [CAROL, BOB, DAVE] }),
          userJoined(ALICE),
          userJoined(CAROL),
          userJoined(BOB),
          userJoined(DAVE),
        ]);
    });

    it('may start with no other members', () => {
      spec.given([]).when(createConversation({ memberIds: [] })).then([conversationCreated(), userJoined(ALICE)]);
    });

    it('may start with only the creator listed', () => {
      spec.given([]).when(createConversation({ memberIds: [ALICE] })).then([conversationCreated(), userJoined(ALICE)]);
    });

    it.each([
      ['absent', undefined],
      ['null', null],
      ['empty', ''],
    ])('records a title that is %s as null', (_case, title) => {
      spec.given([]).when(createConversation({ title })).then([conversationCreated({ title: null }), userJoined(ALICE)]);
    });

    it('keeps the title exactly as given', () => {
      const title = '  Café ☕ planning  ';
      spec.given([]).when(createConversation({ title })).then([conversationCreated({ title }), userJoined(ALICE)]);
    });

    it('accepts a title of 200 code points even when it is 400 UTF-16 code units', () => {
      const title = SMILE.repeat(200);
      expect(title.length).toBe(400);
      spec.given([]).when(createConversation({ title })).then([conversationCreated({ title }), userJoined(ALICE)]);
    });

    it('rejects a title of 201 code points', () => {
      spec
        .given([])
        .when(createConversation({ title: SMILE.repeat(201) }))
        .thenThrows(InvalidTitleError, expectField('title', 'at most 200 characters, counted as Unicode code points (got 201)'));
    });

    it('rejects a title that is not a string', () => {
      spec
        .given([])
        .when(createConversation({ title: untyped(42) }))
        .thenThrows(InvalidTitleError, expectField('title', '(got 42)'));
    });

    it.each([
      ['too short', 'g_01jnfx3c9m8q2v7k4x6b5n1t0'],
      ['too long', 'g_01jnfx3c9m8q2v7k4x6b5n1t0rr'],
      ['upper case', 'g_01JNFX3C9M8Q2V7K4X6B5N1T0R'],
      ['a direct id', ALICE_BOB_ID],
      ['no prefix', '01jnfx3c9m8q2v7k4x6b5n1t0r'],
      ['not a string', untyped<string>(7)],
    ])('rejects a GROUP conversationId that is %s', (_case, conversationId) => {
      spec
        .given([])
        .when(createConversation({ conversationId }))
        .thenThrows(InvalidConversationIdError, expectField('conversationId', '"g_" followed by 26 characters of [0-9a-z]'));
    });

    it('rejects an id that already names a group with CONFLICT', () => {
      spec
        .given(groupWith(BOB))
        .when(createConversation({ actorId: BOB }))
        .thenThrows(ConversationAlreadyExistsError, (error) => {
          expect(error.kind).toBe('CONFLICT');
          expect(error.code).toBe('CONVERSATION.ALREADY_EXISTS');
        });
    });

    it('rejects an id that already names a group even when the same creator sends the same command again', () => {
      spec.given(groupWith(ALICE, BOB)).when(createConversation({ memberIds: [BOB] })).thenThrows('CONVERSATION.ALREADY_EXISTS');
    });

    describe('with a clientConversationId (idempotent creation)', () => {
      const KEY = 'launch-2026:1';
      const keyedId = groupConversationIdFor(ALICE, KEY);
      const keyed = (overrides: Parameters<typeof createConversation>[0] = {}) =>
        createConversation({ conversationId: keyedId, clientConversationId: KEY, memberIds: [BOB], ...overrides });

      it('creates the group under the id derived from the creator and the key', () => {
        spec.given([]).when(keyed()).then([conversationCreated({ conversationId: keyedId, memberIds: [BOB] }), userJoined(ALICE, NOW, keyedId), userJoined(BOB, NOW, keyedId)]);
      });

      it('appends nothing when the creator creates it again with the same key, whatever the other fields say', () => {
        const created = [at(0, conversationCreated({ conversationId: keyedId, memberIds: [BOB] })), at(1, userJoined(ALICE, keyedId)), at(2, userJoined(BOB, keyedId))];
        spec.given(created).when(keyed({ title: 'other', memberIds: [CAROL] })).then([]);
      });

      it('refuses an id that is not the one derived from the creator and the key', () => {
        spec.given([]).when(keyed({ conversationId: GROUP_ID })).thenThrows(InvalidConversationIdError, expectField('conversationId', 'groupConversationIdFor(actorId, clientConversationId)'));
      });

      it.each([['empty', ''], ['too long', 'k'.repeat(129)], ['with a space', 'a b'], ['not a string', untyped<string>(1)]])('refuses a key that is %s', (_case, key) => {
        spec.given([]).when(keyed({ clientConversationId: key })).thenThrows(InvalidClientConversationIdError, expectField('clientConversationId', '1 to 128 characters'));
      });

      it('refuses a key on a DIRECT conversation', () => {
        spec
          .given([])
          .when(createConversation({ conversationId: ALICE_BOB_ID, kind: 'DIRECT', memberIds: [BOB], clientConversationId: KEY }))
          .thenThrows(InvalidClientConversationIdError, expectField('clientConversationId', 'GROUP conversations only'));
      });
    });

    it('accepts 1000 memberIds', () => {
      const memberIds = Array.from({ length: 1000 }, (_, index) => `user-${index}`);
      const events = conversationDecider.decide(createConversation({ memberIds }), conversationDecider.initialState());
      expect(events).toHaveLength(1002);
      expect(events.at(-1)).toStrictEqual(userJoined('user-999'));
    });

    it('rejects 1001 memberIds, counting the list as sent, before duplicates are removed', () => {
      const memberIds = [...Array.from({ length: 1000 }, (_, index) => `user-${index}`), 'user-0'];
      spec
        .given([])
        .when(createConversation({ memberIds }))
        .thenThrows(InvalidMemberIdsError, expectField('memberIds', 'at most 1000 entries (got 1001)'));
    });

    it('rejects memberIds that is not a list', () => {
      spec
        .given([])
        .when(createConversation({ memberIds: untyped(BOB) }))
        .thenThrows(InvalidMemberIdsError, expectField('memberIds', 'must be an array'));
    });

    it('rejects a malformed member id, naming its index', () => {
      spec
        .given([])
        .when(createConversation({ memberIds: [BOB, 'not valid!'] }))
        .thenThrows(InvalidUserIdError, expectField('memberIds[1]', '[A-Za-z0-9_.@-]'));
    });

    it('rejects an unknown kind', () => {
      spec
        .given([])
        .when(createConversation({ kind: untyped('CHANNEL') }))
        .thenThrows(InvalidConversationKindError, expectField('kind', 'DIRECT, GROUP (got "CHANNEL")'));
    });
  });

  describe('DIRECT', () => {
    const createDirect = (actorId: string, memberIds: string[], conversationId = ALICE_BOB_ID) =>
      createConversation({ kind: 'DIRECT', conversationId, memberIds, actorId });

    it('records the conversation with the other member and both joining, creator first', () => {
      spec
        .given([])
        .when(createDirect(ALICE, [BOB]))
        .then([
          conversationCreated({ conversationId: ALICE_BOB_ID, kind: 'DIRECT', title: null, memberIds: [BOB] }),
          userJoined(ALICE, NOW, ALICE_BOB_ID),
          userJoined(BOB, NOW, ALICE_BOB_ID),
        ]);
    });

    it('uses the same id whichever of the two creates it', () => {
      spec
        .given([])
        .when(createDirect(BOB, [ALICE]))
        .then([
          conversationCreated({ conversationId: ALICE_BOB_ID, kind: 'DIRECT', createdBy: BOB, memberIds: [ALICE] }),
          userJoined(BOB, NOW, ALICE_BOB_ID),
          userJoined(ALICE, NOW, ALICE_BOB_ID),
        ]);
    });

    it('counts the other member after duplicates and the creator are removed', () => {
      spec
        .given([])
        .when(createDirect(ALICE, [BOB, ALICE, BOB]))
        .then([
          conversationCreated({ conversationId: ALICE_BOB_ID, kind: 'DIRECT', memberIds: [BOB] }),
          userJoined(ALICE, NOW, ALICE_BOB_ID),
          userJoined(BOB, NOW, ALICE_BOB_ID),
        ]);
    });

    it.each([
      ['null', null],
      ['empty', ''],
    ])('accepts a title that is %s', (_case, title) => {
      const command = createConversation({ kind: 'DIRECT', conversationId: ALICE_BOB_ID, memberIds: [BOB], title });
      expect(conversationDecider.decide(command, conversationDecider.initialState())[0]).toStrictEqual(
        conversationCreated({ conversationId: ALICE_BOB_ID, kind: 'DIRECT', memberIds: [BOB], title: null }),
      );
    });

    it('rejects a title', () => {
      spec
        .given([])
        .when(createConversation({ kind: 'DIRECT', conversationId: ALICE_BOB_ID, memberIds: [BOB], title: 'Us' }))
        .thenThrows(DirectConversationTitleError, expectField('title', 'null or absent for a DIRECT conversation'));
    });

    it('rejects no other member', () => {
      spec
        .given([])
        .when(createDirect(ALICE, []))
        .thenThrows(DirectConversationMembersError, expectField('memberIds', 'exactly one other user'));
    });

    it('rejects two other members', () => {
      spec
        .given([])
        .when(createDirect(ALICE, [BOB, CAROL]))
        .thenThrows(DirectConversationMembersError, expectField('memberIds', '(got 2)'));
    });

    it('rejects a conversation with oneself', () => {
      spec
        .given([])
        .when(createDirect(ALICE, [ALICE], directConversationId(ALICE, ALICE)))
        .thenThrows(DirectConversationWithSelfError, expectField('memberIds', 'other than yourself'));
    });

    it.each([
      ['of another pair', directConversationId(ALICE, CAROL)],
      ['a group id', GROUP_ID],
      ['malformed', 'd_nope'],
    ])('rejects a conversationId that is %s', (_case, conversationId) => {
      spec
        .given([])
        .when(createDirect(ALICE, [BOB], conversationId))
        .thenThrows(DirectConversationIdMismatchError, expectField('conversationId', `"${ALICE_BOB_ID}"`));
    });

    it('records nothing when the pair already has it, so the caller returns the existing one', () => {
      spec.given(directBetween(ALICE, BOB)).when(createDirect(ALICE, [BOB])).thenNothingHappened();
    });

    it('records nothing when the other user of the pair creates it too', () => {
      spec.given(directBetween(ALICE, BOB)).when(createDirect(BOB, [ALICE])).thenNothingHappened();
    });

    it('still validates the command when the conversation already exists', () => {
      spec
        .given(directBetween(ALICE, BOB))
        .when(createConversation({ kind: 'DIRECT', conversationId: ALICE_BOB_ID, memberIds: [BOB], title: 'Us' }))
        .thenThrows(DirectConversationTitleError);
    });

    it('rejects with CONFLICT a stored DIRECT conversation whose members are not the pair', () => {
      // Not reachable through decide (the id is derived from the pair); guards against a hash collision.
      spec
        .given([
          conversationCreated({ conversationId: ALICE_BOB_ID, kind: 'DIRECT', createdBy: CAROL, memberIds: [DAVE] }),
          userJoined(CAROL, NOW, ALICE_BOB_ID),
          userJoined(DAVE, NOW, ALICE_BOB_ID),
        ])
        .when(createDirect(ALICE, [BOB]))
        .thenThrows(ConversationAlreadyExistsError);
    });

    it('rejects with CONFLICT a stored DIRECT conversation the actor is not a member of', () => {
      spec
        .given([
          conversationCreated({ conversationId: ALICE_BOB_ID, kind: 'DIRECT', createdBy: CAROL, memberIds: [BOB] }),
          userJoined(CAROL, NOW, ALICE_BOB_ID),
          userJoined(BOB, NOW, ALICE_BOB_ID),
        ])
        .when(createDirect(ALICE, [BOB]))
        .thenThrows(ConversationAlreadyExistsError);
    });
  });

  it('rejects a malformed actorId', () => {
    spec
      .given([])
      .when(createConversation({ actorId: 'has space' }))
      .thenThrows(InvalidUserIdError, expectField('actorId', '(got "has space")'));
  });
});

describe('JoinConversation', () => {
  it('lets anyone with the id join a group', () => {
    spec.given(groupWith(ALICE, BOB)).when(joinConversation(CAROL)).then([userJoined(CAROL, LATER)]);
  });

  it('records nothing when a member joins again', () => {
    spec.given(groupWith(ALICE, BOB)).when(joinConversation(BOB)).thenNothingHappened();
  });

  it('lets a member who left join again', () => {
    spec.given([...groupWith(ALICE, BOB), userLeft(BOB)]).when(joinConversation(BOB)).then([userJoined(BOB, LATER)]);
  });

  it('answers NOT_FOUND for a conversation that was never created', () => {
    spec.given([]).when(joinConversation(CAROL)).thenThrows(ConversationNotFoundError, expectNotFound(GROUP_ID));
  });

  it('answers NOT_FOUND for a malformed id even against an existing stream', () => {
    spec
      .given(groupWith(ALICE))
      .when(joinConversation(CAROL, 'G_not-an-id'))
      .thenThrows(ConversationNotFoundError, expectNotFound('G_not-an-id'));
  });

  it('rejects joining a DIRECT conversation its member is in', () => {
    spec
      .given(directBetween(ALICE, BOB))
      .when(joinConversation(BOB, ALICE_BOB_ID))
      .thenThrows(NotAGroupConversationError, expectField('conversationId', 'only GROUP conversations can be joined'));
  });

  it('answers NOT_FOUND to an outsider joining a DIRECT conversation, so its existence is not revealed', () => {
    spec
      .given(directBetween(ALICE, BOB))
      .when(joinConversation(CAROL, ALICE_BOB_ID))
      .thenThrows(ConversationNotFoundError, expectNotFound(ALICE_BOB_ID));
  });

  it('rejects a malformed actorId', () => {
    spec.given(groupWith(ALICE)).when(joinConversation('')).thenThrows(InvalidUserIdError, expectField('actorId'));
  });
});

describe('LeaveConversation', () => {
  it('records a member leaving a group', () => {
    spec.given(groupWith(ALICE, BOB)).when(leaveConversation(BOB)).then([userLeft(BOB, LATER)]);
  });

  it('lets the creator leave', () => {
    spec.given(groupWith(ALICE, BOB)).when(leaveConversation(ALICE)).then([userLeft(ALICE, LATER)]);
  });

  it('answers NOT_FOUND to a non-member', () => {
    spec
      .given(groupWith(ALICE, BOB))
      .when(leaveConversation(CAROL))
      .thenThrows(ConversationNotFoundError, expectNotFound(GROUP_ID));
  });

  it('answers NOT_FOUND to a member who already left', () => {
    spec
      .given([...groupWith(ALICE, BOB), userLeft(BOB)])
      .when(leaveConversation(BOB))
      .thenThrows(ConversationNotFoundError);
  });

  it('answers NOT_FOUND for a conversation that was never created', () => {
    spec.given([]).when(leaveConversation(ALICE)).thenThrows(ConversationNotFoundError, expectNotFound(GROUP_ID));
  });

  it('answers NOT_FOUND for a malformed id', () => {
    spec.given(groupWith(ALICE)).when(leaveConversation(ALICE, 'g_short')).thenThrows(ConversationNotFoundError);
  });

  it('rejects leaving a DIRECT conversation', () => {
    spec
      .given(directBetween(ALICE, BOB))
      .when(leaveConversation(ALICE, ALICE_BOB_ID))
      .thenThrows(NotAGroupConversationError, expectField('conversationId', 'only GROUP conversations can be left'));
  });

  it('answers NOT_FOUND to an outsider leaving a DIRECT conversation', () => {
    spec
      .given(directBetween(ALICE, BOB))
      .when(leaveConversation(CAROL, ALICE_BOB_ID))
      .thenThrows(ConversationNotFoundError);
  });
});

describe('SendMessage', () => {
  /** Alice's message as decided: the conversation's `seq`th (the first, unless said). */
  const sentByAlice = (body: string, clientMessageId = 'client-1', seq = 1) =>
    messageSent(ALICE, clientMessageId, body, { sentAt: LATER, seq });

  it('records the message under its deterministic id', () => {
    spec
      .given(groupWith(ALICE, BOB))
      .when(sendMessage(ALICE, 'hello'))
      .then([
        {
          type: 'MessageSent',
          data: {
            conversationId: GROUP_ID,
            messageId: messageIdFor(GROUP_ID, ALICE, 'client-1'),
            clientMessageId: 'client-1',
            senderId: ALICE,
            body: 'hello',
            sentAt: LATER,
            seq: 1,
          },
        },
      ]);
  });

  it('lets either member of a DIRECT conversation send', () => {
    spec
      .given(directBetween(ALICE, BOB))
      .when(sendMessage(BOB, 'hi', { conversationId: ALICE_BOB_ID }))
      .then([messageSent(BOB, 'client-1', 'hi', { conversationId: ALICE_BOB_ID, sentAt: LATER, seq: 1 })]);
  });

  it('keeps the body exactly as sent, surrounding white space included', () => {
    spec.given(groupWith(ALICE)).when(sendMessage(ALICE, '  hi\n')).then([sentByAlice('  hi\n')]);
  });

  describe('membership', () => {
    it('answers NOT_FOUND to a non-member', () => {
      spec
        .given(groupWith(ALICE, BOB))
        .when(sendMessage(CAROL, 'hi'))
        .thenThrows(ConversationNotFoundError, expectNotFound(GROUP_ID));
    });

    it('answers NOT_FOUND to a member who left', () => {
      spec
        .given([...groupWith(ALICE, BOB), userLeft(BOB)])
        .when(sendMessage(BOB, 'hi'))
        .thenThrows(ConversationNotFoundError);
    });

    it('answers NOT_FOUND to an outsider of a DIRECT conversation', () => {
      spec
        .given(directBetween(ALICE, BOB))
        .when(sendMessage(CAROL, 'hi', { conversationId: ALICE_BOB_ID }))
        .thenThrows(ConversationNotFoundError);
    });

    it('answers NOT_FOUND for a conversation that was never created', () => {
      spec.given([]).when(sendMessage(ALICE, 'hi')).thenThrows(ConversationNotFoundError, expectNotFound(GROUP_ID));
    });

    it('answers NOT_FOUND for a malformed id', () => {
      spec
        .given(groupWith(ALICE))
        .when(sendMessage(ALICE, 'hi', { conversationId: 'nope' }))
        .thenThrows(ConversationNotFoundError, expectNotFound('nope'));
    });

    it('gives a non-member exactly the answer an unknown conversation gets', () => {
      const asNonMember = spec.given(groupWith(ALICE)).when(sendMessage(CAROL, 'hi')).thenThrows(ConversationNotFoundError);
      const asUnknown = spec.given([]).when(sendMessage(CAROL, 'hi')).thenThrows(ConversationNotFoundError);
      expect({ code: asNonMember.code, kind: asNonMember.kind, message: asNonMember.message }).toStrictEqual({
        code: asUnknown.code,
        kind: asUnknown.kind,
        message: asUnknown.message,
      });
    });
  });

  describe('body', () => {
    it('accepts a single character', () => {
      spec.given(groupWith(ALICE)).when(sendMessage(ALICE, 'x')).then([sentByAlice('x')]);
    });

    it('rejects an empty body', () => {
      spec
        .given(groupWith(ALICE))
        .when(sendMessage(ALICE, ''))
        .thenThrows(InvalidMessageBodyError, expectField('body', 'must be 1 to 4000 characters, counted as Unicode code points (got 0)'));
    });

    it('accepts 4000 emoji, which are 8000 UTF-16 code units', () => {
      const body = SMILE.repeat(4000);
      expect(body.length).toBe(8000);
      spec.given(groupWith(ALICE)).when(sendMessage(ALICE, body)).then([sentByAlice(body)]);
    });

    it('rejects 4001 emoji', () => {
      spec
        .given(groupWith(ALICE))
        .when(sendMessage(ALICE, SMILE.repeat(4001)))
        .thenThrows(InvalidMessageBodyError, expectField('body', '(got 4001)'));
    });

    it('accepts 4000 ASCII characters and rejects 4001', () => {
      spec.given(groupWith(ALICE)).when(sendMessage(ALICE, 'a'.repeat(4000))).then([sentByAlice('a'.repeat(4000))]);
      spec.given(groupWith(ALICE)).when(sendMessage(ALICE, 'a'.repeat(4001))).thenThrows(InvalidMessageBodyError);
    });

    it.each([
      ['spaces, tabs and newlines', ' \t\r\n '],
      ['U+3000 ideographic space', '\u3000'],
      ['U+0085 next line, which \\s does not match', '\u0085'],
      ['U+3000 and U+0085 together', '\u3000\u0085\u3000'],
      ['no-break and thin spaces', '\u00a0\u2009\u202f'],
    ])('rejects a body of only white space: %s', (_case, body) => {
      spec
        .given(groupWith(ALICE))
        .when(sendMessage(ALICE, body))
        .thenThrows(InvalidMessageBodyError, expectField('body', 'not Unicode White_Space'));
    });

    it('accepts a zero-width space, which is not White_Space', () => {
      spec.given(groupWith(ALICE)).when(sendMessage(ALICE, '\u200b')).then([sentByAlice('\u200b')]);
    });

    it('rejects a body that is not a string', () => {
      spec
        .given(groupWith(ALICE))
        .when(sendMessage(ALICE, untyped(null)))
        .thenThrows(InvalidMessageBodyError, expectField('body', 'must be a string (got null)'));
    });

    it('validates the body before looking at membership, so the answer reveals nothing', () => {
      spec.given([]).when(sendMessage(CAROL, '')).thenThrows(InvalidMessageBodyError);
    });
  });

  describe('clientMessageId', () => {
    it.each([
      ['64 characters', 'a'.repeat(64)],
      ['letters, digits, _ and -', 'Abc_09-xyz'],
    ])('accepts %s', (_case, clientMessageId) => {
      spec
        .given(groupWith(ALICE))
        .when(sendMessage(ALICE, 'hi', { clientMessageId }))
        .then([sentByAlice('hi', clientMessageId)]);
    });

    it.each([
      ['empty', ''],
      ['65 characters', 'a'.repeat(65)],
      ['with a dot', 'a.b'],
      ['with an @', 'a@b'],
      ['with a space', 'a b'],
      ['not a string', untyped<string>(12)],
    ])('rejects one that is %s', (_case, clientMessageId) => {
      spec
        .given(groupWith(ALICE))
        .when(sendMessage(ALICE, 'hi', { clientMessageId }))
        .thenThrows(InvalidClientMessageIdError, expectField('clientMessageId', '[A-Za-z0-9_-]'));
    });
  });

  describe('idempotency', () => {
    it('records nothing when the same sender resends the same clientMessageId', () => {
      spec
        .given([...groupWith(ALICE, BOB), at(3, messageSent(ALICE, 'client-1', 'hello'))])
        .when(sendMessage(ALICE, 'hello', { clientMessageId: 'client-1' }))
        .thenNothingHappened();
    });

    it('records nothing for a resend with a different body: the original message stands', () => {
      spec
        .given([...groupWith(ALICE, BOB), messageSent(ALICE, 'client-1', 'hello')])
        .when(sendMessage(ALICE, 'edited', { clientMessageId: 'client-1' }))
        .thenNothingHappened();
    });

    it('records a new message for a new clientMessageId', () => {
      spec
        .given([...groupWith(ALICE, BOB), messageSent(ALICE, 'client-1', 'hello')])
        .when(sendMessage(ALICE, 'again', { clientMessageId: 'client-2' }))
        .then([sentByAlice('again', 'client-2', 2)]);
    });

    it('numbers messages densely, counting those recorded before numbers were (no seq) and continuing from recorded ones', () => {
      spec
        .given([...groupWith(ALICE, BOB), messageSent(ALICE, 'client-1'), messageSent(BOB, 'client-2', 'hi', { seq: 2 }), messageSent(ALICE, 'client-1')])
        .when(sendMessage(ALICE, 'third', { clientMessageId: 'client-3' }))
        .then([sentByAlice('third', 'client-3', 3)]);
    });

    it('treats the same clientMessageId from another sender as another message', () => {
      spec
        .given([...groupWith(ALICE, BOB), messageSent(ALICE, 'client-1', 'hello')])
        .when(sendMessage(BOB, 'hello', { clientMessageId: 'client-1' }))
        .then([messageSent(BOB, 'client-1', 'hello', { sentAt: LATER, seq: 2 })]);
    });

    it('does not emit a ReadMarkerMoved for the sender', () => {
      const events = conversationDecider.decide(
        sendMessage(ALICE, 'hello'),
        [...groupWith(ALICE)].reduce(
          (state, event) => conversationDecider.evolve(state, event),
          conversationDecider.initialState(),
        ),
      );
      expect(events.map((event) => event.type)).toStrictEqual(['MessageSent']);
    });
  });
});

describe('MarkRead', () => {
  const withMessages = [
    ...groupWith(ALICE, BOB),
    at(3, messageSent(ALICE, 'client-1')),
    at(4, messageSent(ALICE, 'client-2')),
    at(10, messageSent(ALICE, 'client-3')),
  ];

  /** ReadMarkerMoved with the number of the last message at or before the marker. */
  const moved = (userId: string, position: LogPosition, upToSeq: number) => {
    const event = readMarkerMoved(userId, position);
    return { ...event, data: { ...event.data, upToSeq } };
  };

  it('moves the marker to the last message, numbered', () => {
    spec.given(withMessages).when(markRead(BOB, offset(10))).then([moved(BOB, offset(10), 3)]);
  });

  it('moves the marker to an earlier message', () => {
    spec.given(withMessages).when(markRead(BOB, offset(4))).then([moved(BOB, offset(4), 2)]);
  });

  it('compares offsets as numbers, not strings ("9" is before "10")', () => {
    spec.given(withMessages).when(markRead(BOB, offset(9))).then([moved(BOB, offset(9), 2)]);
  });

  describe('numbering a marker further back than the latest messages the state keeps', () => {
    const many = [...groupWith(ALICE, BOB), ...Array.from({ length: RECENT_MESSAGES + 2 }, (_, i) => at(3 + i, messageSent(ALICE, `m${i}`)))];

    it('leaves the number out: the command service looks it up', () => {
      spec.given(many).when(markRead(BOB, offset(4))).then([readMarkerMoved(BOB, offset(4))]);
    });

    it('takes the number the command service looked up', () => {
      const command = markRead(BOB, offset(4));
      spec.given(many).when({ ...command, data: { ...command.data, upToSeq: 2 } }).then([moved(BOB, offset(4), 2)]);
    });

    it('counts back within the window, whatever was looked up', () => {
      const command = markRead(BOB, offset(3 + RECENT_MESSAGES));
      spec.given(many).when({ ...command, data: { ...command.data, upToSeq: 999 } }).then([moved(BOB, offset(3 + RECENT_MESSAGES), RECENT_MESSAGES + 1)]);
    });
  });

  it('rejects a position beyond the last message', () => {
    spec
      .given(withMessages)
      .when(markRead(BOB, offset(11)))
      .thenThrows(ReadMarkerOutOfRangeError, expectField('upTo', 'last message is at offset 10 (got offset 11)'));
  });

  it('rejects a position beyond the last message by numeric order ("100" is after "99")', () => {
    spec
      .given([...groupWith(ALICE, BOB), at(99, messageSent(ALICE, 'client-1'))])
      .when(markRead(BOB, offset(100)))
      .thenThrows(ReadMarkerOutOfRangeError);
  });

  it('rejects any position in a conversation without messages', () => {
    spec
      .given(groupWith(ALICE, BOB))
      .when(markRead(BOB, offset(0)))
      .thenThrows(ReadMarkerOutOfRangeError, expectField('upTo', 'has no messages yet'));
  });

  it('rejects a position in another partition than the conversation', () => {
    spec
      .given(withMessages)
      .when(markRead(BOB, { partition: 1, offset: '4' }))
      .thenThrows(ReadMarkerOutOfRangeError, expectField('upTo', 'partition 0 (got partition 1)'));
  });

  describe('only forward', () => {
    const withBobAt4 = [...withMessages, readMarkerMoved(BOB, offset(4))];

    it('records nothing for the current marker', () => {
      spec.given(withBobAt4).when(markRead(BOB, offset(4))).thenNothingHappened();
    });

    it('records nothing for a position before the current marker', () => {
      spec.given(withBobAt4).when(markRead(BOB, offset(3))).thenNothingHappened();
    });

    it('moves past the current marker', () => {
      spec.given(withBobAt4).when(markRead(BOB, offset(10))).then([moved(BOB, offset(10), 3)]);
    });

    it("records nothing for a sender marking their own message: sending moved the sender's marker", () => {
      spec.given(withMessages).when(markRead(ALICE, offset(10))).thenNothingHappened();
    });

    it('lets a sender move on past their own message to a later one', () => {
      spec
        .given([...withMessages.slice(0, -1), at(7, messageSent(BOB, 'client-9'))])
        .when(markRead(ALICE, offset(7)))
        .then([moved(ALICE, offset(7), 3)]);
    });
  });

  describe('membership', () => {
    it('answers NOT_FOUND to a non-member', () => {
      spec.given(withMessages).when(markRead(CAROL, offset(3))).thenThrows(ConversationNotFoundError, expectNotFound(GROUP_ID));
    });

    it('answers NOT_FOUND to a member who left', () => {
      spec.given([...withMessages, userLeft(BOB)]).when(markRead(BOB, offset(3))).thenThrows(ConversationNotFoundError);
    });

    it('answers NOT_FOUND for a conversation that was never created', () => {
      spec.given([]).when(markRead(BOB, offset(3))).thenThrows(ConversationNotFoundError, expectNotFound(GROUP_ID));
    });

    it('answers NOT_FOUND for a malformed id', () => {
      spec.given(withMessages).when(markRead(BOB, offset(3), 'g_?')).thenThrows(ConversationNotFoundError);
    });
  });

  describe('upTo', () => {
    it.each([
      ['a negative partition', { partition: -1, offset: '3' }, 'upTo.partition'],
      ['a fractional partition', { partition: 0.5, offset: '3' }, 'upTo.partition'],
      ['a partition given as a string', { partition: '0', offset: '3' }, 'upTo.partition'],
      ['a negative offset', { partition: 0, offset: '-1' }, 'upTo.offset'],
      ['an offset with a leading zero', { partition: 0, offset: '03' }, 'upTo.offset'],
      ['a fractional offset', { partition: 0, offset: '3.0' }, 'upTo.offset'],
      ['an offset given as a number', { partition: 0, offset: 3 }, 'upTo.offset'],
      ['an offset beyond int64', { partition: 0, offset: '9223372036854775808' }, 'upTo.offset'],
    ])('rejects %s', (_case, upTo, field) => {
      spec
        .given(withMessages)
        .when(markRead(BOB, untyped(upTo)))
        .thenThrows(InvalidLogPositionError, expectField(field));
    });

    it('rejects a missing upTo', () => {
      spec.given(withMessages).when(markRead(BOB, untyped(null))).thenThrows(InvalidLogPositionError, expectField('upTo'));
    });

    it('accepts the largest int64 offset as well-formed (and then finds it beyond the last message)', () => {
      spec
        .given(withMessages)
        .when(markRead(BOB, offset('9223372036854775807')))
        .thenThrows(ReadMarkerOutOfRangeError);
    });
  });
});

describe('decide', () => {
  it('refuses a state that belongs to another conversation: the caller loaded the wrong stream', () => {
    const error = spec
      .given(groupWith(ALICE, BOB))
      .when(sendMessage(ALICE, 'hi', { conversationId: OTHER_GROUP_ID }))
      .thenThrows(Error);
    expect(error).not.toBeInstanceOf(DomainError);
    expect(error.message).toMatch(/loaded the wrong stream/);
  });

  it('throws on a command type it does not know', () => {
    const command = untyped<ConversationCommand>({ type: 'DeleteEverything', data: {} });
    expect(() => conversationDecider.decide(command, conversationDecider.initialState())).toThrow(
      'unhandled conversation command "DeleteEverything"',
    );
  });
});
