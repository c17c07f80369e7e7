import { CassandraConfig } from '@parley/cassandra';
import { Env } from '@parley/config';
import { KafkaConfig } from '@parley/event-log';
import { RedisConfig } from '@parley/redis';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsString, IsUrl, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';

/** The API's own settings; the Kafka ones (topic, brokers) because `events` reads the log and the topic namespaces Redis. */
export class GraphqlApiConfig extends KafkaConfig {
  @Env('API_PORT')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(65535)
  port!: number;

  @Env('HTTP_HOST')
  @IsString()
  host!: string;

  @Env('PARLEY_MODE')
  @IsIn(['production', 'development'], { message: 'PARLEY_MODE must be production or development' })
  mode!: 'production' | 'development';

  @Env('JWT_SECRET')
  @ValidateIf((config: GraphqlApiConfig) => config.jwtSecret !== '')
  @MinLength(16, { message: 'JWT_SECRET must be empty or at least 16 characters' })
  jwtSecret!: string;

  @Env('JWT_JWKS_URL')
  @ValidateIf((config: GraphqlApiConfig) => config.jwtJwksUrl !== '')
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'JWT_JWKS_URL must be an http(s) URL' })
  jwtJwksUrl!: string;

  @Env('JWT_ISSUER')
  @IsString()
  jwtIssuer!: string;

  @Env('JWT_AUDIENCE')
  @IsString()
  jwtAudience!: string;

  @Env('JWT_LEEWAY_SECONDS')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(300)
  jwtLeewaySeconds!: number;

  @Env('COMMAND_SERVICE_GRPC_URL')
  @Matches(/^[A-Za-z0-9.-]+:\d{1,5}$/, { message: 'COMMAND_SERVICE_GRPC_URL must be host:port' })
  commandServiceUrl!: string;

  @Env('RATE_LIMIT_PER_SECOND')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  rateLimitPerSecond!: number;

  @Env('RATE_LIMIT_BURST')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  rateLimitBurst!: number;

  @Env('WS_MAX_PAYLOAD_BYTES')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1024)
  wsMaxPayloadBytes!: number;

  @Env('WS_MAX_OPERATIONS_PER_SOCKET')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  wsMaxOperationsPerSocket!: number;

  @Env('WS_MAX_SOCKETS_PER_USER')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  wsMaxSocketsPerUser!: number;

  @Env('SUBSCRIPTION_QUEUE_LIMIT')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  subscriptionQueueLimit!: number;

  @Env('CONSISTENCY_TIMEOUT_MS')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  consistencyTimeoutMs!: number;
}

export interface GraphqlApiSettings {
  readonly api: GraphqlApiConfig;
  readonly cassandra: CassandraConfig;
  readonly redis: RedisConfig;
}

export const API_SETTINGS = Symbol('API_SETTINGS');
