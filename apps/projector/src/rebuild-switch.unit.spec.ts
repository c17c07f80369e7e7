import { mayTakeOver, NEAR_THE_END } from './rebuild-switch';

const offsets = (o: Record<number, number>) => new Map(Object.entries(o).map(([p, offset]) => [Number(p), String(offset)]));

describe('mayTakeOver: when a rebuilt version may take over', () => {
  it('waits while the rebuild is far from the end of the log', () => {
    const positions = { serving: offsets({ 0: 5000, 1: 5000 }), rebuild: offsets({ 0: 10 }), ends: offsets({ 0: 5000, 1: 5000 }), servingFailed: false };
    expect(mayTakeOver(positions)).toBe(false);
    expect(mayTakeOver({ ...positions, rebuild: offsets({ 0: 5000, 1: 5000 - NEAR_THE_END - 1 }) })).toBe(false);
  });

  it('switches only once the rebuild has committed what the serving version has, on every partition', () => {
    const ends = offsets({ 0: 100, 1: 100 });
    expect(mayTakeOver({ serving: offsets({ 0: 100, 1: 100 }), rebuild: offsets({ 0: 90, 1: 100 }), ends, servingFailed: false })).toBe(false);
    expect(mayTakeOver({ serving: offsets({ 0: 100, 1: 100 }), rebuild: offsets({ 0: 100, 1: 101 }), ends, servingFailed: false })).toBe(true);
  });

  it('counts a partition without a checkpoint as at its start', () => {
    const ends = offsets({ 0: 10, 1: 10 });
    expect(mayTakeOver({ serving: offsets({ 0: 10, 1: 10 }), rebuild: offsets({ 0: 10 }), ends, servingFailed: false })).toBe(false);
    expect(mayTakeOver({ serving: offsets({ 0: 10 }), rebuild: offsets({ 0: 10 }), ends: offsets({ 0: 10, 1: 0 }), servingFailed: false })).toBe(true);
  });

  it('does not wait for a FAILED serving version', () => {
    expect(mayTakeOver({ serving: offsets({ 0: 10 }), rebuild: offsets({ 0: 5 }), ends: offsets({ 0: 10 }), servingFailed: true })).toBe(true);
  });
});
