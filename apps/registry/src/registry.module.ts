import { Module } from '@nestjs/common';
import { FunctionCommandHandler } from './functions/function-command.handler';
import { FunctionsController, FunctionVersionsController } from './functions/functions.controller';
import { FunctionsService } from './functions/functions.service';
import { RegistryConsumers } from './invocations/invocations.consumer';
import { InvocationsService } from './invocations/invocations.service';
import { RuntimeCommandHandler } from './runtime/runtime-command.handler';
import { RuntimeController } from './runtime/runtime.controller';
import { RuntimeService } from './runtime/runtime.service';
import { RegistryLinks } from './shared/registry-http';
import './registry.openapi';

/**
 * The registry service: chat functions and their versions (event-sourced: `function-<id>`), the application's
 * runtime (`runtime-<appId>`), the invocation log. Changes reach the bus only through the outbox.
 */
@Module({
  controllers: [RuntimeController, FunctionsController, FunctionVersionsController],
  providers: [
    RegistryLinks,
    FunctionCommandHandler,
    RuntimeCommandHandler,
    RuntimeService,
    FunctionsService,
    InvocationsService,
    RegistryConsumers,
  ],
  exports: [FunctionsService, RuntimeService],
})
export class RegistryModule {}
