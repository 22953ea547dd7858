import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FunctionDirectory } from '@chatfn/function-directory';
import { MessageBus } from '@chatfn/messaging';
import { ChatEventConsumer } from './routing/chat-event.consumer';

/** The router service: chat events → invocation requests for the enabled non-blocking functions. */
@Module({
  providers: [
    {
      provide: FunctionDirectory,
      inject: [DataSource, MessageBus],
      useFactory: async (ds: DataSource, bus: MessageBus) => {
        const d = new FunctionDirectory(ds, bus);
        await d.start();
        return d;
      },
    },
    ChatEventConsumer,
  ],
})
export class RouterModule {}
