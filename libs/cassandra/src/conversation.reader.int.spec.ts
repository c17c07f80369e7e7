import { messageIdFor } from '@parley/domain';
import { INBOX_TABLES, InboxProjection } from '@parley/projections';
import type { Client } from 'cassandra-driver';
import { ALICE, BOB, CAROL, conversationCreated, messageSent, readMarkerMoved, userJoined } from '../../domain/src/testing/conversation-fixtures';
import { applyInChunks, TestLog } from '../../projections/src/testing/projection-spec';
import { CassandraReadModelStore } from './cassandra-read-model-store';
import { ConversationReader, type InboxRecord } from './conversation.reader';
import { scratchKeyspace } from './testing/scratch-keyspace';

const at = (minute: number) => new Date(Date.UTC(2025, 2, 1, 10, minute)).toISOString();
const conversation = (n: number) => `g_${String(n).padStart(26, '0')}`;

describe('ConversationReader: the inbox, merged at read time (real Cassandra)', () => {
  const scratch = scratchKeyspace('inbox');
  const { keyspace } = scratch;
  let client: Client;
  let version = 0;

  beforeAll(() => {
    client = scratch.client();
  });

  /** The inbox projection at a version of its own, applied to `log`, and a reader of it. */
  const projected = async (log: TestLog, chunkSize = 100) => {
    const v = ++version;
    const inbox = new InboxProjection(new CassandraReadModelStore(client, keyspace, 'inbox', v), v);
    await inbox.createStorage();
    await applyInChunks(inbox, log.partition, log.events, chunkSize, log.end);
    return { inbox, v, reader: new ConversationReader(client, keyspace, { timeline: v, inbox: v }) };
  };

  /** Every page of `userId`'s inbox, `limit` at a time, following the cursor. */
  const allPages = async (reader: ConversationReader, userId: string, limit: number) => {
    const pages: InboxRecord[][] = [];
    let after: InboxRecord | undefined;
    for (;;) {
      const page = await reader.inboxPage(userId, limit, after);
      pages.push(page.entries);
      if (!page.hasNextPage) return pages;
      after = page.entries.at(-1);
    }
  };

  /** Alice and Bob in five groups, active in the order 3, 1, 5, 2, 4 (oldest first); Carol in group 5 only. */
  const fiveGroups = () => {
    const log = new TestLog();
    for (let n = 1; n <= 5; n++) {
      const id = conversation(n);
      log.append(conversationCreated({ conversationId: id, createdAt: at(0) }), userJoined(ALICE, at(0), id), userJoined(BOB, at(0), id));
    }
    log.append(userJoined(CAROL, at(0), conversation(5)));
    const sent = new Map<number, ReturnType<TestLog['add']>>();
    [3, 1, 5, 2, 4].forEach((n, i) => sent.set(n, log.add(messageSent(BOB, `b${n}`, 'x', { conversationId: conversation(n), sentAt: at(i + 1) }))));
    log.add(messageSent(BOB, 'b1-again', 'x', { conversationId: conversation(1), sentAt: at(3) })); // group 5's time: the offset decides
    log.add(readMarkerMoved(ALICE, sent.get(2)!.position, conversation(2)));
    log.add(messageSent(ALICE, 'a4', 'x', { conversationId: conversation(4), sentAt: at(9) }));
    return { log, sent };
  };

  it('pages the most recently active conversations first, by cursor, with unread counts and read markers', async () => {
    const { log, sent } = fiveGroups();
    const { reader } = await projected(log);

    const pages = await allPages(reader, ALICE, 2);
    expect(pages.map((p) => p.map((e) => e.conversationId))).toEqual([
      [conversation(4), conversation(2)],
      [conversation(1), conversation(5)],
      [conversation(3)],
    ]);
    const byId = new Map(pages.flat().map((e) => [e.conversationId, e]));
    expect(Object.fromEntries([...byId].map(([id, e]) => [id, e.unreadCount]))).toEqual({
      [conversation(1)]: 2,
      [conversation(2)]: 0, // read up to Bob's message
      [conversation(3)]: 1,
      [conversation(4)]: 0, // her own message is the last
      [conversation(5)]: 1,
    });
    expect(byId.get(conversation(2))).toEqual({
      conversationId: conversation(2),
      lastMessageId: messageIdFor(conversation(2), BOB, 'b2'),
      lastOffset: BigInt(sent.get(2)!.position.offset),
      unreadCount: 0,
      readOffset: BigInt(sent.get(2)!.position.offset),
      activityAt: at(4),
      activityOffset: BigInt(sent.get(2)!.position.offset),
    });
    expect(byId.get(conversation(3))?.readOffset).toBeNull(); // nothing read yet
    expect(byId.get(conversation(1))?.activityAt).toBe(byId.get(conversation(5))?.activityAt); // a tie, broken by offset

    expect((await reader.inboxPage(CAROL, 10)).entries.map((e) => [e.conversationId, e.unreadCount])).toEqual([[conversation(5), 1]]);
    expect(await reader.inboxPage('nobody', 10)).toEqual({ entries: [], hasNextPage: false });
  });

  it('inboxEntries answers per conversation asked, in that order: the entry, or null where the user is no member', async () => {
    const { log } = fiveGroups();
    const { reader } = await projected(log);

    const entries = await reader.inboxEntries(CAROL, [conversation(1), conversation(5), 'g_unknown']);
    expect(entries.map((e) => e && [e.conversationId, e.unreadCount])).toEqual([null, [conversation(5), 1], null]);
    expect(await reader.inboxEntries(CAROL, [])).toEqual([]);
  });

  it('reads the heads of more conversations than one query holds (250), all in order, on any page', async () => {
    const log = new TestLog();
    for (let n = 0; n < 250; n++) {
      const id = conversation(n);
      log.append(conversationCreated({ conversationId: id }), userJoined(ALICE, at(0), id));
      // Activity in the order of (n * 7) % 250: unrelated to the order of the ids.
      log.add(messageSent(BOB, `m${n}`, 'x', { conversationId: id, sentAt: new Date(Date.UTC(2025, 2, 1) + ((n * 7) % 250) * 1000).toISOString() }));
    }
    const { reader } = await projected(log, 200);

    const pages = await allPages(reader, ALICE, 60);
    expect(pages.map((p) => p.length)).toEqual([60, 60, 60, 60, 10]);
    const expected = Array.from({ length: 250 }, (_, n) => n).sort((a, b) => ((b * 7) % 250) - ((a * 7) % 250)).map(conversation);
    expect(pages.flat().map((e) => e.conversationId)).toEqual(expected);
    expect(pages.flat().every((e) => e.unreadCount === 1)).toBe(true);
  });

  it('leaves out an entry whose head is not committed yet (the chunk that made it is still being stored)', async () => {
    const { log } = fiveGroups();
    const { reader, v } = await projected(log);
    await client.execute(`INSERT INTO ${keyspace}.${INBOX_TABLES.entries.name}_v${v} (user_id, conversation_id, read_seq, read_offset) VALUES (?, ?, ?, ?)`, [
      CAROL,
      conversation(9),
      0n,
      -1n,
    ]);

    expect((await reader.inboxPage(CAROL, 10)).entries.map((e) => e.conversationId)).toEqual([conversation(5)]);
    expect(await reader.inboxEntries(CAROL, [conversation(9)])).toEqual([null]);
  });

  it('storage of the layout before ADR 0010 reads the same (its entries\' head columns are ignored); dropping it drops the former order table', async () => {
    const { log } = fiveGroups();
    const v = ++version;
    const table = (name: string) => `${keyspace}.${name}_v${v}`;
    // As the former projection created them: entries with the head's columns, and the order rows.
    await client.execute(
      `CREATE TABLE ${table(INBOX_TABLES.entries.name)} (user_id text, conversation_id text, last_seq bigint, last_message_id text, last_offset bigint, ` +
        'read_seq bigint, read_offset bigint, activity_at text, activity_offset bigint, PRIMARY KEY ((user_id), conversation_id))',
    );
    await client.execute(
      `CREATE TABLE ${table('inbox_by_activity')} (user_id text, activity_at text, activity_offset bigint, conversation_id text, ` +
        'PRIMARY KEY ((user_id), activity_at, activity_offset, conversation_id)) WITH CLUSTERING ORDER BY (activity_at DESC, activity_offset DESC, conversation_id ASC)',
    );
    const inbox = new InboxProjection(new CassandraReadModelStore(client, keyspace, 'inbox', v), v);
    await inbox.createStorage();
    await applyInChunks(inbox, log.partition, log.events, 100, log.end);
    // What the former projection left in the columns it no longer writes.
    await client.execute(`UPDATE ${table(INBOX_TABLES.entries.name)} SET last_seq = 40, activity_at = ? WHERE user_id = ? AND conversation_id = ?`, [
      at(59),
      ALICE,
      conversation(3),
    ]);

    const reader = new ConversationReader(client, keyspace, { timeline: v, inbox: v });
    const fresh = await projected(log);
    expect(await allPages(reader, ALICE, 2)).toEqual(await allPages(fresh.reader, ALICE, 2));

    await inbox.dropStorage();
    const tables = await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [keyspace]);
    expect(tables.rows.map((r) => r.get('table_name') as string).filter((name) => name.endsWith(`_v${v}`))).toEqual([]);
  });
});
