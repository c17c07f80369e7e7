import {
  ALICE,
  ALICE_BOB_ID,
  BOB,
  CAROL,
  DAVE,
  directBetween,
  GROUP_ID,
  groupWith,
  messageSent,
  OTHER_GROUP_ID,
  readMarkerMoved,
  userJoined,
  userLeft,
  NOW,
  conversationCreated,
} from '../../domain/src/testing/conversation-fixtures';
import { InMemoryPresenceMembersStore, PresenceProjection } from './presence.projection';
import { applyInChunks, TestLog } from './testing/projection-spec';

describe('PresenceProjection', () => {
  let store: InMemoryPresenceMembersStore;
  let presence: PresenceProjection;
  let log: TestLog;

  beforeEach(async () => {
    store = new InMemoryPresenceMembersStore();
    presence = new PresenceProjection(store);
    await presence.createStorage();
    log = new TestLog();
  });

  const whenApplied = (size = log.events.length) => applyInChunks(presence, log.partition, log.events, size, log.end);
  const members = (conversationId = GROUP_ID, version = 1) => store.members(version, conversationId);

  it('handles joins and leaves only', () => {
    expect([...presence.handles].sort()).toEqual(['UserJoined', 'UserLeft']);
    expect(presence.name).toBe('presence');
  });

  it.each([1, 2, 100])('keeps each conversation\'s members after joins and leaves (chunks of %i)', async (size) => {
    log.append(...groupWith(ALICE, BOB, CAROL), ...directBetween(ALICE, BOB));
    log.append(userLeft(BOB), userJoined(DAVE), messageSent(ALICE, 'c1'), userLeft(CAROL), userJoined(CAROL));
    await whenApplied(size);

    expect(await members()).toEqual([ALICE, CAROL, DAVE]);
    expect(await members(ALICE_BOB_ID)).toEqual([ALICE, BOB]);
    expect(await members(OTHER_GROUP_ID)).toEqual([]);
  });

  it('a leave removes the member; leaving twice, or a leave of a non-member, changes nothing', async () => {
    log.append(...groupWith(ALICE, BOB), userLeft(BOB), userLeft(BOB), userLeft(DAVE));
    await whenApplied();

    expect(await members()).toEqual([ALICE]);
  });

  it('records the checkpoint with every chunk, events or not', async () => {
    log.append(...groupWith(ALICE, BOB));
    await applyInChunks(presence, 0, log.events, 2, log.end);
    expect(await presence.checkpoints()).toEqual(new Map([[0, '3']]));

    await presence.apply(5, [], '42');
    expect(await presence.checkpoints()).toEqual(new Map([[0, '3'], [5, '42']]));
  });

  it('dropStorage removes sets and checkpoint; the same instance then builds them again', async () => {
    log.append(...groupWith(ALICE, BOB));
    await whenApplied();
    await presence.dropStorage();
    expect(await members()).toEqual([]);
    expect(await presence.checkpoints()).toEqual(new Map());

    await whenApplied(1);
    expect(await members()).toEqual([ALICE, BOB]);
  });

  it('returns a members change per join and leave', async () => {
    log.append(conversationCreated(), userJoined(ALICE), readMarkerMoved(ALICE, { partition: 0, offset: '1' }), userLeft(ALICE));
    const changes = await whenApplied();

    expect(changes).toEqual([
      { kind: 'members', conversationId: GROUP_ID, userIds: [ALICE] },
      { kind: 'members', conversationId: GROUP_ID, userIds: [ALICE] },
    ]);
  });

  it('keeps versions apart: a rebuild (version 2) neither sees nor drops version 1', async () => {
    log.append(...groupWith(ALICE, BOB));
    await whenApplied();
    const rebuild = new PresenceProjection(store, 2);
    await rebuild.apply(0, [log.events[1]], '2');

    expect(await members(GROUP_ID, 2)).toEqual([ALICE]);
    expect(await rebuild.checkpoints()).toEqual(new Map([[0, '2']]));
    await rebuild.dropStorage();
    expect(await members(GROUP_ID, 2)).toEqual([]);
    expect(await rebuild.checkpoints()).toEqual(new Map());
    expect(await members(GROUP_ID, 1)).toEqual([ALICE, BOB]);
    expect(await presence.checkpoints()).toEqual(new Map([[0, '3']]));
  });

  describe('replay safety', () => {
    beforeEach(() => {
      log.append(...groupWith(ALICE, BOB, CAROL)); // 0..3
      log.append(userLeft(BOB), userJoined(DAVE, NOW), userLeft(CAROL), userJoined(BOB), userLeft(DAVE)); // 4..8
    });

    it('applying everything again, from the start, gives the same sets', async () => {
      await whenApplied(2);
      await whenApplied(3);

      expect(await members()).toEqual([ALICE, BOB]);
      expect(await presence.checkpoints()).toEqual(new Map([[0, '9']]));
    });

    it('a chunk delivered again after later ones were applied changes nothing, nor moves the checkpoint back', async () => {
      await whenApplied(1);
      // Redelivery of offsets 5..6 (Dave joins, Carol leaves): Dave left and Carol is gone since.
      await presence.apply(0, log.events.slice(5, 7), '7');

      expect(await members()).toEqual([ALICE, BOB]);
      expect(await presence.checkpoints()).toEqual(new Map([[0, '9']]));
    });

    it('a restarted instance resuming from the checkpoint gives the rows of one run', async () => {
      await applyInChunks(presence, 0, log.events.slice(0, 5), 2, '5');
      await applyInChunks(new PresenceProjection(store), 0, log.events.slice(5), 1, log.end);

      expect(await members()).toEqual([ALICE, BOB]);
    });
  });
});
