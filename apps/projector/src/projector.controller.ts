import { Controller, Get, Header } from '@nestjs/common';
import { Gauge, register } from 'prom-client';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ProjectorService } from './projector.service';

const lagEvents = new Gauge({ name: 'parley_projection_lag_events', help: 'Events in the log not yet applied', labelNames: ['projection'] as const });
const lagSeconds = new Gauge({ name: 'parley_projection_lag_seconds', help: 'Age of the oldest unapplied event (approximate)', labelNames: ['projection'] as const });
const processed = new Gauge({ name: 'parley_projection_events_processed', help: 'Events processed since start', labelNames: ['projection'] as const });
const failed = new Gauge({ name: 'parley_projection_failed', help: '1 when the projection is FAILED', labelNames: ['projection'] as const });

@Controller()
export class ProjectorController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly projector: ProjectorService,
  ) {}

  @Get('health/live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready when every projection runs; a FAILED projection makes the projector not ready. */
  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      async () => {
        const statuses = await this.projector.statuses();
        const failed = statuses.filter((s) => s.state === 'FAILED');
        return { projections: { status: this.projector.ready && failed.length === 0 ? 'up' : 'down', failed: failed.map((s) => `${s.name}: ${s.error}`) } };
      },
    ]);
  }

  /** Prometheus metrics: lag, progress and failure per projection. */
  @Get('metrics')
  @Header('content-type', register.contentType)
  async metrics() {
    for (const s of await this.projector.statuses()) {
      lagEvents.set({ projection: s.name }, s.lagEvents);
      lagSeconds.set({ projection: s.name }, s.lagSeconds);
      processed.set({ projection: s.name }, s.eventsProcessed);
      failed.set({ projection: s.name }, s.state === 'FAILED' ? 1 : 0);
    }
    return register.metrics();
  }

  /** Version, state, events processed and lag per projection. */
  @Get('projections')
  projections() {
    return this.projector.statuses();
  }
}
