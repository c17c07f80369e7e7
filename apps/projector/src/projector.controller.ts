import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ProjectorService } from './projector.service';

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

  /** Version, state, events processed and lag per projection. */
  @Get('projections')
  projections() {
    return this.projector.statuses();
  }
}
