import { Observable } from 'rxjs';
import type { CommandMethod } from './owner-forwarder';
import { failureOf, type CommandFailure } from './grpc-errors';

/**
 * The `Commands` stream's frames as @grpc/proto-loader gives and takes them (`oneofs: true`):
 * the oneof's member is a field of its own name, and `command` names the one that is set.
 * (The generated types describe the same messages with ts-proto's `$case` unions instead.)
 */
export interface WireEnvelope {
  readonly id: number;
  readonly command?: CommandMethod;
  readonly [request: string]: unknown;
}
export interface WireOutcome {
  readonly id: number;
  readonly error?: CommandFailure;
  readonly [response: string]: unknown;
}
export interface WireCommandFrame {
  readonly commands?: readonly WireEnvelope[];
}
export interface WireOutcomeFrame {
  readonly outcomes: readonly WireOutcome[];
}

export type ExecuteCommand = (method: CommandMethod, request: object) => Promise<object>;

/**
 * Serves one caller's stream: every command of a frame runs at once (each is ordered by its
 * partition's writer, as a unary call is), and the outcomes that settle in the same turn of
 * the event loop go back in one frame. When the caller ends its side, the stream ends once
 * every outcome has been sent.
 */
export function serveCommandStream(frames: Observable<WireCommandFrame>, execute: ExecuteCommand): Observable<WireOutcomeFrame> {
  return new Observable<WireOutcomeFrame>((subscriber) => {
    let outcomes: WireOutcome[] = [];
    let flushing = false;
    let running = 0;
    let inputEnded = false;
    const flush = () => {
      flushing = false;
      const frame = { outcomes };
      outcomes = [];
      subscriber.next(frame);
      if (inputEnded && running === 0) subscriber.complete();
    };
    const settle = (outcome: WireOutcome) => {
      running--;
      outcomes.push(outcome);
      if (!flushing) {
        flushing = true;
        setImmediate(flush);
      }
    };
    const subscription = frames.subscribe({
      next: (frame) => {
        for (const { id, command, ...rest } of frame.commands ?? []) {
          running++;
          const request = command ? (rest[command] as object | undefined) : undefined;
          if (!command || !request) {
            settle({ id, error: { code: 3, message: 'A command envelope must hold one command', reason: 'COMMAND.INVALID_REQUEST' } });
            continue;
          }
          execute(command, request).then(
            (response) => settle({ id, [command]: response }),
            (err: unknown) => settle({ id, error: failureOf(err) }),
          );
        }
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => {
        inputEnded = true;
        if (running === 0 && !flushing) subscriber.complete();
      },
    });
    return () => subscription.unsubscribe();
  });
}
