import { Env } from '@parley/config';
import { Transform } from 'class-transformer';
import { ArrayNotEmpty, IsInt, IsString, Matches, Max, Min } from 'class-validator';

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

export class KafkaConfig {
  @Env('KAFKA_BROKERS')
  @Transform(({ value }) => String(value).split(',').map((b: string) => b.trim()).filter(Boolean))
  @ArrayNotEmpty()
  @Matches(HOST_PORT, { each: true, message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
  brokers!: string[];

  @Env('KAFKA_CLIENT_ID')
  @IsString()
  clientId!: string;

  @Env('EVENTS_TOPIC')
  @Matches(/^[A-Za-z0-9._-]{1,249}$/, { message: 'EVENTS_TOPIC must be a valid Kafka topic name' })
  eventsTopic!: string;

  @Env('EVENTS_TOPIC_PARTITIONS')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  @Max(1000)
  eventsTopicPartitions!: number;
}
