import { Module } from '@nestjs/common';
import { ChatCoreModule } from '../shared/chat-core.module';
import { JobHandlers } from './job-handlers';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

/**
 * Background jobs (imports) and the JobsApi. Feature modules import this module and register handlers with
 * `JobHandlers`; `JobsService.create` queues a job.
 */
@Module({
  imports: [ChatCoreModule],
  controllers: [JobsController],
  providers: [JobHandlers, JobsService],
  exports: [JobHandlers, JobsService],
})
export class JobsModule {}
