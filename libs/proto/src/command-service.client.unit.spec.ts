import { loadPackageDefinition, Server, ServerCredentials, status, type ServerDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { createStreamedCommandServiceClient, PROTO_LOADER_OPTIONS, type CommandServiceClient } from './command-service.client';
import { COMMAND_SERVICE_PROTO, protoRoot } from './proto-root';

type Frame = { commands: Array<{ id: number; command: string; sendMessage?: { body: string } }> };
type Stream = ServerDuplexStream<Frame, unknown>;

/** A bare gRPC server with the command service's definition whose `Commands` stream each test scripts. */
async function scriptedServer(onStream: (stream: Stream) => void): Promise<{ url: string; stop: () => void }> {
  const definition = loadSync(join(protoRoot(), COMMAND_SERVICE_PROTO), { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const service = (loadPackageDefinition(definition) as any).parley.commands.v1.CommandService.service;
  const server = new Server();
  server.addService(service, { commands: onStream });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { url: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

const send = (client: CommandServiceClient, body: string, deadlineMs?: number) =>
  client.sendMessage({ context: { actorId: 'u', commandId: body, correlationId: '' }, conversationId: 'g_1', body, clientMessageId: body }, { deadlineMs });

const failure = (call: Promise<unknown>) => call.then(() => Promise.reject(new Error('expected a failure')), (err: ServiceError) => err);

describe('the streamed command-service client', () => {
  let stop = () => {};
  let client: CommandServiceClient | undefined;
  afterEach(() => {
    client?.close();
    stop();
  });

  it('sends the commands of one turn in one frame and matches outcomes to them by id, errors included', async () => {
    const frames: Frame[] = [];
    const server = await scriptedServer((stream) =>
      stream.on('data', (frame: Frame) => {
        frames.push(frame);
        // Answered in reverse order, one of them as a rejection with the trailers' fields.
        const outcomes = [...frame.commands].reverse().map(({ id, sendMessage }) =>
          sendMessage!.body === 'bad'
            ? { id, error: { code: status.INVALID_ARGUMENT, message: 'body: must not be empty', reason: 'COMMAND.INVALID_REQUEST', field: 'body' } }
            : { id, sendMessage: { message: { id: `m-${sendMessage!.body}`, body: sendMessage!.body }, appended: true } },
        );
        stream.write({ outcomes });
      }),
    );
    stop = server.stop;
    client = createStreamedCommandServiceClient(server.url);
    const [one, bad, two] = await Promise.allSettled([send(client, 'one'), send(client, 'bad'), send(client, 'two')]);
    expect(frames.map((f) => f.commands.map((c) => c.sendMessage!.body))).toEqual([['one', 'bad', 'two']]);
    expect(one).toMatchObject({ status: 'fulfilled', value: { message: { id: 'm-one', body: 'one' }, appended: true } });
    expect(two).toMatchObject({ status: 'fulfilled', value: { message: { id: 'm-two' } } });
    const err = (bad as PromiseRejectedResult).reason as ServiceError;
    expect([err.code, err.details, err.metadata.get('parley-code'), err.metadata.get('parley-field')]).toEqual([
      status.INVALID_ARGUMENT,
      'body: must not be empty',
      ['COMMAND.INVALID_REQUEST'],
      ['body'],
    ]);
  });

  it('fails the commands of a stream that breaks as UNAVAILABLE, and opens a new stream for the next command', async () => {
    let streams = 0;
    const server = await scriptedServer((stream) => {
      const nth = ++streams;
      stream.on('data', (frame: Frame) => {
        if (nth === 1) stream.emit('error', { code: status.INTERNAL, details: 'gone' });
        else stream.write({ outcomes: frame.commands.map(({ id }) => ({ id, sendMessage: { appended: true } })) });
      });
    });
    stop = server.stop;
    client = createStreamedCommandServiceClient(server.url);
    const err = await failure(send(client, 'lost'));
    expect(err.code).toBe(status.UNAVAILABLE);
    await expect(send(client, 'after')).resolves.toMatchObject({ appended: true });
    expect(streams).toBe(2);
  });

  it('fails a command that gets no outcome by its deadline with DEADLINE_EXCEEDED, and still matches later outcomes', async () => {
    const server = await scriptedServer((stream) =>
      stream.on('data', (frame: Frame) => {
        const answered = frame.commands.filter((c) => c.sendMessage!.body !== 'never');
        stream.write({ outcomes: answered.map(({ id }) => ({ id, sendMessage: { appended: true } })) });
      }),
    );
    stop = server.stop;
    client = createStreamedCommandServiceClient(server.url);
    const err = await failure(send(client, 'never', 200));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    await expect(send(client, 'answered')).resolves.toMatchObject({ appended: true });
  });
});
