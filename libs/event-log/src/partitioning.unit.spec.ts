import { kafkaMurmur2, partitionForConversation } from './partitioning';

describe('partitioning', () => {
  // Expected values from Kafka's own UtilsTest.testMurmur2 (clients/src/test/.../UtilsTest.java).
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j exactly like Kafka (murmur2)', (key, expected) => {
    expect(kafkaMurmur2(key)).toBe(expected);
  });

  it('maps a conversation to one stable partition within range', () => {
    const id = 'g_0123456789abcdefghijklmnop';
    const partition = partitionForConversation(id, 12);
    expect(partition).toBe((kafkaMurmur2(id) & 0x7fffffff) % 12);
    expect(partitionForConversation(id, 12)).toBe(partition);
    const seen = new Set(Array.from({ length: 500 }, (_, i) => partitionForConversation(`g_${i}`, 12)));
    expect([...seen].every((p) => p >= 0 && p < 12)).toBe(true);
    expect(seen.size).toBe(12);
  });
});
