import { Module } from '@nestjs/common';

/** The builder service: see the README's architecture section. */
@Module({})
export class BuilderModule {}
