import { Env } from '@parley/config';
import { Transform } from 'class-transformer';
import { ArrayNotEmpty, IsInt, IsString, Matches, Max, Min } from 'class-validator';

export class CassandraConfig {
  @Env('CASSANDRA_CONTACT_POINTS')
  @Transform(({ value }) => String(value).split(',').map((p: string) => p.trim()).filter(Boolean))
  @ArrayNotEmpty()
  @Matches(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, { each: true, message: 'CASSANDRA_CONTACT_POINTS must be host[:port],...' })
  contactPoints!: string[];

  @Env('CASSANDRA_LOCAL_DC')
  @IsString()
  localDataCenter!: string;

  @Env('CASSANDRA_KEYSPACE')
  @Matches(/^[a-z][a-z0-9_]{0,47}$/, { message: 'CASSANDRA_KEYSPACE must be a lower-case Cassandra identifier' })
  keyspace!: string;

  @Env('CASSANDRA_REPLICATION_FACTOR')
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  @Max(9)
  replicationFactor!: number;
}
