import {
  BeforeApplicationShutdown,
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ChatfnConfig } from '@chatfn/config';
import { EventStore, OutboxRelay } from '@chatfn/event-store';
import { MessageBus } from '@chatfn/messaging';
import { ApplicationAuthGuard } from './auth.guard';
import { HealthController } from './health.controller';
import { InstallationSecrets } from './secrets';
import { TokenService } from './token.service';
import { postgresConnection } from './postgres-connection';

export const SECRETS = Symbol('InstallationSecrets');
export const SERVICE_NAME = Symbol('ServiceName');

export interface PlatformOptions {
  /** Name of the service(s) in this process, used as the bus producer name and in logs. */
  service: string;
  config: ChatfnConfig;
  databaseUrl: string;
  bus: MessageBus;
  secrets: InstallationSecrets;
}

/** Starts the outbox relay once the app is up and stops it (after a final flush) before the bus goes. */
@Injectable()
class PlatformLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly relay: OutboxRelay,
    private readonly bus: MessageBus,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }
  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.bus.stop();
  }
}

/**
 * Infrastructure every service shares: typed config, the database (TypeORM, migrations run before start-up),
 * the bus, the event store with its outbox relay, access tokens and health endpoints.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(opts: PlatformOptions): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          ...postgresConnection(opts.databaseUrl),
          autoLoadEntities: true,
          synchronize: false,
          migrationsRun: false,
          extra: { max: 20 },
        }),
      ],
      controllers: [HealthController],
      providers: [
        { provide: ChatfnConfig, useValue: opts.config },
        { provide: MessageBus, useValue: opts.bus },
        { provide: SECRETS, useValue: opts.secrets },
        { provide: SERVICE_NAME, useValue: opts.service },
        {
          provide: TokenService,
          useFactory: () => new TokenService(opts.secrets.tokenSecret, opts.config.env.CHATFN_TOKEN_TTL_SECONDS),
        },
        { provide: EventStore, inject: [DataSource], useFactory: (ds: DataSource) => new EventStore(ds) },
        {
          provide: OutboxRelay,
          inject: [DataSource, MessageBus],
          useFactory: (ds: DataSource, bus: MessageBus) => new OutboxRelay(ds, bus, { lingerMs: opts.config.env.CHATFN_OUTBOX_LINGER_MS }),
        },
        ApplicationAuthGuard,
        PlatformLifecycle,
      ],
      exports: [ChatfnConfig, MessageBus, SECRETS, SERVICE_NAME, TokenService, EventStore, OutboxRelay, ApplicationAuthGuard],
    };
  }
}

export const InjectSecrets = () => Inject(SECRETS);
