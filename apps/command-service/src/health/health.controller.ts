import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';
import { HealthCheck, HealthCheckService, type HealthIndicatorResult } from '@nestjs/terminus';
import { PartitionWriters } from '../writer/partition-writers';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly writers: PartitionWriters,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Prometheus metrics (commands by type and outcome, their duration). */
  @Get('/metrics')
  @Header('content-type', register.contentType)
  metrics() {
    return register.metrics();
  }

  /** Ready once this instance owns partitions and has read them (commands are decided on current state). */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      async (): Promise<HealthIndicatorResult> => ({
        eventLog: {
          status: this.writers.isReady ? 'up' : 'down',
          partitions: this.writers.partitions,
          conversations: this.writers.conversationCount,
          checkpointed: this.writers.isCheckpointed,
        },
      }),
    ]);
  }
}
