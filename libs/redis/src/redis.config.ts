import { Env } from '@parley/config';
import { Matches } from 'class-validator';

export class RedisConfig {
  @Env('REDIS_URL')
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must look like redis://host:port[/db]' })
  url!: string;
}
