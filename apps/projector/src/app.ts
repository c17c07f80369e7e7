import { Module, type DynamicModule, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { ProjectorSettings } from './projector.config';
import { ProjectorController } from './projector.controller';
import { ProjectorService } from './projector.service';
import { PROJECTOR_SETTINGS } from './projector.tokens';

@Module({})
class ProjectorModule {
  static forRoot(settings: ProjectorSettings): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [TerminusModule],
      controllers: [ProjectorController],
      providers: [{ provide: PROJECTOR_SETTINGS, useValue: settings }, ProjectorService],
    };
  }
}

export async function createProjector(settings: ProjectorSettings, logger: LogLevel[] = ['error', 'warn', 'log']): Promise<INestApplication> {
  const app = await NestFactory.create(ProjectorModule.forRoot(settings), { logger });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(settings.projector.httpPort, settings.projector.httpHost);
  return app;
}
