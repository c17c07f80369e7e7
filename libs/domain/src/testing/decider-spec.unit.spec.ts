import type { Decider } from '../decider';
import { DomainError } from '../domain-errors';
import type { LogPosition } from '../log-position';
import { atPosition, DeciderSpecification } from './decider-spec';

/** A counter whose state records what evolve saw, so the helper itself can be checked. */
type Added = { type: 'Added'; data: { amount: number } };
type Add = { amount: number };
type Seen = { total: number; positions: (string | null)[] };

class NegativeAmountError extends DomainError {
  readonly code = 'COUNTER.NEGATIVE' as const;
  readonly kind = 'BAD_USER_INPUT' as const;
}

const counter: Decider<Add, Seen, Added> = {
  initialState: () => ({ total: 0, positions: [] }),
  evolve: (state, event, position?: LogPosition) => ({
    total: state.total + event.data.amount,
    positions: [...state.positions, position?.offset ?? null],
  }),
  decide: ({ amount }, state) => {
    if (amount < 0) throw new NegativeAmountError(`amount must not be negative (got ${amount})`);
    if (amount === 0) return [];
    if (amount === 99) throw new Error(`total is ${state.total}, positions ${state.positions.join(',')}`);
    return [{ type: 'Added', data: { amount: state.total + amount } }];
  },
};

const spec = DeciderSpecification.for(counter);
const added = (amount: number): Added => ({ type: 'Added', data: { amount } });

describe('DeciderSpecification', () => {
  it('folds the history from the initial state before deciding', () => {
    spec.given([added(2), added(3)]).when({ amount: 1 }).then([added(6)]);
  });

  it('passes positions of wrapped history entries to evolve, and none for bare events', () => {
    spec
      .given([added(1), atPosition({ partition: 0, offset: '42' }, added(1))])
      .when({ amount: 99 })
      .thenThrows(Error, (error) => expect(error.message).toBe('total is 2, positions ,42'));
  });

  describe('then', () => {
    it('fails when other events are decided', () => {
      expect(() => spec.given([]).when({ amount: 1 }).then([added(2)])).toThrow();
    });

    it('fails when more events are expected', () => {
      expect(() => spec.given([]).when({ amount: 1 }).then([added(1), added(1)])).toThrow();
    });

    it('fails when decide throws', () => {
      expect(() => spec.given([]).when({ amount: -1 }).then([])).toThrow(NegativeAmountError);
    });
  });

  describe('thenNothingHappened', () => {
    it('passes when no events are decided', () => {
      spec.given([added(1)]).when({ amount: 0 }).thenNothingHappened();
    });

    it('fails when events are decided', () => {
      expect(() => spec.given([]).when({ amount: 1 }).thenNothingHappened()).toThrow();
    });
  });

  describe('thenThrows', () => {
    it('passes for the error class and returns the error', () => {
      const error = spec.given([]).when({ amount: -1 }).thenThrows(NegativeAmountError);
      expect(error.message).toBe('amount must not be negative (got -1)');
    });

    it('passes for a base class of the error', () => {
      spec.given([]).when({ amount: -1 }).thenThrows(DomainError);
    });

    it('passes for the error code', () => {
      spec.given([]).when({ amount: -1 }).thenThrows('COUNTER.NEGATIVE');
    });

    it('fails for another error class', () => {
      expect(() => spec.given([]).when({ amount: 99 }).thenThrows(NegativeAmountError)).toThrow(
        'expected decide to throw an instance of NegativeAmountError, but it threw Error: total is 0',
      );
    });

    it('fails for another code', () => {
      expect(() => spec.given([]).when({ amount: -1 }).thenThrows('COUNTER.OTHER')).toThrow(
        'expected decide to throw a DomainError with code COUNTER.OTHER, but it threw NegativeAmountError (COUNTER.NEGATIVE)',
      );
    });

    it('fails when decide does not throw', () => {
      expect(() => spec.given([]).when({ amount: 1 }).thenThrows(NegativeAmountError)).toThrow(
        'but it returned 1 event(s): [{"type":"Added","data":{"amount":1}}]',
      );
    });

    it('runs the extra assertion on the error and fails with it', () => {
      const check = jest.fn((error: NegativeAmountError) => expect(error.code).toBe('COUNTER.NEGATIVE'));
      spec.given([]).when({ amount: -1 }).thenThrows(NegativeAmountError, check);
      expect(check).toHaveBeenCalledTimes(1);
      expect(() =>
        spec
          .given([])
          .when({ amount: -1 })
          .thenThrows(NegativeAmountError, (error) => expect(error.message).toBe('something else')),
      ).toThrow();
    });
  });
});
