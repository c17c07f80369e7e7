import type { WireCommandsRequest, WireCommandsResponse } from '@parley/proto';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { serveCommandStream } from './command-stream';
import { invalidArgument } from './grpc-errors';

describe('serveCommandStream', () => {
  it('runs every command of a frame, answers each by id (rejections as CommandError), and ends after the last outcome', async () => {
    const frames = new Subject<WireCommandsRequest>();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const responses = lastValueFrom(
      serveCommandStream(frames, async (_method, request) => {
        const body = (request as { body: string }).body;
        started.push(body);
        if (body === 'slow') await slow;
        if (body === '') throw invalidArgument('body: must not be empty', 'body');
        return { appended: true, body };
      }).pipe(toArray()),
    );
    frames.next({ commands: [{ id: 1, command: 'sendMessage', sendMessage: { body: 'slow' } }, { id: 2, command: 'sendMessage', sendMessage: { body: '' } }, { id: 3 }] });
    frames.next({ commands: [{ id: 4, command: 'sendMessage', sendMessage: { body: 'fast' } }] });
    frames.complete(); // the caller is done sending; the stream stays open for the outcome of 1
    expect(started).toEqual(['slow', '', 'fast']);
    setImmediate(release);
    const outcomes = (await responses).flatMap((r: WireCommandsResponse) => r.outcomes);
    expect(outcomes).toEqual([
      { id: 3, error: { code: 3, message: 'A command envelope must hold one command', reason: 'COMMAND.INVALID_REQUEST' } },
      { id: 2, error: { code: 3, message: 'body: must not be empty', reason: 'COMMAND.INVALID_REQUEST', field: 'body' } },
      { id: 4, sendMessage: { appended: true, body: 'fast' } },
      { id: 1, sendMessage: { appended: true, body: 'slow' } },
    ]);
  });
});
