import { Module } from '@nestjs/common';

/** The executor service: see the README's architecture section. */
@Module({})
export class ExecutorModule {}
