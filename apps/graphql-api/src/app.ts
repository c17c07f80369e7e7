import { CassandraConfig } from '@parley/cassandra';
import { ConfigError, envDefault, loadConfig } from '@parley/config';
import { RedisConfig } from '@parley/redis';
import { Controller, Get, Header, Module, type DynamicModule, type INestApplication, type LogLevel } from '@nestjs/common';
import { ModuleRef, NestFactory } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { assertNotTooComplex, MAX_DEPTH } from './edge/complexity';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { GraphQLError } from 'graphql';
import { join } from 'node:path';
import { createContext } from './api-context';
import { ApiService } from './api.service';
import { API_SETTINGS, GraphqlApiConfig, type GraphqlApiSettings } from './graphql-api.config';
import { attachGraphqlWs } from './graphql-ws.server';
import { publicError } from './errors';
import { apiMetrics, metricsText, METRICS_CONTENT_TYPE } from './metrics/api-metrics';
import { buildResolvers } from './resolvers';

export const SCHEMA_PATH = join(__dirname, 'schema', 'parley.graphql');

@Controller('metrics')
class MetricsController {
  @Get()
  @Header('content-type', METRICS_CONTENT_TYPE)
  metrics() {
    return metricsText();
  }
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly modules: ModuleRef,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready while Cassandra, Redis, Kafka and the command service answer (503 naming the one that does not). */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.modules.get(ApiService, { strict: false }).dependencies()]);
  }
}

/**
 * Mercurius reports a request it refused before executing (syntax, validation, depth) as one
 * error wrapping the GraphQL errors it found: those are the client's, each with its own message
 * and without a cause, so `publicError` shows each as BAD_USER_INPUT (not the wrapper as one INTERNAL).
 */
function requestErrors(error: GraphQLError): GraphQLError[] {
  const found = (error.originalError as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(found)) return [error];
  return found.map((e: unknown) => {
    const { message, nodes, extensions } = e instanceof GraphQLError ? e : new GraphQLError(String((e as Error)?.message ?? e));
    return new GraphQLError(message, { nodes, extensions });
  });
}

@Module({})
class GraphqlApiModule {
  static forRoot(settings: GraphqlApiSettings): DynamicModule {
    const settingsProvider = { provide: API_SETTINGS, useValue: settings };
    return {
      module: GraphqlApiModule,
      imports: [
        TerminusModule,
        GraphQLModule.forRootAsync<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          imports: [ApiModule.forRoot(settingsProvider)],
          inject: [ApiService],
          useFactory: (api: ApiService) => ({
            typePaths: [SCHEMA_PATH],
            resolvers: buildResolvers(api),
            path: '/graphql',
            graphiql: false,
            jit: 1,
            subscription: false,
            queryDepth: MAX_DEPTH,
            hooks: { preExecution: (schema, document, _context, variables) => assertNotTooComplex(schema, document, variables) },
            context: (request: { headers: Record<string, string | undefined> }) => {
              apiMetrics.requests.inc({ transport: 'http' });
              return createContext(api, request.headers.authorization);
            },
            errorFormatter: (execution) => {
              const errors = (execution.errors ?? []).flatMap(requestErrors).map((e) => publicError(e).toJSON());
              return { statusCode: 200, response: { data: execution.data ?? null, errors } };
            },
          }),
        }),
      ],
      controllers: [HealthController, MetricsController],
    };
  }
}

@Module({})
class ApiModule {
  static forRoot(settingsProvider: { provide: symbol; useValue: GraphqlApiSettings }): DynamicModule {
    return { module: ApiModule, providers: [settingsProvider, ApiService], exports: [ApiService] };
  }
}

export function loadApiSettings(env: NodeJS.ProcessEnv = process.env): GraphqlApiSettings {
  const api = loadConfig(GraphqlApiConfig, env);
  assertTokensVerifiable(api);
  return { api, cassandra: loadConfig(CassandraConfig, env), redis: loadConfig(RedisConfig, env) };
}

/** Refuses settings under which anyone could mint tokens, or nothing could verify them (docs/adr/0017). */
function assertTokensVerifiable(api: GraphqlApiConfig): void {
  if (api.mode !== 'development' && api.jwtSecret === envDefault('JWT_SECRET')) {
    throw new ConfigError(
      'JWT_SECRET is the public development default, so anyone could sign tokens (an admin one included). Set JWT_SECRET to a secret of your own (16+ characters), or JWT_SECRET= with JWT_JWKS_URL and JWT_ISSUER for your identity provider; PARLEY_MODE=development allows the default on a machine of your own.',
    );
  }
  if (!api.jwtSecret && !api.jwtJwksUrl) throw new ConfigError('No way to verify tokens: set JWT_SECRET (HS256) or JWT_JWKS_URL with JWT_ISSUER (an OIDC provider).');
  if (api.jwtJwksUrl && !api.jwtIssuer) throw new ConfigError('JWT_JWKS_URL needs JWT_ISSUER: the issuer whose keys those are (the `iss` every token must carry).');
}

export async function createGraphqlApi(settings: GraphqlApiSettings, logger: LogLevel[] = ['error', 'warn', 'log']): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(GraphqlApiModule.forRoot(settings), new FastifyAdapter(), { logger });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.init();
  const wss = attachGraphqlWs(app, app.get(ApiService), SCHEMA_PATH);
  const close = app.close.bind(app);
  app.close = async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await close();
  };
  await app.listen(settings.api.port, settings.api.host);
  return app;
}
