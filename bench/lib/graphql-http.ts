import { Agent, request } from 'node:http';

export interface GraphqlResponse<T> {
  readonly data?: T;
  readonly errors?: ReadonlyArray<{ message: string; extensions?: { code?: string } }>;
}

/**
 * GraphQL over HTTP POST with keep-alive connections (node:http is lighter than fetch, which
 * matters when the generator shares two cores with the system under test).
 */
export class GraphqlHttp {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512 });

  post<T>(hostPort: string, query: string, variables: Record<string, unknown>, authorization?: string): Promise<GraphqlResponse<T>> {
    const body = JSON.stringify({ query, variables });
    const [host, port] = hostPort.split(':');
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host,
          port: Number(port),
          path: '/graphql',
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(authorization ? { authorization } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as GraphqlResponse<T>);
            } catch {
              reject(new Error(`HTTP ${res.statusCode}: not JSON`));
            }
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30 s')));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The data, or an error naming the first GraphQL error. */
  async data<T>(hostPort: string, query: string, variables: Record<string, unknown>, authorization?: string): Promise<T> {
    const res = await this.post<T>(hostPort, query, variables, authorization);
    if (res.errors?.length || !res.data) throw new Error(`GraphQL error: ${res.errors?.[0]?.message ?? 'no data'} (${res.errors?.[0]?.extensions?.code ?? '-'})`);
    return res.data;
  }

  close(): void {
    this.agent.destroy();
  }
}
