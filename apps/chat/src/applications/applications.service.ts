import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { ApiException } from '@chatfn/platform';
import { hashSecret, randomToken, verifySecret } from '../shared/credentials';
import { ApplicationEntity, FeatureSetting } from './application.entity';

export interface ApplicationCredentials {
  id: number;
  name: string;
  client_id: string;
  /** Shown once, at creation; only its hash is stored. */
  client_secret: string;
  api_key: string;
}

/** Applications and their credentials. */
@Injectable()
export class ApplicationsService {
  private readonly logger = new Logger('Applications');

  constructor(@InjectRepository(ApplicationEntity) private readonly apps: Repository<ApplicationEntity>) {}

  async create(name: string, given: { clientId?: string; clientSecret?: string } = {}): Promise<ApplicationCredentials> {
    const clientId = given.clientId ?? randomUUID();
    const clientSecret = given.clientSecret ?? randomToken(32);
    const apiKey = randomToken(24);
    const app = await this.apps.save(
      this.apps.create({ name, clientId, clientSecretHash: await hashSecret(clientSecret), apiKey, properties: {} }),
    );
    return { id: app.id, name: app.name, client_id: clientId, client_secret: clientSecret, api_key: apiKey };
  }

  list(): Promise<ApplicationEntity[]> {
    return this.apps.find({ order: { id: 'ASC' } });
  }

  async get(id: number): Promise<ApplicationEntity> {
    const app = await this.apps.findOneBy({ id });
    if (!app) throw ApiException.notFound('Application', id);
    return app;
  }

  /** The application whose client credentials these are, or undefined (unknown id or wrong secret). */
  async authenticate(clientId: string, clientSecret: string): Promise<ApplicationEntity | undefined> {
    const app = await this.apps.findOneBy({ clientId });
    if (!app) {
      await hashSecret(clientSecret); // same work either way: no timing oracle for client ids
      return undefined;
    }
    return (await verifySecret(clientSecret, app.clientSecretHash)) ? app : undefined;
  }

  /**
   * Start-up bootstrap: creates the application with these credentials, or keeps it (re-hashing the secret when
   * the configured one changed). Safe when several instances start at once.
   */
  async ensure(clientId: string, clientSecret: string, name: string): Promise<ApplicationEntity> {
    await this.apps
      .createQueryBuilder()
      .insert()
      .values({ name, clientId, clientSecretHash: await hashSecret(clientSecret), apiKey: randomToken(24), properties: {} })
      .orIgnore()
      .execute();
    const app = await this.apps.findOneByOrFail({ clientId });
    if (!(await verifySecret(clientSecret, app.clientSecretHash))) {
      app.clientSecretHash = await hashSecret(clientSecret);
      await this.apps.update({ id: app.id }, { clientSecretHash: app.clientSecretHash });
      this.logger.log(`bootstrap application ${app.id}: client secret updated from configuration`);
    }
    return app;
  }

  async updateSettings(
    id: number,
    settings: { guest_users: FeatureSetting; user_created_channels: FeatureSetting },
  ): Promise<ApplicationEntity> {
    await this.apps.update({ id }, { guestUsers: settings.guest_users, userCreatedChannels: settings.user_created_channels });
    return this.get(id);
  }
}
