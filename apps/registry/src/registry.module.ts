import { Module } from '@nestjs/common';

/** The registry service: see the README's architecture section. */
@Module({})
export class RegistryModule {}
