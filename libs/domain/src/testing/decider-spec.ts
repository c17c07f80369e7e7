import type { Decider } from '../decider';
import { DomainError } from '../domain-errors';
import type { LogPosition } from '../log-position';

/**
 * Given/when/then for deciders, after emmett's DeciderSpecification:
 *
 *   const spec = DeciderSpecification.for(conversationDecider);
 *   spec.given([created, atPosition({ partition: 0, offset: '7' }, messageSent)])
 *     .when(markRead)
 *     .then([readMarkerMoved]);
 *
 * The history is folded with `evolve` from `initialState()`; an entry wrapped by `atPosition`
 * is evolved with that log position, a bare event without one.
 * Assertions use Jest's global `expect` (for its diffs), so this is for Jest tests only; it is
 * kept out of the library's index so that production code never reaches it.
 */

export type PositionedEvent<Event> = { readonly event: Event; readonly position: LogPosition };
export type HistoryEntry<Event> = Event | PositionedEvent<Event>;

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

export function atPosition<Event>(position: LogPosition, event: Event): PositionedEvent<Event> {
  return { event, position };
}

export class DeciderSpecification<Command, State, Event> {
  private constructor(private readonly decider: Decider<Command, State, Event>) {}

  static for<Command, State, Event>(
    decider: Decider<Command, State, Event>,
  ): DeciderSpecification<Command, State, Event> {
    return new DeciderSpecification(decider);
  }

  given(history: readonly HistoryEntry<Event>[]): GivenHistory<Command, State, Event> {
    return new GivenHistory(this.decider, history);
  }
}

export class GivenHistory<Command, State, Event> {
  constructor(
    private readonly decider: Decider<Command, State, Event>,
    private readonly history: readonly HistoryEntry<Event>[],
  ) {}

  when(command: Command): Decision<Command, State, Event> {
    return new Decision(this.decider, foldHistory(this.decider, this.history), command);
  }
}

export class Decision<Command, State, Event> {
  constructor(
    private readonly decider: Decider<Command, State, Event>,
    private readonly state: State,
    private readonly command: Command,
  ) {}

  then(expectedEvents: readonly Event[]): void {
    expect(this.decider.decide(this.command, this.state)).toStrictEqual(expectedEvents);
  }

  /** The command is accepted and changes nothing: a no-op or an idempotent retry. */
  thenNothingHappened(): void {
    this.then([]);
  }

  /** Passes when decide throws an instance of the class, or a DomainError with the code; returns the error. */
  thenThrows<E extends Error>(expected: ErrorClass<E>, assert?: (error: E) => void): E;
  thenThrows(expectedCode: string, assert?: (error: DomainError) => void): DomainError;
  thenThrows(expected: ErrorClass<Error> | string, assert?: (error: never) => void): Error {
    const wanted =
      typeof expected === 'string' ? `a DomainError with code ${expected}` : `an instance of ${expected.name}`;
    let events: Event[];
    try {
      events = this.decider.decide(this.command, this.state);
    } catch (error) {
      const matches =
        typeof expected === 'string'
          ? error instanceof DomainError && error.code === expected
          : error instanceof expected;
      if (!matches) {
        throw new Error(`expected decide to throw ${wanted}, but it threw ${describeThrown(error)}`);
      }
      assert?.(error as never);
      return error as Error;
    }
    throw new Error(
      `expected decide to throw ${wanted}, but it returned ${events.length} event(s): ${JSON.stringify(events)}`,
    );
  }
}

function foldHistory<Command, State, Event>(
  decider: Decider<Command, State, Event>,
  history: readonly HistoryEntry<Event>[],
): State {
  return history.reduce<State>(
    (state, entry) =>
      isPositioned(entry) ? decider.evolve(state, entry.event, entry.position) : decider.evolve(state, entry),
    decider.initialState(),
  );
}

function isPositioned<Event>(entry: HistoryEntry<Event>): entry is PositionedEvent<Event> {
  return typeof entry === 'object' && entry !== null && 'event' in entry && 'position' in entry;
}

function describeThrown(error: unknown): string {
  if (error instanceof DomainError) return `${error.name} (${error.code}): ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
