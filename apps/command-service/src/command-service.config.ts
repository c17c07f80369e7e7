import { Env } from '@parley/config';
import { KafkaConfig } from '@parley/event-log';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';

export class CommandServiceConfig extends KafkaConfig {
  @Env('COMMAND_SERVICE_GRPC_URL')
  @Matches(/^[A-Za-z0-9.-]+:\d{1,5}$/, { message: 'COMMAND_SERVICE_GRPC_URL must be host:port' })
  grpcUrl!: string;

  @Env('COMMAND_SERVICE_ADVERTISED_URL')
  @Matches(/^([A-Za-z0-9.-]+:\d{1,5})?$/, { message: 'COMMAND_SERVICE_ADVERTISED_URL must be host:port or empty' })
  advertisedUrlSetting!: string;

  /** Where other instances forward commands of this instance's partitions. */
  get advertisedUrl(): string {
    return this.advertisedUrlSetting || this.grpcUrl;
  }

  @Env('COMMAND_SERVICE_HTTP_PORT')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(65535)
  httpPort!: number;

  @Env('HTTP_HOST')
  @IsString()
  httpHost!: string;

  @Env('COMMAND_FENCING')
  @IsIn(['lease', 'transaction'], { message: 'COMMAND_FENCING must be lease or transaction' })
  fencing!: 'lease' | 'transaction';

  @Env('COMMAND_TIMEOUT_MS')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(100)
  commandTimeoutMs!: number;

  /** Conversations held in memory per owned partition; the least recently used beyond go to snapshots (docs/adr/0016). */
  @Env('COMMAND_STATE_MAX_CONVERSATIONS')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  maxConversationsPerPartition!: number;

  /** How often each partition writer saves a checkpoint, when anything changed (docs/adr/0016). */
  @Env('COMMAND_CHECKPOINT_INTERVAL_MS')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(10)
  checkpointIntervalMs!: number;
}
