import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { OpenApiController, OpenApiDocument } from './openapi.controller';

@Module({ imports: [DiscoveryModule], controllers: [OpenApiController], providers: [OpenApiDocument] })
export class OpenApiModule {}
