import { Module } from '@nestjs/common';
import { ChatCoreModule } from '../shared/chat-core.module';
import { AdminApplicationsController } from './admin.controller';
import { AdminGuard } from './admin.guard';
import { ApplicationController } from './application.controller';
import { BootstrapApplicationHook } from './bootstrap-application.hook';
import { ReadReceiptSummariesService } from './read-receipt-summaries.service';

@Module({
  imports: [ChatCoreModule],
  controllers: [AdminApplicationsController, ApplicationController],
  providers: [AdminGuard, BootstrapApplicationHook, ReadReceiptSummariesService],
})
export class ApplicationsModule {}
