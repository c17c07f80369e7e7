import { describeValue } from './domain-errors';
import type { LogPosition } from './log-position';

/**
 * One aggregate's behaviour as three pure functions (the emmett / Chassaing "decider").
 * `evolve` gets the event's log position when there is one, because some state
 * (read markers, the last message) is expressed in log positions.
 */
export type Decider<Command, State, Event> = {
  readonly decide: (command: Command, state: State) => Event[];
  readonly evolve: (state: State, event: Event, position?: LogPosition) => State;
  readonly initialState: () => State;
};

/**
 * The `default` branch of a switch over a discriminated union: the `never` parameter makes the
 * compiler reject the switch when a member is added, and the throw covers untyped callers.
 */
export function unreachable(value: never, union: string): never {
  const unhandled: unknown = value;
  const shown =
    typeof unhandled === 'object' && unhandled !== null && 'type' in unhandled ? unhandled.type : unhandled;
  throw new Error(`unhandled ${union} ${describeValue(shown)}`);
}
