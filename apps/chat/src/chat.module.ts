import { Module } from '@nestjs/common';

/** The chat service: see the README's architecture section. */
@Module({})
export class ChatModule {}
