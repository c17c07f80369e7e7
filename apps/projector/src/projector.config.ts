import { CassandraConfig } from '@parley/cassandra';
import { Env } from '@parley/config';
import { KafkaConfig } from '@parley/event-log';
import { RedisConfig } from '@parley/redis';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Max, Min } from 'class-validator';

export class ProjectorConfig extends KafkaConfig {
  @Env('PROJECTOR_HTTP_PORT')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(65535)
  httpPort!: number;

  @Env('HTTP_HOST')
  @IsString()
  httpHost!: string;

  @Env('PROJECTOR_CHUNK_SIZE')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  @Max(5000)
  chunkSize!: number;

  @Env('PROJECTOR_REBUILD_CHUNK_SIZE')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  @Max(20000)
  rebuildChunkSize!: number;
}

/** Everything the projector reads: its own settings plus the three stores. */
export interface ProjectorSettings {
  readonly projector: ProjectorConfig;
  readonly cassandra: CassandraConfig;
  readonly redis: RedisConfig;
}
