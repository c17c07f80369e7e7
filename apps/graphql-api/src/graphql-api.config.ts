import { CassandraConfig } from '@parley/cassandra';
import { Env } from '@parley/config';
import { RedisConfig } from '@parley/redis';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';

export class GraphqlApiConfig {
  @Env('API_PORT')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(65535)
  port!: number;

  @Env('HTTP_HOST')
  @IsString()
  host!: string;

  @Env('JWT_SECRET')
  @MinLength(16, { message: 'JWT_SECRET must be at least 16 characters' })
  jwtSecret!: string;

  @Env('COMMAND_SERVICE_GRPC_URL')
  @Matches(/^[A-Za-z0-9.-]+:\d{1,5}$/, { message: 'COMMAND_SERVICE_GRPC_URL must be host:port' })
  commandServiceUrl!: string;

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
