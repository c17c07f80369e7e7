import type { CommandMethod, WireCommandsRequest, WireCommandsResponse, WireOutcome } from '@parley/proto';
import { Observable } from 'rxjs';
import { failureOf } from './grpc-errors';

export type ExecuteCommand = (method: CommandMethod, request: object) => Promise<object>;

/**
 * Serves one caller's stream: every command of a frame runs at once (each is ordered by its
 * partition's writer, as a unary call is), and the outcomes that settle in the same turn of
 * the event loop go back in one frame. When the caller ends its side, the stream ends once
 * every outcome has been sent.
 */
export function serveCommandStream(frames: Observable<WireCommandsRequest>, execute: ExecuteCommand): Observable<WireCommandsResponse> {
  return new Observable<WireCommandsResponse>((subscriber) => {
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
