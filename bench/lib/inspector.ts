import WebSocket from 'ws';

/** What `process.memoryUsage()` says inside the process, bytes. */
export interface HeapUsage {
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/**
 * A full garbage collection in another Node process started with `--inspect=127.0.0.1:<port>`
 * (the DevTools protocol's HeapProfiler.collectGarbage), then its `process.memoryUsage()`.
 */
export async function collectGarbage(port: number, timeoutMs = 30_000): Promise<HeapUsage> {
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  const timer = setTimeout(() => ws.terminate(), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let nextId = 0;
    const call = (method: string, params: object = {}) =>
      new Promise<{ result?: { value?: unknown } }>((resolve, reject) => {
        const id = ++nextId;
        const onMessage = (data: WebSocket.RawData) => {
          const message = JSON.parse(data.toString()) as { id?: number; result?: { result?: { value?: unknown } }; error?: { message: string } };
          if (message.id !== id) return;
          ws.off('message', onMessage);
          if (message.error) reject(new Error(`${method}: ${message.error.message}`));
          else resolve(message.result ?? {});
        };
        ws.on('message', onMessage);
        ws.once('close', () => reject(new Error(`${method}: the inspector connection closed`)));
        ws.send(JSON.stringify({ id, method, params }));
      });
    await call('HeapProfiler.collectGarbage');
    const usage = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    return JSON.parse(String(usage.result?.value)) as HeapUsage;
  } finally {
    clearTimeout(timer);
    ws.close();
  }
}
