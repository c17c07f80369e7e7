import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';
import { HealthCheck, HealthCheckService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ConversationStateStore } from '../conversation-state/conversation-state.store';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly store: ConversationStateStore,
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

  /** Ready once the follower has caught up with the log (commands are decided on current state). */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      async (): Promise<HealthIndicatorResult> => ({
        eventLog: { status: this.store.isFollowing ? 'up' : 'down', conversations: this.store.conversationCount },
      }),
    ]);
  }
}
