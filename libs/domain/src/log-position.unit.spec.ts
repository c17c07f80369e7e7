import { comparePositions, laterPosition } from './log-position';

describe('comparePositions', () => {
  it('finds equal positions equal', () => {
    expect(comparePositions({ partition: 2, offset: '15' }, { partition: 2, offset: '15' })).toBe(0);
  });

  it('orders by partition first', () => {
    expect(comparePositions({ partition: 0, offset: '100' }, { partition: 1, offset: '1' })).toBe(-1);
    expect(comparePositions({ partition: 1, offset: '1' }, { partition: 0, offset: '100' })).toBe(1);
  });

  it('orders offsets as numbers, not strings', () => {
    expect(comparePositions({ partition: 0, offset: '9' }, { partition: 0, offset: '10' })).toBe(-1);
    expect(comparePositions({ partition: 0, offset: '10' }, { partition: 0, offset: '9' })).toBe(1);
  });

  it('orders offsets beyond the precision of a JS number', () => {
    const a = { partition: 0, offset: '9007199254740993' };
    const b = { partition: 0, offset: '9007199254740992' };
    expect(Number(a.offset)).toBe(Number(b.offset));
    expect(comparePositions(a, b)).toBe(1);
  });
});

describe('laterPosition', () => {
  const early = { partition: 0, offset: '9' };
  const late = { partition: 0, offset: '10' };

  it('takes the later of two positions', () => {
    expect(laterPosition(early, late)).toBe(late);
    expect(laterPosition(late, early)).toBe(late);
  });

  it('takes the position when there is none yet', () => {
    expect(laterPosition(null, early)).toBe(early);
  });

  it('keeps the current position when both are equal', () => {
    const current = { partition: 0, offset: '9' };
    expect(laterPosition(current, early)).toBe(current);
  });
});
