import { Env } from '@parley/config';
import { KafkaConfig } from '@parley/event-log';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';

export class CommandServiceConfig extends KafkaConfig {
  @Env('COMMAND_SERVICE_GRPC_URL')
  @Matches(/^[A-Za-z0-9.-]+:\d{1,5}$/, { message: 'COMMAND_SERVICE_GRPC_URL must be host:port' })
  grpcUrl!: string;

  @Env('COMMAND_SERVICE_HTTP_PORT')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(65535)
  httpPort!: number;

  @Env('HTTP_HOST')
  @IsString()
  httpHost!: string;

  @Env('COMMAND_TIMEOUT_MS')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(100)
  commandTimeoutMs!: number;
}
