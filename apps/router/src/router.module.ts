import { Module } from '@nestjs/common';

/** The router service: see the README's architecture section. */
@Module({})
export class RouterModule {}
